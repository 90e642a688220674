"""Where a problem of a survey document belongs in the web editor, pure.

``parse_survey`` names each problem by its JSON path (``pages[0].elements[2].visibleIf``); the
editor shows it next to the fields it came from: the slot ``q:<i>`` of the form's i-th question,
``c:<i>`` of its i-th thank-you condition, or ``survey``, ``metric``, ``thanks``; with a label of
the field a person recognises ("Show if", "Question text (de)").
"""

from __future__ import annotations

import re

_QUESTION = re.compile(r"pages\[(\d+)\]\.elements\[(\d+)\](.*)")
_CONDITION = re.compile(r"completedHtmlOnCondition\[(\d+)\](.*)")
_PART = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
QUESTION_FIELDS = {
    "name": "Name",
    "type": "Type",
    "title": "Question text",
    "isRequired": "Required",
    "visibleIf": "Show if",
    "rateMin": "Scale",
    "rateMax": "Scale",
    "rateCount": "Scale",
    "minRateDescription": "Low label",
    "maxRateDescription": "High label",
    "maxLength": "Longest answer",
    "choices": "Choices",
    "labelTrue": "Yes label",
    "labelFalse": "No label",
    "expression": "Condition",
    "html": "Thank-you text",
}
SURVEY_FIELDS = {
    "title": "Survey title",
    "locale": "Languages",
    "name": "Name",
    "pages": "Questions",
    "elements": "Questions",
    "cxlensMetric": "Metric",
    "completedHtml": "Thank-you text",
    "completedHtmlOnCondition": "Thank-you conditions",
}
_SURVEY_SLOTS = {"cxlensMetric": "metric", "completedHtml": "thanks"}


def problem_slots(
    pages: tuple[tuple[int, ...], ...], conditions: tuple[int, ...], path: str
) -> tuple[str, str]:
    """(slot, field label) of a problem's ``path``; ``pages`` and ``conditions`` map the document's
    positions back to the form's (see ``editor.Draft``)."""
    if found := _QUESTION.fullmatch(path):
        page, element = int(found[1]), int(found[2])
        if page < len(pages) and element < len(pages[page]):
            return f"q:{pages[page][element]}", _label(found[3], QUESTION_FIELDS, "Question")
    if found := _CONDITION.fullmatch(path):
        index = int(found[1])
        if index < len(conditions):
            return f"c:{conditions[index]}", _label(found[2], QUESTION_FIELDS, "Condition")
    head = _parts(path)[0] if path else ""
    return _SURVEY_SLOTS.get(head, "survey"), _label(path, SURVEY_FIELDS, "Survey")


def _parts(path: str) -> list[str]:
    return [m[1] or m[2] for m in _PART.finditer(path)]


def _label(rest: str, names: dict[str, str], fallback: str) -> str:
    """``.title.de`` -> "Question text (de)"; ``.choices[2].value`` -> "Choices (3)"."""
    parts = _parts(rest)
    if not parts:
        return fallback
    if parts[0] == "cxlensMetric":
        return "Metric question" if parts[1:] == ["question"] else "Metric"
    label = names.get(parts[0], parts[0])
    if len(parts) > 1:
        return f"{label} ({int(parts[1]) + 1})" if parts[1].isdigit() else f"{label} ({parts[1]})"
    return label
