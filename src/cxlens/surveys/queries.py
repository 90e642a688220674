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


def list_surveys(s: Session) -> list[dict[str, Any]]:
    return s.fetch_all(
        "SELECT survey_id, name, title, metric, created_at, updated_at, archived_at FROM surveys ORDER BY name"
    )
