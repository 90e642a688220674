"""Reads of survey definitions."""

from __future__ import annotations

import json
from typing import Any

from cxlens.errors import NotFound
from cxlens.storage.store import Session
from cxlens.surveys.records import ResponsesOf, StoredSurvey

_COLUMNS = "survey_key, survey_id, name, title, metric, definition, created_at, updated_at, archived_at"


def access_survey(s: Session, ref: str) -> StoredSurvey:
    """The survey a user names (by name or id); NotFound when there is none."""
    row = s.fetch_one(f"SELECT {_COLUMNS} FROM surveys WHERE name = ? OR survey_id = ?", [ref, ref])
    if row is None:
        raise NotFound(f"No survey named {ref!r}.")
    return StoredSurvey(**{**row, "definition": json.loads(row["definition"])})


def responses_survey(s: Session, name: str) -> ResponsesOf:
    """The survey whose responses a page lists: a defined survey by name or id, or else a name that
    only imported responses carry (``imported`` is then true, and there is nothing to edit or send)."""
    try:
        survey = access_survey(s, name)
    except NotFound:
        if not s.fetch_value("SELECT count(*) FROM responses WHERE survey = ?", [name]):
            raise
        return ResponsesOf(name=name, imported=True)
    return ResponsesOf(
        name=survey.name,
        imported=False,
        survey_key=survey.survey_key,
        survey_id=survey.survey_id,
        title=survey.title,
        archived_at=survey.archived_at,
    )


def list_surveys(s: Session) -> list[dict[str, Any]]:
    return s.fetch_all(
        "SELECT survey_id, name, title, metric, created_at, updated_at, archived_at FROM surveys ORDER BY name"
    )
