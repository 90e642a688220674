"""A small, safe reader for SurveyJS ``visibleIf`` and completion conditions.

User text is never handed to ``eval``, ``exec``, ``compile`` or ``ast``: a tokenizer accepts only
the words and symbols of the grammar below (``__import__``, ``lambda`` or ``.attr`` stop at the
tokenizer), a recursive-descent parser builds a tree of a handful of node types
(``expression_nodes``), and evaluation walks that tree. The grammar, tightest binding first
(docs/surveys.md has the full description)::

    primary    := {name} | number | 'string' | "string" | true | false | ( or ) | [ item, ... ]
    postfix    := primary [empty | notempty]          (only after a {name} or a literal)
    unary      := (not | !) unary | postfix
    comparison := unary [(= == != <> < <= > >= contains notcontains anyof allof) unary]
    and        := comparison ((and | &&) comparison)*
    or         := and ((or | ||) and)*

Parse once (``parse``), evaluate many times (``Expression.evaluate``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, cast

from cxlens.errors import InvalidInput
from cxlens.surveys.language.expression_nodes import (
    Array,
    Bool,
    Compare,
    CompareOp,
    Empty,
    Logic,
    Node,
    Not,
    Num,
    Str,
    Var,
    truthy,
)

MAX_LENGTH = 1_000
MAX_DEPTH = 32
VARIABLE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,100}")
"""What may stand between the braces of ``{name}``; question names must match it too."""

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_MAX_NUMBER_CHARS = 40  # more digits than any score needs; keeps int()/float() cheap and exact
_KEYWORDS = frozenset(
    ("and", "or", "not", "true", "false", "contains", "notcontains", "empty", "notempty", "anyof", "allof")
)
_SYMBOLS = {  # two-character symbols first: "<=" must not read as "<" then "="
    "<=": "<=",
    ">=": ">=",
    "==": "=",
    "!=": "!=",
    "<>": "!=",
    "&&": "and",
    "||": "or",
    "=": "=",
    "<": "<",
    ">": ">",
    "!": "not",
    "(": "(",
    ")": ")",
    "[": "[",
    "]": "]",
    ",": ",",
}
_COMPARE = frozenset(("=", "!=", "<", "<=", ">", ">=", "contains", "notcontains", "anyof", "allof"))
_VALUE = "a {question}, a number, a 'string', true, false, 'not', '(' or '['"
_ITEM = "a {question}, a number, a 'string', true or false"
_ANY = "a {question}, a number, a 'string', an operator or one of the words " + ", ".join(sorted(_KEYWORDS))


@dataclass(frozen=True)
class Expression:
    """A parsed condition. Equal expressions have equal trees, whatever spacing or spelling."""

    root: Node

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        return truthy(self.root.value(answers))

    def variables(self) -> frozenset[str]:
        """The question names the expression reads."""
        return frozenset(self.root.names())

    def __str__(self) -> str:
        """Canonical SurveyJS text; ``parse(str(e)) == e``."""
        return self.root.text()


def parse(text: str) -> Expression:
    """Read an expression, or raise ``InvalidInput`` saying where and what was expected."""
    if not isinstance(text, str):
        raise InvalidInput("An expression must be a string.")
    if len(text) > MAX_LENGTH:
        raise InvalidInput(
            f"An expression may be at most {MAX_LENGTH:,} characters long; this one has {len(text):,}.",
            data={"position": MAX_LENGTH, "expected": "a shorter expression"},
        )
    parser = _Parser(_tokenize(text))
    return Expression(parser.expression())


@dataclass(frozen=True)
class _Token:
    kind: Literal["var", "num", "str", "word", "end"]  # "word": a keyword or symbol, canonical
    value: str
    pos: int
    shown: str  # as written, for messages


def _fail(pos: int, found: str, expected: str) -> NoReturn:
    raise InvalidInput(
        f"Cannot read the expression at position {pos}: found {found}, expected {expected}.",
        data={"position": pos, "found": found, "expected": expected},
    )


def _show(text: str) -> str:
    return repr(text if len(text) <= 30 else text[:30] + "…")


def _found(token: _Token) -> str:
    return token.shown if token.kind == "end" else _show(token.shown)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        token = _read_token(text, pos)
        tokens.append(token)
        pos += len(token.shown)
    tokens.append(_Token("end", "", len(text), "the end"))
    return tokens


def _read_token(text: str, pos: int) -> _Token:
    char = text[pos]
    if char == "{":
        return _read_variable(text, pos)
    if char in "'\"":
        return _read_string(text, pos)
    if char.isascii() and (char.isdigit() or (char == "-" and text[pos + 1 : pos + 2].isdigit())):
        return _read_number(text, pos)
    word = _WORD.match(text, pos)
    if word:
        if word.group().lower() not in _KEYWORDS:
            _fail(pos, f"the unknown word {_show(word.group())}", _ANY)
        return _Token("word", word.group().lower(), pos, word.group())
    for symbol in (text[pos : pos + 2], char):
        if symbol in _SYMBOLS:
            return _Token("word", _SYMBOLS[symbol], pos, symbol)
    return _fail(pos, f"the character {char!r}", _ANY)


def _read_variable(text: str, pos: int) -> _Token:
    end = text.find("}", pos + 1)
    if end < 0:
        _fail(pos, "'{' without a closing '}'", "{question_name}")
    name = text[pos + 1 : end]
    if not VARIABLE_NAME.fullmatch(name):
        _fail(pos, f"the question name {_show(name)}", "1–100 letters, digits, '_', '-' or '.' inside {…}")
    return _Token("var", name, pos, text[pos : end + 1])


def _read_string(text: str, pos: int) -> _Token:
    quote, chars, at = text[pos], [], pos + 1
    while at < len(text):
        char = text[at]
        # Only \' and \" are escapes, as in SurveyJS; any other backslash is kept as written.
        if char == "\\" and text[at + 1 : at + 2] in ("'", '"'):
            chars.append(text[at + 1])
            at += 2
        elif char == quote:
            return _Token("str", "".join(chars), pos, text[pos : at + 1])
        elif char in "{}":
            # SurveyJS would read {…} inside a string as a question, so refuse rather than disagree.
            _fail(at, f"{char!r} inside a string", f"text without braces and a closing {quote}")
        else:
            chars.append(char)
            at += 1
    return _fail(pos, "a string that is never closed", f"a closing {quote}")


def _read_number(text: str, pos: int) -> _Token:
    match = _NUMBER.match(text, pos)
    assert match is not None  # the caller saw a digit, or '-' and a digit
    if len(match.group()) > _MAX_NUMBER_CHARS:
        _fail(pos, "a number with too many digits", f"at most {_MAX_NUMBER_CHARS} characters")
    return _Token("num", match.group(), pos, match.group())


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0
        self.depth = 0

    def expression(self) -> Node:
        node = self._or()
        token = self._peek()
        if token.kind != "end":
            _fail(token.pos, _found(token), "'and', 'or', an operator or the end")
        return node

    def _peek(self) -> _Token:
        return self.tokens[self.at]

    def _take(self) -> _Token:
        token = self.tokens[self.at]
        self.at = min(self.at + 1, len(self.tokens) - 1)  # the end token stays put
        return token

    def _accept(self, *words: str) -> _Token | None:
        token = self._peek()
        if token.kind == "word" and token.value in words:
            return self._take()
        return None

    @contextmanager
    def _deeper(self) -> Iterator[None]:
        # Each '(', '[' and 'not' is one level; bounding them bounds recursion here and in evaluate.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            token = self._peek()
            _fail(token.pos, f"nesting deeper than {MAX_DEPTH} levels", "a flatter expression")
        yield
        self.depth -= 1

    def _or(self) -> Node:
        operands = [self._and()]
        while self._accept("or"):
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else Logic("or", tuple(operands))

    def _and(self) -> Node:
        operands = [self._comparison()]
        while self._accept("and"):
            operands.append(self._comparison())
        return operands[0] if len(operands) == 1 else Logic("and", tuple(operands))

    def _comparison(self) -> Node:
        left = self._unary()
        operator = self._accept(*_COMPARE)
        if operator is None:
            return left
        right = self._unary()
        after = self._peek()
        if after.kind == "word" and after.value in _COMPARE:
            # Python would chain, SurveyJS would compare a boolean: neither is what people mean.
            _fail(after.pos, _found(after), "'and' or 'or' (comparisons do not chain)")
        return Compare(cast(CompareOp, operator.value), left, right)

    def _unary(self) -> Node:
        if self._accept("not"):
            with self._deeper():
                return Not(self._unary())
        node = self._primary()
        if isinstance(node, Var | Num | Str | Bool):
            postfix = self._accept("empty", "notempty")
            if postfix:
                return Empty(node, negated=postfix.value == "notempty")
        return node

    def _primary(self) -> Node:
        token = self._take()
        if token.kind == "word" and token.value in ("(", "["):
            with self._deeper():
                return self._group() if token.value == "(" else self._array()
        return self._literal(token, _VALUE)

    def _literal(self, token: _Token, expected: str) -> Node:
        if token.kind == "var":
            return Var(token.value)
        if token.kind == "num":
            return Num(float(token.value) if "." in token.value else int(token.value))
        if token.kind == "str":
            return Str(token.value)
        if token.kind == "word" and token.value in ("true", "false"):
            return Bool(token.value == "true")
        return _fail(token.pos, _found(token), expected)

    def _group(self) -> Node:
        node = self._or()
        if not self._accept(")"):
            token = self._peek()
            _fail(token.pos, _found(token), "')'")
        return node

    def _array(self) -> Node:
        items: list[Node] = []
        if self._accept("]"):
            return Array(())
        while True:
            items.append(self._literal(self._take(), _ITEM))
            if self._accept("]"):
                return Array(tuple(items))
            if not self._accept(","):
                token = self._peek()
                _fail(token.pos, _found(token), "',' or ']'")
