"""The web editor's form for a survey, pure: a survey document as flat form fields and back.

The editor shows one set of fields per question (name, type, texts per locale, scale, choices,
condition, required), the metric binding and the thank-you texts. ``form_from_document`` fills
them from a SurveyJS document; ``form_from_fields`` reads them from a posted form;
``survey_of`` turns them back into a survey **through** ``parse_survey``, so the editor accepts
exactly what an import would, and every problem comes back with its path and the editor slot
(``q:<i>``, ``c:<i>``, ``survey``, ``metric``, ``thanks``) it belongs next to.

Field names (the templates write the same ones) use ``:``, which no question name can hold, so
the preview's answers (``answer:<question name>``) never collide with them:

``name`` · ``locales`` ("en de": the default locale first) · ``title:<loc>`` · ``metric`` ·
``metric_question`` · ``thanks:<loc>`` · ``c:<i>:expression`` · ``c:<i>:text:<loc>`` ·
``q:<i>:`` + ``name`` ``type`` ``page`` ``required`` ("on") ``visibleIf`` ``rateMin`` ``rateMax``
``maxLength`` ``choices`` (one per line, ``value`` or ``value | label``) · ``q:<i>:`` + ``title``
``minLabel`` ``maxLabel`` ``labelTrue`` ``labelFalse`` + ``:<loc>`` · ``q:<i>:choices:<loc>``
(the other locales' labels, one per line, in the same order as the choices).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from cxlens.errors import InvalidInput
from cxlens.surveys.language import (
    MAX_QUESTIONS,
    Localized,
    Question,
    Survey,
    completion_text,
    export_survey,
    parse_survey,
    visible_questions,
)
from cxlens.web.survey_form_paths import problem_slots

Texts = Mapping[str, str]  # locale code -> text; the survey's default locale is a code like the rest
_INDEXED = re.compile(r"([qc]):(\d{1,4}):(name|expression)")
_INTEGER = re.compile(r"-?(?:0|[1-9]\d{0,8})")
_LOCALE_SPLIT = re.compile(r"[\s,;]+")
MAX_CONDITIONS = 50
T = TypeVar("T")


@dataclass(frozen=True)
class QuestionForm:
    name: str = ""
    type: str = "comment"
    page: str = "page1"
    title: Texts = field(default_factory=dict)
    required: bool = False
    visible_if: str = ""
    rate_min: str = ""
    rate_max: str = ""
    min_label: Texts = field(default_factory=dict)
    max_label: Texts = field(default_factory=dict)
    max_length: str = ""
    choices: str = ""  # one per line: "value" or "value | label" (default locale)
    choice_labels: Texts = field(default_factory=dict)  # other locales: one label per line
    label_true: Texts = field(default_factory=dict)
    label_false: Texts = field(default_factory=dict)


@dataclass(frozen=True)
class ConditionForm:
    """A conditional thank-you text (``completedHtmlOnCondition``)."""

    expression: str = ""
    text: Texts = field(default_factory=dict)

    def is_blank(self) -> bool:
        return not self.expression.strip() and not any(t.strip() for t in self.text.values())


@dataclass(frozen=True)
class EditorForm:
    name: str
    locales: tuple[str, ...] = ("en",)  # the default locale first
    title: Texts = field(default_factory=dict)
    metric: str = ""
    metric_question: str = ""
    questions: tuple[QuestionForm, ...] = ()
    conditions: tuple[ConditionForm, ...] = ()
    thanks: Texts = field(default_factory=dict)

    @property
    def default_locale(self) -> str:
        return self.locales[0]


# --- from a document ----------------------------------------------------------------------------


def form_from_document(doc: Mapping[str, Any]) -> EditorForm:
    """The editor's fields for a SurveyJS document (validated first: only a valid survey is edited)."""
    return form_from_survey(parse_survey(doc))


def form_from_survey(survey: Survey) -> EditorForm:
    locale = survey.default_locale

    def texts(text: Localized) -> dict[str, str]:
        return _texts(text, locale)

    conditional = [c for c in survey.completed if c.expression is not None]
    fallback = next((c.html_text for c in survey.completed if c.expression is None), Localized())
    return EditorForm(
        name=survey.name,
        locales=survey.locales,
        title=texts(survey.title),
        metric=survey.metric.metric if survey.metric else "",
        metric_question=survey.metric.question if survey.metric else "",
        questions=tuple(
            _question_form(q, page.name, locale, survey.locales)
            for page in survey.pages
            for q in page.elements
        ),
        conditions=tuple(ConditionForm(str(c.expression), texts(c.html_text)) for c in conditional),
        thanks=texts(fallback),
    )


