"""Reads of survey definitions."""

from __future__ import annotations

import json
from typing import Any

from cxlens.errors import NotFound
from cxlens.storage.store import Session

_COLUMNS = "survey_key, survey_id, name, title, metric, definition, created_at, updated_at, archived_at"


def survey_record(s: Session, ref: str) -> dict[str, Any]:
    """A survey by name or id, its definition parsed back to a dict."""
    row = s.fetch_one(f"SELECT {_COLUMNS} FROM surveys WHERE name = ? OR survey_id = ?", [ref, ref])
    if row is None:
        raise NotFound(f"No survey named {ref!r}.")
    row["definition"] = json.loads(row["definition"])
    return row


def responses_survey(s: Session, name: str) -> dict[str, Any]:
    """The survey whose responses a page lists: a defined survey by name or id, or else a name that
    only imported responses carry (``imported`` is then true, and there is nothing to edit or send)."""
    try:
        return {**survey_record(s, name), "imported": False}
    except NotFound:
        if not s.fetch_value("SELECT count(*) FROM responses WHERE survey = ?", [name]):
            raise
    return {"survey_key": None, "survey_id": None, "name": name, "title": None, "imported": True,
            "archived_at": None}  # fmt: skip


def list_surveys(s: Session) -> list[dict[str, Any]]:
    return s.fetch_all(
        "SELECT survey_id, name, title, metric, created_at, updated_at, archived_at FROM surveys ORDER BY name"
    )
