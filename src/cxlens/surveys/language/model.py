"""The internal model of a survey definition. Pure: imports nothing from storage or the web.

The model mirrors the SurveyJS subset we import and export (``parse``), but holds parsed
expressions and typed fields instead of loose JSON. Build surveys with ``parse_survey``: the
dataclasses themselves do not re-check what the parser checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cxlens.surveys.language.expressions import Expression

QuestionType = Literal["rating", "comment", "radiogroup", "checkbox", "boolean"]
QUESTION_TYPES: tuple[QuestionType, ...] = ("rating", "comment", "radiogroup", "checkbox", "boolean")
MetricName = Literal["nps", "csat", "ces"]
METRIC_SCALES: dict[MetricName, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
RATING_SCALES: tuple[tuple[int, int], ...] = ((0, 10), (1, 5), (1, 7))
MAX_QUESTIONS = 200
MAX_TEXT = 5_000  # characters in any one text, and in a comment answer without its own maxLength
MAX_CHOICES = 100
MAX_COMPLETIONS = 50
DEFAULT = "default"  # SurveyJS's key for the text in the survey's default locale


@dataclass(frozen=True)
class Localized:
    """Texts by locale. SurveyJS writes ``"Hi"`` or ``{"default": "Hi", "de": "Hallo"}``."""

    texts: tuple[tuple[str, str], ...] = ()  # "default" first, then locales in order

    @classmethod
    def of(cls, texts: Mapping[str, str] | str) -> Localized:
        if isinstance(texts, str):
            return cls(((DEFAULT, texts),)) if texts else cls()
        return cls(tuple(sorted(texts.items(), key=lambda item: (item[0] != DEFAULT, item[0]))))

    def get(self, locale: str | None = None) -> str:
        """The text in ``locale``, else in its language (``de`` for ``de-ch``), else the default.

        An empty translation counts as missing: it is what an unfinished translation looks like.
        """
        texts = dict(self.texts)
        wanted = (locale or "").lower()
        for key in (wanted, wanted.split("-")[0], DEFAULT):
            if texts.get(key):
                return texts[key]
        return ""

    def locales(self) -> frozenset[str]:
        """The locales this text is translated into (not counting the default)."""
        return frozenset(key for key, _ in self.texts if key != DEFAULT)

    def as_dict(self) -> dict[str, str]:
        return dict(self.texts)

    def __bool__(self) -> bool:
        return bool(self.texts)


EMPTY = Localized()


@dataclass(frozen=True)
class Choice:
    value: str | int
    text: Localized = EMPTY

    def label(self, locale: str | None = None) -> str:
        return self.text.get(locale) or str(self.value)


@dataclass(frozen=True)
class Question:
    name: str
    type: QuestionType
    title: Localized = EMPTY
    required: bool = False
    visible_if: Expression | None = None
    # rating
    rate_min: int | None = None
    rate_max: int | None = None
    min_label: Localized = EMPTY
    max_label: Localized = EMPTY
    # comment: None means MAX_TEXT
    max_length: int | None = None
    # radiogroup, checkbox
    choices: tuple[Choice, ...] = ()
    # boolean
    label_true: Localized = EMPTY
    label_false: Localized = EMPTY

    def title_in(self, locale: str | None = None) -> str:
        """What the respondent reads; SurveyJS shows the name when there is no title."""
        return self.title.get(locale) or self.name

    def scale(self) -> tuple[int, int] | None:
        if self.rate_min is None or self.rate_max is None:
            return None
        return self.rate_min, self.rate_max

    def text_limit(self) -> int:
        return self.max_length or MAX_TEXT

    def texts(self) -> Iterator[Localized]:
        yield from (self.title, self.min_label, self.max_label, self.label_true, self.label_false)
        yield from (choice.text for choice in self.choices)


@dataclass(frozen=True)
class Page:
    name: str
    elements: tuple[Question, ...]


@dataclass(frozen=True)
class Completion:
    """The thank-you text shown when ``expression`` holds (None: the fallback).

    SurveyJS calls it ``html``; we keep the key but the content is plain text, never rendered as HTML.
    """

    expression: Expression | None
    html_text: Localized


@dataclass(frozen=True)
class MetricBinding:
    """Which rating question feeds which metric (top-level ``cxlensMetric``)."""

    metric: MetricName
    question: str


@dataclass(frozen=True)
class Survey:
    name: str
    title: Localized
    pages: tuple[Page, ...]
    completed: tuple[Completion, ...] = ()  # conditional ones in order, then at most one fallback
    locales: tuple[str, ...] = ("en",)  # the default locale first
    default_locale: str = "en"
    metric: MetricBinding | None = None

    def questions(self) -> tuple[Question, ...]:
        return tuple(question for page in self.pages for question in page.elements)

    def question(self, name: str) -> Question | None:
        return next((q for q in self.questions() if q.name == name), None)

    def metric_question(self) -> Question | None:
        """The rating question whose score becomes the response's metric score, if any."""
        return self.question(self.metric.question) if self.metric else None

    def texts(self) -> Iterator[Localized]:
        yield self.title
        for question in self.questions():
            yield from question.texts()
        yield from (completion.html_text for completion in self.completed)


DEFAULT_COMPLETION = Localized.of(
    {DEFAULT: "Thank you for completing the survey!", "de": "Vielen Dank für Ihre Teilnahme an der Umfrage!"}
)


def visible_questions(survey: Survey, answers: Mapping[str, Any]) -> list[Question]:
    return _walk(survey, answers)[0]


def visible_answers(survey: Survey, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of visible questions only: what conditions and the stored response see."""
    return _walk(survey, answers)[1]


def completion_text(survey: Survey, answers: Mapping[str, Any], locale: str | None = None) -> str:
    """The first completion whose condition holds, else the fallback, in ``locale``."""
    seen = visible_answers(survey, answers)
    for completion in survey.completed:
        if completion.expression is None or completion.expression.evaluate(seen):
            return completion.html_text.get(locale or survey.default_locale)
    return DEFAULT_COMPLETION.get(locale or survey.default_locale)


def _walk(survey: Survey, answers: Mapping[str, Any]) -> tuple[list[Question], dict[str, Any]]:
    # visibleIf may only name earlier questions (the parser checks), so one pass in order decides
    # everything, and an answer left behind on a now-hidden question cannot reveal anything.
    visible: list[Question] = []
    seen: dict[str, Any] = {}
    for question in survey.questions():
        if question.visible_if is None or question.visible_if.evaluate(seen):
            visible.append(question)
            if question.name in answers:
                seen[question.name] = answers[question.name]
    return visible, seen