def _texts(text: Localized, default_locale: str) -> dict[str, str]:
    found = text.as_dict()
    out = {key: value for key, value in found.items() if key != "default"}
    out[default_locale] = found.get(default_locale) or found.get("default", "")
    return out


def _question_form(q: Question, page: str, locale: str, locales: tuple[str, ...]) -> QuestionForm:
    def texts(text: Localized) -> dict[str, str]:
        return _texts(text, locale)

    lines = [f"{c.value} | {c.text.get(locale)}" if c.text.get(locale) else str(c.value) for c in q.choices]
    labels = {other: "\n".join(dict(c.text.texts).get(other, "") for c in q.choices) for other in locales[1:]}
    return QuestionForm(
        name=q.name,
        type=q.type,
        page=page,
        title=texts(q.title),
        required=q.required,
        visible_if=str(q.visible_if) if q.visible_if is not None else "",
        rate_min="" if q.rate_min is None else str(q.rate_min),
        rate_max="" if q.rate_max is None else str(q.rate_max),
        min_label=texts(q.min_label),
        max_label=texts(q.max_label),
        max_length="" if q.max_length is None else str(q.max_length),
        choices="\n".join(lines),
        choice_labels=labels if q.choices else {},
        label_true=texts(q.label_true),
        label_false=texts(q.label_false),
    )


# --- from and to posted fields -----------------------------------------------------------------


def parse_locales(text: str) -> tuple[str, ...]:
    """ "en, de" -> ("en", "de"): lower case, no repeats, ``en`` when empty (parse_survey checks codes)."""
    found = [part.lower() for part in _LOCALE_SPLIT.split(text.strip()) if part]
    return tuple(dict.fromkeys(found)) or ("en",)


def form_from_fields(fields: Mapping[str, str]) -> EditorForm:
    """The form as posted (see the module docstring for the field names)."""
    locales = parse_locales(fields.get("locales", ""))

    def texts(prefix: str, among: tuple[str, ...] = locales) -> dict[str, str]:
        return {loc: fields[f"{prefix}:{loc}"] for loc in among if f"{prefix}:{loc}" in fields}

    def get(key: str) -> str:
        return fields.get(key, "")

    questions = [
        QuestionForm(
            name=get(f"q:{i}:name"),
            type=get(f"q:{i}:type"),
            page=get(f"q:{i}:page") or "page1",
            title=texts(f"q:{i}:title"),
            required=get(f"q:{i}:required") in ("on", "true", "1"),
            visible_if=get(f"q:{i}:visibleIf"),
            rate_min=get(f"q:{i}:rateMin"),
            rate_max=get(f"q:{i}:rateMax"),
            min_label=texts(f"q:{i}:minLabel"),
            max_label=texts(f"q:{i}:maxLabel"),
            max_length=get(f"q:{i}:maxLength"),
            choices=get(f"q:{i}:choices"),
            choice_labels=texts(f"q:{i}:choices", locales[1:]),
            label_true=texts(f"q:{i}:labelTrue"),
            label_false=texts(f"q:{i}:labelFalse"),
        )
        for i in _indices(fields, "q")[: MAX_QUESTIONS + 1]  # one more: parse_survey says "too many"
    ]
    conditions = [
        ConditionForm(get(f"c:{i}:expression"), texts(f"c:{i}:text"))
        for i in _indices(fields, "c")[: MAX_CONDITIONS + 1]
    ]
    return EditorForm(
        name=get("name"),
        locales=locales,
        title=texts("title"),
        metric=get("metric"),
        metric_question=get("metric_question"),
        questions=tuple(questions),
        conditions=tuple(conditions),
        thanks=texts("thanks"),
    )


def _indices(fields: Mapping[str, str], kind: str) -> list[int]:
    return sorted({int(m[2]) for key in fields if (m := _INDEXED.fullmatch(key)) and m[1] == kind})


def form_fields(form: EditorForm) -> dict[str, str]:
    """The flat fields of a form, as the editor page posts them."""
    out = {
        "name": form.name,
        "locales": " ".join(form.locales),
        "metric": form.metric,
        "metric_question": form.metric_question,
    }
    out.update(_prefixed("title", form.title))
    out.update(_prefixed("thanks", form.thanks))
    for i, c in enumerate(form.conditions):
        out[f"c:{i}:expression"] = c.expression
        out.update(_prefixed(f"c:{i}:text", c.text))
    for i, q in enumerate(form.questions):
        out.update(_question_fields(f"q:{i}", q))
    return out


