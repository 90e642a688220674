"""Reading JSON fields while collecting every problem with its path (used by ``parse``).

A reader method returns a usable value or None and records why not; it never raises, so one pass
over a definition reports everything wrong with it at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from cxlens.errors import InvalidInput
from cxlens.surveys.language.expressions import Expression, parse
from cxlens.surveys.language.model import DEFAULT, EMPTY, MAX_TEXT, Localized

MAX_PROBLEMS = 100  # enough to fix a definition in one go; a flood says "wrong file" anyway
MAX_LOCALES = 50
LOCALE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def at(path: str, key: object) -> str:
    """``pages[0].elements[2]`` + ``rateMax`` -> ``pages[0].elements[2].rateMax``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    if not _PLAIN_KEY.fullmatch(text):
        text = json.dumps(text[:60])
        return f"{path}[{text}]"
    return f"{path}.{text}" if path else text


class Reader:
    def __init__(self) -> None:
        self.problems: list[dict[str, str]] = []
        self.total = 0
        self.locales: set[str] = set()  # every locale a text was given in

    def problem(self, path: str, message: str) -> None:
        self.total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"path": path, "message": message})

    def raise_if_any(self, what: str) -> None:
        if not self.problems:
            return
        first = self.problems[0]
        where = f"{first['path']}: " if first["path"] else ""
        count = f"{self.total} problem" + ("s" if self.total > 1 else "")
        data: dict[str, Any] = {"problems": self.problems}
        if self.total > len(self.problems):
            data["more_problems"] = self.total - len(self.problems)
        raise InvalidInput(f"The {what} has {count}; the first: {where}{first['message']}", data=data)

    def keys(
        self, obj: Mapping[str, Any], allowed: Collection[str], ignored: Collection[str], path: str
    ) -> None:
        for key in obj:
            if key not in allowed and key not in ignored:
                supported = ", ".join(sorted(allowed))
                self.problem(at(path, key), f"is not supported here (supported: {supported})")

    def mapping(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.problem(path, "must be an object")
        return None

    def items(self, value: Any, path: str, *, limit: int, noun: str) -> list[Any]:
        if not isinstance(value, list):
            self.problem(path, "must be a list" if value is not None else f"is required: a list of {noun}s")
            return []
        if not value:
            self.problem(path, f"needs at least one {noun}")
        if len(value) > limit:
            self.problem(path, f"has {len(value):,} {noun}s; at most {limit:,} are allowed")
            return []
        return value

    def integer(self, obj: Mapping[str, Any], key: str, path: str, *, low: int, high: int) -> int | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(at(path, key), "must be an integer")
        elif not low <= value <= high:
            self.problem(at(path, key), f"must be from {low} to {high}")
        else:
            return value
        return None

    def boolean(self, obj: Mapping[str, Any], key: str, path: str) -> bool:
        value = obj.get(key, False)
        if isinstance(value, bool):
            return value
        self.problem(at(path, key), "must be true or false")
        return False

    def name(self, value: Any, path: str, pattern: re.Pattern[str], rule: str) -> str | None:
        if isinstance(value, str) and pattern.fullmatch(value):
            return value
        self.problem(path, "is required" if value is None else f"must be {rule}")
        return None

    def text(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str):
            self.problem(path, "must be a string")
            return None
        if len(value) > MAX_TEXT:
            self.problem(path, f"is longer than {MAX_TEXT:,} characters")
            return None
        return value

    def localized(self, value: Any, path: str) -> Localized:
        """A plain string (the default locale's text) or ``{"default": ..., "<locale>": ...}``."""
        if value is None:
            return EMPTY
        if isinstance(value, str):
            return Localized.of(value) if self.text(value, path) is not None else EMPTY
        if not isinstance(value, Mapping):
            self.problem(
                path, 'must be a string or an object of texts by locale, like {"default": …, "de": …}'
            )
            return EMPTY
        if len(value) > MAX_LOCALES:
            self.problem(path, f"has {len(value)} locales; at most {MAX_LOCALES} are allowed")
            return EMPTY
        if DEFAULT not in value:
            self.problem(path, 'needs a "default" text, used when a locale has no translation')
        texts: dict[str, str] = {}
        for key, raw in value.items():
            if key != DEFAULT and not (isinstance(key, str) and LOCALE.fullmatch(key)):
                self.problem(at(path, key), "is not a locale code such as 'de' or 'pt-br' (lower case)")
                continue
            text = self.text(raw, at(path, key))
            if text is not None:
                texts[key] = text
                self.locales.add(key)
        self.locales.discard(DEFAULT)
        return Localized.of(texts)

    def expression(self, value: Any, path: str, known: Collection[str]) -> Expression | None:
        """An expression; each ``{name}`` not in ``known`` is a problem (the expression is still returned)."""
        if not isinstance(value, str):
            self.problem(path, "must be a string" if value is not None else "is required")
            return None
        try:
            expression = parse(value)
        except InvalidInput as error:
            self.problem(path, error.message)
            return None
        for name in sorted(expression.variables() - set(known)):
            self.problem(path, f"refers to {{{name}}}, but there is no such question")
        return expression
