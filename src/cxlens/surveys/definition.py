"""Survey definitions: the internal model and the SurveyJS-subset import/export, pure.

One import point for the rest of cxlens; the work is split across ``definition_model`` (the
dataclasses, visibility and completion text), ``definition_parse`` (validation of a SurveyJS
document), ``definition_export`` and ``definition_answers`` (checking a respondent's answers).
docs/surveys.md documents the supported subset.
"""

from __future__ import annotations

from cxlens.surveys.definition_answers import validate_answers
from cxlens.surveys.definition_export import export_survey
from cxlens.surveys.definition_model import (
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
from cxlens.surveys.definition_parse import parse_survey

__all__ = [
    "DEFAULT_COMPLETION",
    "MAX_CHOICES",
    "MAX_QUESTIONS",
    "MAX_TEXT",
    "METRIC_SCALES",
    "QUESTION_TYPES",
    "RATING_SCALES",
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
