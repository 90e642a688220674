"""Surveys: definitions (a documented SurveyJS subset), safe condition expressions, templates.

The names below are the slice's public API: the ways in (web/, cli/) import only these
(import-linter contract "Ways in use slices through their facades")."""

from __future__ import annotations

from cxlens.surveys.invitations import invite_customers, list_invitations
from cxlens.surveys.links import OpenLink, complete, create_link, open_link, save_partial, sendable_survey
from cxlens.surveys.queries import access_survey, list_surveys, responses_survey
from cxlens.surveys.records import ResponsesOf, StoredSurvey, Widget
from cxlens.surveys.responses import (
    FILTER_KEYS,
    SEGMENTS,
    export_responses,
    latest_responses,
    list_responses,
    parse_filter,
    survey_counts,
)
from cxlens.surveys.service import archive_survey, create_survey, template_document, update_survey
from cxlens.surveys.widgets import (
    WidgetSettings,
    create_widget,
    frame_origins,
    list_widgets,
    open_widget,
    public_link_url,
    public_survey,
    revoke_widget,
    script_tag,
    start_public_link,
    visitor_from,
    widget_for_origin,
)

__all__ = [
    "FILTER_KEYS",
    "SEGMENTS",
    "OpenLink",
    "ResponsesOf",
    "StoredSurvey",
    "Widget",
    "WidgetSettings",
    "access_survey",
    "archive_survey",
    "complete",
    "create_link",
    "create_survey",
    "create_widget",
    "export_responses",
    "frame_origins",
    "invite_customers",
    "latest_responses",
    "list_invitations",
    "list_responses",
    "list_surveys",
    "list_widgets",
    "open_link",
    "open_widget",
    "parse_filter",
    "public_link_url",
    "public_survey",
    "responses_survey",
    "revoke_widget",
    "save_partial",
    "script_tag",
    "sendable_survey",
    "start_public_link",
    "survey_counts",
    "template_document",
    "update_survey",
    "visitor_from",
    "widget_for_origin",
]
