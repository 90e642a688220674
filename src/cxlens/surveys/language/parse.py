"""Import and export of the documented SurveyJS subset (docs/surveys.md lists every key).

``parse_survey`` validates the whole document and reports every problem with its JSON path in one
``InvalidInput``; ``export_survey`` writes SurveyJS JSON back, and ``parse_survey(export_survey(s))
== s``. Unknown keys are refused rather than dropped, except a short list of presentation-only
keys: a dropped ``validators`` or ``triggers`` would silently change what the survey does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from cxlens.errors import InvalidInput
from cxlens.surveys.language.expressions import VARIABLE_NAME, Expression
from cxlens.surveys.language.model import (
    MAX_COMPLETIONS,
    MAX_QUESTIONS,
    METRIC_SCALES,
    QUESTION_TYPES,
    Completion,
    Localized,
    MetricBinding,
    MetricName,
    Page,
    Question,
    QuestionType,
    Survey,
)
from cxlens.surveys.language.reader import LOCALE, Reader, at
from cxlens.surveys.language.types import TYPE_FIELDS, TYPE_KEYS

SURVEY_KEYS = frozenset(
    (
        "name",
        "title",
        "locale",
        "pages",
        "elements",
        "completedHtml",
        "completedHtmlOnCondition",
        "cxlensMetric",
    )
)
PAGE_KEYS = frozenset(("name", "elements"))
COMMON_KEYS = frozenset(("type", "name", "title", "isRequired", "visibleIf"))
# Presentation only: accepted on import, not kept, not exported.
IGNORED_SURVEY_KEYS = frozenset(
    ("logoPosition", "showProgressBar", "progressBarType", "showQuestionNumbers", "widthMode", "width")
)
IGNORED_QUESTION_KEYS = frozenset(
    (
        "hideNumber", "startWithNewLine", "width", "minWidth", "maxWidth", "colCount", "rateType",
        "displayMode", "rows", "autoGrow", "allowResize", "titleLocation", "renderAs",
    )
)  # fmt: skip
# A survey's name: what its responses carry as ``survey`` (an import's "NPS quarterly" included),
# so capitals and single spaces are allowed; no dots or slashes, since a name is one URL segment.
SURVEY_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]| (?=[A-Za-z0-9_-])){0,62}")
SURVEY_NAME_RULE = (
    "1–63 letters, digits, '-', '_' or single spaces, starting and ending with a letter, digit, '-' or '_'"
)
_NAME_RULE = "1–100 letters, digits, '_', '-' or '.' (so that {name} can refer to it)"


class _Context(Reader):
    def __init__(self, names: frozenset[str]) -> None:
        super().__init__()
        self.names = names  # every question name in the document, for "unknown" vs "later"
        self.earlier: set[str] = set()
        self.page_names: set[str] = set()


def parse_survey(doc: Mapping[str, Any]) -> Survey:
    """Validate a SurveyJS document; every problem is listed in one ``InvalidInput``."""
    if not isinstance(doc, Mapping):
        raise InvalidInput("A survey definition must be a JSON object.")
    raw_pages = _raw_pages(doc)
    cx = _Context(_all_names(raw_pages))
    cx.keys(doc, SURVEY_KEYS, IGNORED_SURVEY_KEYS, "")
    _check_pages(cx, doc)
    default_locale = _default_locale(cx, doc.get("locale"))
    title = cx.localized(doc.get("title"), "title")
    pages = tuple(page for i, (path, raw) in enumerate(raw_pages) if (page := _page(cx, raw, path, i)))
    questions = [question for page in pages for question in page.elements]
    completed = _completions(cx, doc)
    metric = _metric(cx, doc.get("cxlensMetric"), questions)
    name = _survey_name(cx, doc, title)
    cx.raise_if_any("survey definition")
    locales = (default_locale, *sorted(cx.locales - {default_locale}))
    return Survey(name, title, pages, completed, locales, default_locale, metric)


def _check_pages(cx: Reader, doc: Mapping[str, Any]) -> None:
    if "pages" in doc and "elements" in doc:
        cx.problem("elements", "use either pages or elements, not both")
    elif "elements" not in doc:
        pages = doc.get("pages")
        if not isinstance(pages, list) or not pages:
            cx.problem("pages", "is required: a list of pages, each with its elements (questions)")


def _raw_pages(doc: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(path, page) pairs; a bare top-level ``elements`` list is SurveyJS's one-page form."""
    if "pages" not in doc and "elements" in doc:
        return [("", {"elements": doc["elements"]})]
    pages = doc.get("pages")
    if not isinstance(pages, list):
        return []
    if len(pages) > MAX_QUESTIONS:
        raise _too_many("pages", f"has {len(pages):,} pages; at most {MAX_QUESTIONS} are allowed")
    return [(f"pages[{i}]", page) for i, page in enumerate(pages)]


def _elements(page: Any) -> list[Any]:
    elements = page.get("elements") if isinstance(page, Mapping) else None
    return elements if isinstance(elements, list) else []


def _all_names(raw_pages: list[tuple[str, Any]]) -> frozenset[str]:
    # Refuse oversized documents before any per-question work.
    count = sum(len(_elements(page)) for _, page in raw_pages)
    if count > MAX_QUESTIONS:
        raise _too_many("pages", f"has {count:,} questions; at most {MAX_QUESTIONS} are allowed")
    raw = (
        element.get("name")
        for _, page in raw_pages
        for element in _elements(page)
        if isinstance(element, Mapping)
    )
    return frozenset(name for name in raw if isinstance(name, str))


def _too_many(path: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"The survey definition is too large: {path} {message}.",
        data={"problems": [{"path": path, "message": message}]},
    )


