"""Checking a respondent's answers against a survey definition. Pure.

Answers arrive from a form or the API as loose JSON (form posts make every value a string), so
each question type coerces what it can and refuses the rest with a message meant for the
respondent, keyed by question name. Answers to hidden questions are dropped, not refused: SurveyJS
clears them too, and a respondent who changed an earlier answer did nothing wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cxlens.errors import InvalidInput
from cxlens.surveys.language.expression_nodes import is_blank, number
from cxlens.surveys.language.model import MAX_CHOICES, Choice, Question, QuestionType, Survey

NEEDS_ANSWER = "This question needs an answer."
_MAX_PROBLEMS = 100


class _Refused(Exception):
    """An answer that cannot be used; the message is shown to the respondent."""


def validate_answers(survey: Survey, answers: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """The cleaned answers of visible questions, in survey order; ``partial`` skips "required".

    Raises ``InvalidInput`` with ``data["problems"] = [{"question", "message"}, ...]``.
    """
    if not isinstance(answers, Mapping):
        raise InvalidInput("Answers must be an object of question name -> answer.")
    problems = _unknown(survey, answers)
    cleaned: dict[str, Any] = {}
    seen: dict[str, Any] = {}  # what later conditions read: cleaned values, else as given
    for question in survey.questions():
        if question.visible_if is not None and not question.visible_if.evaluate(seen):
            continue
        raw = answers.get(question.name)
        if is_blank(raw):
            if question.required and not partial:
                problems.append({"question": question.name, "message": NEEDS_ANSWER})
            continue
        try:
            cleaned[question.name] = seen[question.name] = _CLEANERS[question.type](question, raw)
        except _Refused as refused:
            seen[question.name] = raw
            problems.append({"question": question.name, "message": str(refused)})
    if problems:
        listed = "; ".join(f"{p['question']}: {p['message'].rstrip('.')}" for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InvalidInput(
            f"Please check the answers: {listed}{more}", data={"problems": problems[:_MAX_PROBLEMS]}
        )
    return cleaned


def _unknown(survey: Survey, answers: Mapping[str, Any]) -> list[dict[str, str]]:
    names = {question.name for question in survey.questions()}
    unknown = [str(key)[:100] for key in answers if key not in names]
    return [{"question": key, "message": "There is no such question in this survey."} for key in unknown[:20]]


def _rating(question: Question, raw: Any) -> int:
    low, high = question.scale() or (0, 10)
    value = number(raw)  # 9, 9.0 and "9" are all a 9
    # Range before int(): int() of an infinite float (JSON's Infinity) would raise.
    if value is None or not low <= value <= high or value != int(value):
        raise _Refused(f"Please choose a score from {low} to {high}.")
    return int(value)


def _comment(question: Question, raw: Any) -> str:
    if not isinstance(raw, str):
        raise _Refused("Please answer with text.")
    text = raw.strip()
    if len(text) > question.text_limit():
        raise _Refused(f"Please shorten your answer to at most {question.text_limit():,} characters.")
    return text


def _find(question: Question, raw: Any) -> Choice | None:
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        return None
    # By text, so a form's "2" finds the choice 2; parse_survey keeps str(value) unique.
    wanted = str(raw).strip()
    return next((choice for choice in question.choices if str(choice.value) == wanted), None)


def _radiogroup(question: Question, raw: Any) -> str | int:
    choice = _find(question, raw)
    if choice is None:
        raise _Refused("Please choose one of the options.")
    return choice.value


def _checkbox(question: Question, raw: Any) -> list[str | int]:
    if not isinstance(raw, list):
        raise _Refused("Please choose one or more of the options.")
    chosen = [_find(question, item) for item in raw[: MAX_CHOICES * 2 + 1]]
    if len(raw) > MAX_CHOICES * 2 or any(choice is None for choice in chosen):
        raise _Refused("Please choose only from the options.")
    # In the survey's order and without repeats, whatever order the form sent.
    return [choice.value for choice in question.choices if choice in chosen]


def _boolean(question: Question, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise _Refused("Please answer yes or no.")


_CLEANERS: dict[QuestionType, Callable[[Question, Any], Any]] = {
    "rating": _rating,
    "comment": _comment,
    "radiogroup": _radiogroup,
    "checkbox": _checkbox,
    "boolean": _boolean,
}
