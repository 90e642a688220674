"""Use cases on survey definitions: create one (from a template or a SurveyJS document), replace
its definition, archive it. Every definition is validated by ``surveys.definition`` first and stored
as its canonical export, so what is stored is exactly what was validated."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cxlens.errors import Conflict, InvalidInput
from cxlens.storage.keys import insert_row
from cxlens.storage.store import UnitOfWork
from cxlens.surveys.language import Survey, export_survey, parse_survey
from cxlens.surveys.language.parse import SURVEY_NAME, SURVEY_NAME_RULE
from cxlens.surveys.language.templates import TEMPLATES
from cxlens.surveys.queries import access_survey
from cxlens.surveys.records import StoredSurvey


def check_survey_name(name: str) -> str:
    """The name every response of the survey carries as ``survey`` and its pages put in URLs
    (percent-encoded): ``nps-quarterly`` or ``NPS quarterly`` (the rule is the language's)."""
    if not SURVEY_NAME.fullmatch(name):
        raise InvalidInput(
            f"{name!r} is not a valid survey name: use {SURVEY_NAME_RULE} "
            "(for example `nps-quarterly` or `NPS quarterly`)."
        )
    return name


def template_document(template: str) -> dict[str, Any]:
    if template not in TEMPLATES:
        raise InvalidInput(f"Unknown template {template!r}; choose one of {', '.join(TEMPLATES)}.")
    return TEMPLATES[template]()


def _metric_of(survey: Survey) -> str | None:
    """The metric its rating question feeds (the document's ``cxlensMetric`` binding), if any."""
    return survey.metric.metric if survey.metric is not None else None


def create_survey(uow: UnitOfWork, *, name: str, document: Mapping[str, Any]) -> StoredSurvey:
    """A new survey from a SurveyJS-subset document (every problem is reported at once)."""
    check_survey_name(name)
    survey = parse_survey(document)
    if uow.fetch_value("SELECT count(*) FROM surveys WHERE name = ?", [name]):
        raise Conflict(f"A survey named {name!r} exists already; choose another name or update it.")
    canonical = export_survey(survey)
    now = datetime.now(UTC)
    insert_row(
        uow,
        "surveys",
        "survey_key",
        {
            "survey_id": "srv_" + secrets.token_hex(8),
            "name": name,
            "title": survey.title.get(survey.default_locale),
            "metric": _metric_of(survey),
            "definition": json.dumps(canonical, ensure_ascii=False),
            "created_at": now,
            "updated_at": now,
        },
    )
    return access_survey(uow, name)


def update_survey(uow: UnitOfWork, *, ref: str, document: Mapping[str, Any]) -> StoredSurvey:
    """Replace a survey's definition (validated first; answers already given keep their values)."""
    current = access_survey(uow, ref)
    survey = parse_survey(document)
    uow.execute(
        "UPDATE surveys SET title = ?, metric = ?, definition = ?, updated_at = now() WHERE survey_key = ?",
        [
            survey.title.get(survey.default_locale),
            _metric_of(survey),
            json.dumps(export_survey(survey), ensure_ascii=False),
            current.survey_key,
        ],
    )
    return access_survey(uow, ref)


def archive_survey(uow: UnitOfWork, ref: str) -> StoredSurvey:
    current = access_survey(uow, ref)
    if current.archived_at is not None:
        raise Conflict(f"Survey {current.name!r} is archived already.")
    uow.execute("UPDATE surveys SET archived_at = now() WHERE survey_key = ?", [current.survey_key])
    return access_survey(uow, ref)
