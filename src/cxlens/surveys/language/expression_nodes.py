"""The tiny syntax tree of survey expressions: how each node evaluates and prints back.

Evaluation never raises, whatever the answers hold (respondents send arbitrary JSON), and never
recurses into answer values: lists are compared element by element with scalar rules only.

Printing gives canonical SurveyJS text. Two choices make it mean the same thing in SurveyJS as here:
``not`` prints as ``!`` (SurveyJS has no ``not`` keyword), and every ``!`` that is not the whole
expression is wrapped in parentheses, because SurveyJS's ``!`` negates everything to its right
while ours binds to the next operand only.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

# A numeric string compares as a number (as in SurveyJS). Long digit runs are not numbers: int()
# of thousands of digits is slow and refused by Python anyway.
_NUMERIC = re.compile(r"-?[0-9]{1,40}(?:\.[0-9]{1,40})?")
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Var:
    name: str

    def value(self, answers: Mapping[str, Any]) -> Any:
        return answers.get(self.name)

    def text(self) -> str:
        return "{" + self.name + "}"

    def names(self) -> Iterator[str]:
        yield self.name


@dataclass(frozen=True)
class Num:
    number: int | float

    def value(self, answers: Mapping[str, Any]) -> Any:
        return self.number

    def text(self) -> str:
        if isinstance(self.number, int):
            return str(self.number)
        # repr() may say 1e-05, which neither SurveyJS nor our tokenizer reads; Decimal prints digits.
        # A float keeps its point (1e29 prints as digits) so that it reads back as a float.
        text = format(Decimal(repr(self.number)), "f")
        return text if "." in text else text + ".0"

    def names(self) -> Iterator[str]:
        yield from ()


@dataclass(frozen=True)
class Str:
    string: str

    def value(self, answers: Mapping[str, Any]) -> Any:
        return self.string

    def text(self) -> str:
        return "'" + self.string.replace("'", "\\'").replace('"', '\\"') + "'"

    def names(self) -> Iterator[str]:
        yield from ()


@dataclass(frozen=True)
class Bool:
    truth: bool

    def value(self, answers: Mapping[str, Any]) -> Any:
        return self.truth

    def text(self) -> str:
        return "true" if self.truth else "false"

    def names(self) -> Iterator[str]:
        yield from ()


@dataclass(frozen=True)
class Array:
    items: tuple[Node, ...]

    def value(self, answers: Mapping[str, Any]) -> Any:
        return [item.value(answers) for item in self.items]

    def text(self) -> str:
        return "[" + ", ".join(item.text() for item in self.items) + "]"

    def names(self) -> Iterator[str]:
        for item in self.items:
            yield from item.names()


@dataclass(frozen=True)
class Not:
    operand: Node

    def value(self, answers: Mapping[str, Any]) -> Any:
        return not truthy(self.operand.value(answers))

    def text(self) -> str:
        return "!" + operand_text(self.operand)

    def names(self) -> Iterator[str]:
        yield from self.operand.names()


@dataclass(frozen=True)
class Empty:
    operand: Node
    negated: bool  # notempty

    def value(self, answers: Mapping[str, Any]) -> Any:
        return is_blank(self.operand.value(answers)) != self.negated

    def text(self) -> str:
        return operand_text(self.operand) + (" notempty" if self.negated else " empty")

    def names(self) -> Iterator[str]:
        yield from self.operand.names()


CompareOp = Literal["=", "!=", "<", "<=", ">", ">=", "contains", "notcontains", "anyof", "allof"]


@dataclass(frozen=True)
class Compare:
    op: CompareOp
    left: Node
    right: Node

    def value(self, answers: Mapping[str, Any]) -> Any:
        return compare(self.op, self.left.value(answers), self.right.value(answers))

    def text(self) -> str:
        return f"{operand_text(self.left)} {self.op} {operand_text(self.right)}"

    def names(self) -> Iterator[str]:
        yield from self.left.names()
        yield from self.right.names()


@dataclass(frozen=True)
class Logic:
    op: Literal["and", "or"]
    operands: tuple[Node, ...]  # n-ary, so a long flat chain does not make a deep tree

    def value(self, answers: Mapping[str, Any]) -> Any:
        results = (truthy(operand.value(answers)) for operand in self.operands)
        return all(results) if self.op == "and" else any(results)

    def text(self) -> str:
        parts = (operand_text(o) if isinstance(o, Logic | Not) else o.text() for o in self.operands)
        return f" {self.op} ".join(parts)

    def names(self) -> Iterator[str]:
        for operand in self.operands:
            yield from operand.names()


Node = Var | Num | Str | Bool | Array | Not | Empty | Compare | Logic
ATOMS = (Var, Num, Str, Bool, Array)


def operand_text(node: Node) -> str:
    """A node printed as an operand: parenthesized unless it is a single token or an array."""
    return node.text() if isinstance(node, ATOMS) else f"({node.text()})"


# --- semantics ---------------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    """Unanswered: None, a blank string, an empty list or object (SurveyJS's ``isValueEmpty``)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict | tuple) and not value


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict | tuple | bool | int | float):
        return bool(value)
    return value is not None