def _default_locale(cx: Reader, raw: Any) -> str:
    if raw is None or raw == "":
        return "en"  # SurveyJS's own default locale
    return cx.name(raw, "locale", LOCALE, "a locale code such as 'en' or 'de' (lower case)") or "en"


def _page(cx: _Context, raw: Any, path: str, index: int) -> Page | None:
    obj = cx.mapping(raw, path or "pages")
    if obj is None:
        return None
    cx.keys(obj, PAGE_KEYS, (), path)
    name = cx.name(obj.get("name", f"page{index + 1}"), at(path, "name"), VARIABLE_NAME, _NAME_RULE)
    if name in cx.page_names:
        cx.problem(at(path, "name"), f"repeats the page name {name!r}")
    cx.page_names.add(name or "")
    path = at(path, "elements")
    elements = cx.items(obj.get("elements"), path, limit=MAX_QUESTIONS, noun="question")
    questions = [_question(cx, element, at(path, i)) for i, element in enumerate(elements)]
    return Page(name or "", tuple(q for q in questions if q))


def _question(cx: _Context, raw: Any, path: str) -> Question | None:
    obj = cx.mapping(raw, path)
    if obj is None:
        return None
    before = cx.total
    name = cx.name(obj.get("name"), at(path, "name"), VARIABLE_NAME, _NAME_RULE)
    if name in cx.earlier:
        cx.problem(at(path, "name"), f"repeats the question name {name!r}; names must be unique")
    kind = obj.get("type")
    if kind not in QUESTION_TYPES:
        found = "is required" if kind is None else f"{kind!r} is not a supported question type"
        cx.problem(at(path, "type"), f"{found}; supported: {', '.join(QUESTION_TYPES)}")
        cx.earlier.add(name or "")
        return None
    kind = cast(QuestionType, kind)
    cx.keys(obj, COMMON_KEYS | TYPE_KEYS[kind], IGNORED_QUESTION_KEYS, path)
    fields: dict[str, Any] = {
        "title": cx.localized(obj.get("title"), at(path, "title")),
        "required": cx.boolean(obj, "isRequired", path),
        "visible_if": _visible_if(cx, obj, path, name),
        **TYPE_FIELDS[kind](cx, obj, path),
    }
    cx.earlier.add(name or "")  # after visibleIf: a question may not depend on itself
    if name is None or cx.total > before:
        return None
    return Question(name=name, type=kind, **fields)


def _visible_if(cx: _Context, obj: Mapping[str, Any], path: str, name: str | None) -> Expression | None:
    raw = obj.get("visibleIf")
    if raw is None or raw == "":
        return None
    path = at(path, "visibleIf")
    expression = cx.expression(raw, path, cx.names)
    for other in sorted(expression.variables() if expression else ()):
        if other == name:
            cx.problem(path, f"refers to {{{other}}}, this question itself")
        elif other in cx.names and other not in cx.earlier:
            # One pass in order then decides visibility, and there can be no cycles (docs/surveys.md).
            cx.problem(
                path, f"refers to {{{other}}}, which comes later; a question can depend only on earlier ones"
            )
    return expression


def _completions(cx: _Context, doc: Mapping[str, Any]) -> tuple[Completion, ...]:
    completions: list[Completion] = []
    if "completedHtmlOnCondition" in doc:
        raw = doc["completedHtmlOnCondition"]
        for i, item in enumerate(
            cx.items(raw, "completedHtmlOnCondition", limit=MAX_COMPLETIONS, noun="condition")
        ):
            path = at("completedHtmlOnCondition", i)
            obj = cx.mapping(item, path)
            if obj is None:
                continue
            cx.keys(obj, ("expression", "html"), (), path)
            expression = cx.expression(obj.get("expression"), at(path, "expression"), cx.names)
            text = cx.localized(obj.get("html"), at(path, "html"))
            if not text:
                cx.problem(at(path, "html"), "is required: the text to show when the expression holds")
            if expression is not None and text:
                completions.append(Completion(expression, text))
    fallback = cx.localized(doc.get("completedHtml"), "completedHtml")
    if fallback:
        completions.append(Completion(None, fallback))
    return tuple(completions)


def _metric(cx: _Context, raw: Any, questions: list[Question]) -> MetricBinding | None:
    obj = None if raw is None else cx.mapping(raw, "cxlensMetric")
    if obj is None:
        return None
    cx.keys(obj, ("metric", "question"), (), "cxlensMetric")
    metric, name = obj.get("metric"), obj.get("question")
    if metric not in METRIC_SCALES:
        cx.problem("cxlensMetric.metric", f"must be one of {', '.join(METRIC_SCALES)}")
        return None
    question = next((q for q in questions if q.name == name), None)
    low, high = METRIC_SCALES[metric]
    if question is None:
        if name not in cx.names:  # a question that exists but is broken has its own problems
            cx.problem("cxlensMetric.question", f"must name a rating question of the survey (found {name!r})")
        return None
    if question.scale() != (low, high):
        found = (
            f"rated {question.rate_min}–{question.rate_max}"
            if question.type == "rating"
            else f"a {question.type}"
        )
        cx.problem(
            "cxlensMetric.question", f"{metric} needs a {low}–{high} rating question; {name!r} is {found}"
        )
        return None
    return MetricBinding(cast(MetricName, metric), question.name)


def _survey_name(cx: Reader, doc: Mapping[str, Any], title: Localized) -> str:
    if "name" in doc:
        return cx.name(doc["name"], "name", SURVEY_NAME, SURVEY_NAME_RULE) or ""
    slug = re.sub(r"[^a-z0-9]+", "-", title.get().lower()).strip("-")[:63].strip("-")
    return slug or "survey"