def _question_fields(prefix: str, q: QuestionForm) -> Iterator[tuple[str, str]]:
    plain = {"name": q.name, "type": q.type, "page": q.page, "visibleIf": q.visible_if}
    plain |= {"rateMin": q.rate_min, "rateMax": q.rate_max, "maxLength": q.max_length, "choices": q.choices}
    yield from ((f"{prefix}:{key}", value) for key, value in plain.items())
    if q.required:
        yield f"{prefix}:required", "on"
    localized = {"title": q.title, "minLabel": q.min_label, "maxLabel": q.max_label}
    localized |= {"labelTrue": q.label_true, "labelFalse": q.label_false, "choices": q.choice_labels}
    for key, texts in localized.items():
        yield from _prefixed(f"{prefix}:{key}", texts).items()


def _prefixed(prefix: str, texts: Texts) -> dict[str, str]:
    return {f"{prefix}:{loc}": text for loc, text in texts.items()}


# --- to a document, through parse_survey -------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """The SurveyJS document a form describes, and where its parts came from in the form."""

    document: dict[str, Any]
    pages: tuple[tuple[int, ...], ...]  # the form's question indices on each page
    conditions: tuple[int, ...]  # the form's condition indices, blank rows left out


def draft_of(form: EditorForm) -> Draft:
    locales = form.locales
    doc: dict[str, Any] = {"name": form.name, "locale": form.default_locale}
    _put(doc, "title", _localized(form.title, locales))
    if form.metric:
        doc["cxlensMetric"] = {"metric": form.metric, "question": form.metric_question.strip()}
    pages: dict[str, list[int]] = {}
    for i, q in enumerate(form.questions):
        pages.setdefault(q.page.strip() or "page1", []).append(i)
    doc["pages"] = [
        {"name": name, "elements": [_question_json(form.questions[i], locales) for i in members]}
        for name, members in pages.items()
    ]
    kept = tuple(i for i, c in enumerate(form.conditions) if not c.is_blank())
    if kept:
        doc["completedHtmlOnCondition"] = [_condition_json(form.conditions[i], locales) for i in kept]
    _put(doc, "completedHtml", _localized(form.thanks, locales))
    return Draft(doc, tuple(tuple(m) for m in pages.values()), kept)


def survey_of(form: EditorForm) -> Survey:
    """The survey the form describes, or InvalidInput whose problems carry their editor ``slot``."""
    draft = draft_of(form)
    try:
        return parse_survey(draft.document)
    except InvalidInput as error:
        problems = []
        for problem in _problems(error):
            slot, label = problem_slots(draft.pages, draft.conditions, problem["path"])
            problems.append({**problem, "slot": slot, "field": label})
        raise InvalidInput(error.message, data={**error.data, "problems": problems}) from None


def document_of(form: EditorForm) -> dict[str, Any]:
    """The canonical SurveyJS document (what the survey service stores)."""
    return export_survey(survey_of(form))


def _problems(error: InvalidInput) -> list[dict[str, str]]:
    return list(error.data.get("problems") or [{"path": "", "message": error.message}])


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        doc[key] = value


def _localized(texts: Texts, locales: tuple[str, ...]) -> str | dict[str, str] | None:
    """Texts by locale as SurveyJS writes them: a plain string when only the default is given."""
    default = texts.get(locales[0], "").strip()
    translated = {loc: texts[loc].strip() for loc in locales[1:] if texts.get(loc, "").strip()}
    if not translated:
        return default or None
    return {"default": default, **translated}


def _number(text: str) -> int | str | None:
    """A whole number, or the text itself so that parse_survey reports it with its path."""
    text = text.strip()
    if not text:
        return None
    return int(text) if _INTEGER.fullmatch(text) else text