def compare(op: CompareOp, left: Any, right: Any) -> bool:
    if op in ("=", "!="):
        return equal(left, right) == (op == "=")
    if op == "notcontains":
        return not contains(left, right)
    if op == "contains":
        return contains(left, right)
    if op in ("anyof", "allof"):
        return _any_all(op, left, right)
    return _order(op, left, right)


def equal(left: Any, right: Any) -> bool:
    """``=``: two blanks are equal, lists as sets of scalars, everything else as scalars."""
    if is_blank(left) or is_blank(right):
        return is_blank(left) and is_blank(right)
    if isinstance(left, list) or isinstance(right, list):
        if not (isinstance(left, list) and isinstance(right, list)):
            return False
        return _covers(left, right) and _covers(right, left)
    return _scalar_equal(left, right)


def contains(haystack: Any, needle: Any) -> bool:
    """A checkbox answer holds every needle, or a text holds the needle (case-insensitive)."""
    if is_blank(haystack) or is_blank(needle):
        return False
    if isinstance(haystack, list):
        return _covers(haystack, needle if isinstance(needle, list) else [needle])
    if isinstance(haystack, str) and isinstance(needle, str | int | float) and not isinstance(needle, bool):
        return _fold(str(needle)) in _fold(haystack)
    return False


def _any_all(op: str, left: Any, right: Any) -> bool:
    if is_blank(left) or is_blank(right):
        return False
    values = left if isinstance(left, list) else [left]
    options = right if isinstance(right, list) else [right]
    if op == "allof":
        return _covers(values, options)
    return any(_scalar_equal(v, o) for v in values for o in options)


def _order(op: str, left: Any, right: Any) -> bool:
    if is_blank(left) or is_blank(right):
        return False  # an unanswered question is neither above nor below a threshold
    a, b = number(left), number(right)
    if a is not None and b is not None:
        return _ORDER[op](a, b)
    if a is None and b is None and isinstance(left, str) and isinstance(right, str):
        return _ORDER[op](_fold(left), _fold(right))
    return False  # a number and a word, or a list, or a boolean: no order


def _covers(values: list[Any], wanted: list[Any]) -> bool:
    return all(any(_scalar_equal(v, w) for v in values) for w in wanted)


def _scalar_equal(left: Any, right: Any) -> bool:
    a, b = number(left), number(right)
    if a is not None and b is not None:
        return a == b
    t, u = _boolean(left), _boolean(right)
    if t is not None and u is not None:
        return t == u
    if isinstance(left, str) and isinstance(right, str):
        return _fold(left) == _fold(right)
    return False


def number(value: Any) -> int | float | None:
    """The number a value stands for: ints and floats, and strings such as ``"9"`` or ``"-2.5"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        text = value.strip()
        return float(text) if "." in text else int(text)
    return None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _fold(text: str) -> str:
    # SurveyJS compares strings case-insensitively and trimmed by default (settings.comparator).
    return text.strip().casefold()
