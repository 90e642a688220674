"""Typed records of the survey reads that reach the ways in (web, API, CLI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class StoredSurvey:
    """A survey definition as stored: its SurveyJS document parsed back to a dict. (``Survey`` in
    surveys.language is the document's parsed model, questions and all.)"""

    survey_key: int  # internal
    survey_id: str
    name: str
    title: str
    metric: str | None
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None

    def public(self) -> dict[str, Any]:
        shown = asdict(self)
        del shown["survey_key"]
        return shown


@dataclass(frozen=True, slots=True)
class ResponsesOf:
    """Whose responses a page lists: a defined survey, or a name that only imported responses carry
    (``imported``; then there is no key, id or title, and nothing to edit or send)."""

    name: str
    imported: bool
    survey_key: int | None = None
    survey_id: str | None = None
    title: str | None = None
    archived_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Widget:
    """A web widget: one survey shown on the listed origins, with how often it was shown and answered."""

    widget_key: int  # internal
    key: str  # the publishable key cxw_…: public by design, it sits in the brand's page
    survey: str
    survey_key: int  # internal
    origins: tuple[str, ...]
    touchpoint: str | None
    created_at: datetime
    revoked_at: datetime | None
    survey_archived_at: datetime | None
    shown: int
    answered: int

    def public(self) -> dict[str, Any]:
        shown = asdict(self)
        del shown["widget_key"], shown["survey_key"]
        return shown
