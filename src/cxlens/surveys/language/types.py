"""The fields of each supported question type, read from SurveyJS JSON (used by ``parse``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cxlens.surveys.language.model import MAX_CHOICES, MAX_TEXT, RATING_SCALES, Choice, QuestionType
from cxlens.surveys.language.reader import Reader, at

TYPE_KEYS: dict[QuestionType, frozenset[str]] = {
    "rating": frozenset(("rateMin", "rateMax", "rateCount", "minRateDescription", "maxRateDescription")),
    "comment": frozenset(("maxLength",)),
    "radiogroup": frozenset(("choices",)),
    "checkbox": frozenset(("choices",)),
    "boolean": frozenset(("labelTrue", "labelFalse")),
}


def _rating(cx: Reader, obj: Mapping[str, Any], path: str) -> dict[str, Any]:
    keys = ("rateMin", "rateMax", "rateCount")
    bounds = {"rateMin": (-1000, 1000), "rateMax": (-1000, 1000), "rateCount": (1, 1000)}
    values = {key: cx.integer(obj, key, path, low=bounds[key][0], high=bounds[key][1]) for key in keys}
    unreadable = any(obj.get(key) is not None and values[key] is None for key in keys)
    scale = (
        None if unreadable else _scale(cx, path, values["rateMin"], values["rateMax"], values["rateCount"])
    )
    return {
        "rate_min": scale[0] if scale else None,
        "rate_max": scale[1] if scale else None,
        "min_label": cx.localized(obj.get("minRateDescription"), at(path, "minRateDescription")),
        "max_label": cx.localized(obj.get("maxRateDescription"), at(path, "maxRateDescription")),
    }


def _scale(
    cx: Reader, path: str, low: int | None, high: int | None, count: int | None
) -> tuple[int, int] | None:
    low = 1 if low is None else low  # SurveyJS's defaults: rateMin 1, rateMax 5
    if count is not None:
        if high is not None and high != low + count - 1:
            cx.problem(
                at(path, "rateCount"), f"is {count}, but a {low}–{high} scale has {high - low + 1} values"
            )
            return None
        high = low + count - 1
    high = 5 if high is None else high
    if (low, high) not in RATING_SCALES:
        scales = ", ".join(f"{a}–{b}" for a, b in RATING_SCALES)
        cx.problem(at(path, "rateMax"), f"a {low}–{high} scale is not supported; use {scales}")
        return None
    return low, high


def _comment(cx: Reader, obj: Mapping[str, Any], path: str) -> dict[str, Any]:
    # SurveyJS's maxLength 0 means "no limit"; ours is then MAX_TEXT.
    return {"max_length": cx.integer(obj, "maxLength", path, low=0, high=MAX_TEXT) or None}


def _choices(cx: Reader, obj: Mapping[str, Any], path: str) -> dict[str, Any]:
    path = at(path, "choices")
    choices: list[Choice] = []
    seen: set[str] = set()
    for i, raw in enumerate(cx.items(obj.get("choices"), path, limit=MAX_CHOICES, noun="choice")):
        choice = _choice(cx, raw, at(path, i))
        if choice is not None and str(choice.value) in seen:
            # "1" and 1 would be the same answer once a form posts it as text.
            cx.problem(at(path, i), f"repeats the choice {choice.value!r}")
        elif choice is not None:
            seen.add(str(choice.value))
            choices.append(choice)
    return {"choices": tuple(choices)}


def _choice(cx: Reader, raw: Any, path: str) -> Choice | None:
    obj = raw if isinstance(raw, Mapping) else {"value": raw}
    cx.keys(obj, ("value", "text"), (), path)
    value = obj.get("value")
    if isinstance(value, int) and not isinstance(value, bool):
        return Choice(value, cx.localized(obj.get("text"), at(path, "text")))
    if isinstance(value, str) and value.strip() and len(value) <= MAX_TEXT:
        return Choice(value, cx.localized(obj.get("text"), at(path, "text")))
    where = at(path, "value") if isinstance(raw, Mapping) else path
    cx.problem(where, "must be a non-empty string or a whole number (or {value, text})")
    return None


def _boolean(cx: Reader, obj: Mapping[str, Any], path: str) -> dict[str, Any]:
    return {
        "label_true": cx.localized(obj.get("labelTrue"), at(path, "labelTrue")),
        "label_false": cx.localized(obj.get("labelFalse"), at(path, "labelFalse")),
    }


TYPE_FIELDS: dict[QuestionType, Callable[[Reader, Mapping[str, Any], str], dict[str, Any]]] = {
    "rating": _rating,
    "comment": _comment,
    "radiogroup": _choices,
    "checkbox": _choices,
    "boolean": _boolean,
}