def _question_json(q: QuestionForm, locales: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": q.type.strip() or None, "name": q.name.strip()}
    out = {key: value for key, value in out.items() if value is not None}
    _put(out, "title", _localized(q.title, locales))
    if q.required:
        out["isRequired"] = True
    _put(out, "visibleIf", q.visible_if.strip() or None)
    if q.type == "rating":
        _put(out, "rateMin", _number(q.rate_min))
        _put(out, "rateMax", _number(q.rate_max))
        _put(out, "minRateDescription", _localized(q.min_label, locales))
        _put(out, "maxRateDescription", _localized(q.max_label, locales))
    elif q.type == "comment":
        _put(out, "maxLength", _number(q.max_length))
    elif q.type in ("radiogroup", "checkbox"):
        out["choices"] = _choices_json(q, locales)
    elif q.type == "boolean":
        _put(out, "labelTrue", _localized(q.label_true, locales))
        _put(out, "labelFalse", _localized(q.label_false, locales))
    return out


def _choices_json(q: QuestionForm, locales: tuple[str, ...]) -> list[Any]:
    # Translations line up with the choice lines by position, blank lines included.
    translations = {loc: q.choice_labels.get(loc, "").splitlines() for loc in locales[1:]}
    choices: list[Any] = []
    for i, line in enumerate(q.choices.splitlines()):
        if not line.strip():
            continue
        raw_value, _, label = line.partition("|")
        value = _number(raw_value) if _INTEGER.fullmatch(raw_value.strip()) else raw_value.strip()
        texts = {loc: lines[i] for loc, lines in translations.items() if i < len(lines)}
        texts[locales[0]] = label.strip() or (str(value) if any(t.strip() for t in texts.values()) else "")
        text = _localized(texts, locales)
        choices.append({"value": value, "text": text} if text else value)
    return choices


def _condition_json(c: ConditionForm, locales: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"expression": c.expression.strip()}
    _put(out, "html", _localized(c.text, locales))
    return out


# --- editing actions and the preview -----------------------------------------------------------


def blank_document(name: str) -> dict[str, Any]:
    """A new survey without a template: one open question, ready to edit."""
    question = {"type": "comment", "name": "q1", "title": "What would you like to tell us?"}
    return {"name": name, "title": name, "pages": [{"name": "page1", "elements": [question]}]}


def apply_action(form: EditorForm, action: str) -> EditorForm:
    """``add_question``, ``remove_question:<i>``, ``add_condition``, ``remove_condition:<i>`` or
    ``refresh`` (re-draw the fields, e.g. for a new type or locale)."""
    verb, _, index = action.partition(":")
    if verb == "add_question":
        return replace(form, questions=(*form.questions, _new_question(form)))
    if verb == "add_condition":
        return replace(form, conditions=(*form.conditions, ConditionForm()))
    if verb == "remove_question" and index.isdigit():
        return replace(form, questions=_without(form.questions, int(index)))
    if verb == "remove_condition" and index.isdigit():
        return replace(form, conditions=_without(form.conditions, int(index)))
    if verb == "refresh":
        return form
    raise InvalidInput(f"Unknown editor action {action!r}.")


def _without(items: tuple[T, ...], index: int) -> tuple[T, ...]:
    return items[:index] + items[index + 1 :]


def _new_question(form: EditorForm) -> QuestionForm:
    taken = {q.name for q in form.questions}
    number = len(form.questions) + 1
    while f"q{number}" in taken:
        number += 1
    page = form.questions[-1].page if form.questions else "page1"
    return QuestionForm(name=f"q{number}", type="comment", page=page)


@dataclass(frozen=True)
class Preview:
    """What a respondent would see for ``answers``: the visible questions and the thank-you text,
    or the problems by editor slot when the form does not describe a valid survey (``answers``
    are then the answers as given, lists by question name, to carry over to the next preview)."""

    locale: str
    survey: Survey | None = None
    questions: tuple[Question, ...] = ()
    answers: Mapping[str, Any] = field(default_factory=dict)
    thanks: str = ""
    problems: Mapping[str, list[str]] = field(default_factory=dict)


def preview(form: EditorForm, answers: Mapping[str, Any], locale: str | None = None) -> Preview:
    """``answers`` as a form posts them: a list of values per question (or one value)."""
    try:
        survey = survey_of(form)
    except InvalidInput as error:
        slots: dict[str, list[str]] = {}
        for problem in error.data["problems"]:
            slots.setdefault(problem["slot"], []).append(f"{problem['field']}: {problem['message']}")
        # The answers are kept (as given) so that trying the branching survives a moment of invalid form.
        kept = {k: v if isinstance(v, list) else [v] for k, v in list(answers.items())[:MAX_QUESTIONS]}
        return Preview(locale or form.default_locale, answers=kept, problems=slots)
    locale = locale if locale in survey.locales else survey.default_locale
    given = {q.name: _answer(q, answers[q.name]) for q in survey.questions() if q.name in answers}
    given = {name: value for name, value in given.items() if value not in (None, "", [])}
    return Preview(
        locale,
        survey,
        tuple(visible_questions(survey, given)),
        given,
        completion_text(survey, given, locale),
    )


def _answer(question: Question, value: Any) -> Any:
    values = value if isinstance(value, list) else [value]
    values = [v for v in values if v not in (None, "")]
    if question.type == "checkbox":
        return values
    return values[-1] if values else None


def editor_slots(form: EditorForm) -> list[str]:
    """Every place a problem can be shown, in page order."""
    slots = ["survey", "metric"]
    slots += [f"q:{i}" for i in range(len(form.questions))]
    slots += [f"c:{i}" for i in range(len(form.conditions))]
    return [*slots, "thanks"]
