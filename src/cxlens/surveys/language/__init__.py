"""The SurveyJS language of cxlens surveys, pure: the internal model, the documented
SurveyJS-subset import and export, safe conditions (``expressions``) and templates.

One import point for the rest of cxlens; the work is split across ``model`` (the
dataclasses, visibility and completion text), ``parse`` (validation of a SurveyJS
document), ``export`` and ``answers`` (checking a respondent's answers).
docs/surveys.md documents the supported subset.
"""

from __future__ import annotations

from cxlens.surveys.language.answers import validate_answers
from cxlens.surveys.language.export import export_survey
from cxlens.surveys.language.model import (
    DEFAULT_COMPLETION,
    MAX_CHOICES,
    MAX_QUESTIONS,
    MAX_TEXT,
    METRIC_SCALES,
    QUESTION_TYPES,
    RATING_SCALES,
    Choice,
    Completion,
    Localized,
    MetricBinding,
    MetricName,
    Page,
    Question,
    QuestionType,
    Survey,
    completion_text,
    visible_answers,
    visible_questions,
)
from cxlens.surveys.language.parse import parse_survey
from cxlens.surveys.language.templates import TEMPLATES

__all__ = [
    "DEFAULT_COMPLETION",
    "MAX_CHOICES",
    "MAX_QUESTIONS",
    "MAX_TEXT",
    "METRIC_SCALES",
    "QUESTION_TYPES",
    "RATING_SCALES",
    "TEMPLATES",
    "Choice",
    "Completion",
    "Localized",
    "MetricBinding",
    "MetricName",
    "Page",
    "Question",
    "QuestionType",
    "Survey",
    "completion_text",
    "export_survey",
    "parse_survey",
    "validate_answers",
    "visible_answers",
    "visible_questions",
]
