"""The survey expression grammar: precedence, every operator, None handling, hostile input."""

from __future__ import annotations

import builtins
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cxlens.errors import InvalidInput
from cxlens.surveys.language.expressions import MAX_DEPTH, MAX_LENGTH, parse


def ev(text: str, **answers: Any) -> bool:
    return parse(text).evaluate(answers)


# --- precedence: not > comparison > and > or -----------------------------------------------------


def test_not_binds_tighter_than_comparison() -> None:
    assert parse("not {a} = 1") == parse("(not {a}) = 1")
    assert parse("not {a} = 1") != parse("not ({a} = 1)")
    # (not 2) = 1 is false = 1, which is false; the other reading, not (2 = 1), would be true.
    assert ev("not {a} = 1", a=2) is False
    assert ev("not ({a} = 1)", a=2) is True


def test_comparison_binds_tighter_than_and() -> None:
    assert parse("{a} = 1 and {b} = 2") == parse("({a} = 1) and ({b} = 2)")
    assert ev("{a} = 1 and {b} = 2", a=1, b=2) is True
    assert ev("{a} = 1 and {b} = 2", a=1, b=3) is False


def test_and_binds_tighter_than_or() -> None:
    assert parse("{a} or {b} and {c}") == parse("{a} or ({b} and {c})")
    # (true or false) and false would be false.
    assert ev("{a} or {b} and {c}", a=True, b=False, c=False) is True
    assert ev("{a} and {b} or {c}", a=False, b=True, c=True) is True


def test_not_binds_tighter_than_and() -> None:
    assert parse("not {a} and {b}") == parse("(not {a}) and {b}")
    # not (false and false) would be true.
    assert ev("not {a} and {b}", a=False, b=False) is False


def test_empty_binds_to_its_operand_inside_not() -> None:
    assert parse("not {a} empty") == parse("not ({a} empty)")
    assert ev("not {a} empty", a="x") is True


def test_comparisons_do_not_chain() -> None:
    with pytest.raises(InvalidInput, match="do not chain"):
        parse("1 < {a} < 5")


# --- every operator ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answers", "expected"),
    [
        ("{a} = 5", {"a": 5}, True),
        ("{a} == 5", {"a": 5}, True),
        ("{a} = 5", {"a": 4}, False),
        ("{a} != 5", {"a": 4}, True),
        ("{a} <> 5", {"a": 5}, False),
        ("{a} < 5", {"a": 4}, True),
        ("{a} < 5", {"a": 5}, False),
        ("{a} <= 5", {"a": 5}, True),
        ("{a} > 5", {"a": 5}, False),
        ("{a} > 5", {"a": 6}, True),
        ("{a} >= 5", {"a": 5}, True),
        ("{a} >= 5", {"a": 4.5}, False),
        ("{a} > -1.5", {"a": -1}, True),
        ("{a} = 'Yes'", {"a": "yes"}, True),  # SurveyJS compares text case-insensitively
        ('{a} = "x"', {"a": " x "}, True),
        ("{a} < 'b'", {"a": "a"}, True),
        ("{a} = true", {"a": True}, True),
        ("{a} = false", {"a": True}, False),
        ("{a} = true", {"a": "true"}, True),
        ("{a} = true", {"a": 1}, False),  # a boolean is not a number
        ("{a} and {b}", {"a": True, "b": True}, True),
        ("{a} && {b}", {"a": True, "b": False}, False),
        ("{a} or {b}", {"a": False, "b": True}, True),
        ("{a} || {b}", {"a": False, "b": False}, False),
        ("{a} AND {b} Or {c}", {"a": True, "b": True, "c": False}, True),
        ("not {a}", {"a": False}, True),
        ("!{a}", {"a": True}, False),
        ("!!{a}", {"a": "x"}, True),
        ("{a} contains 'b'", {"a": ["a", "b"]}, True),
        ("{a} contains 'c'", {"a": ["a", "b"]}, False),
        ("{a} contains ['a', 'b']", {"a": ["b", "a", "c"]}, True),
        ("{a} contains ['a', 'd']", {"a": ["b", "a", "c"]}, False),
        ("{a} contains 'SLOW'", {"a": "The app is slow"}, True),
        ("{a} contains 2", {"a": [1, 2]}, True),
        ("{a} contains 2", {"a": ["1", "2"]}, True),
        ("{a} notcontains 'b'", {"a": ["a"]}, True),
        ("{a} notcontains 'a'", {"a": ["a"]}, False),
        ("{a} notcontains 'z'", {"a": "text"}, True),
        ("{a} anyof ['x', 'y']", {"a": "y"}, True),
        ("{a} anyof ['x', 'y']", {"a": "z"}, False),
        ("{a} anyof ['x', 'y']", {"a": ["z", "x"]}, True),
        ("{a} anyof [1, 2]", {"a": "2"}, True),
        ("{a} anyof []", {"a": "x"}, False),
        ("{a} allof ['x', 'y']", {"a": ["y", "x", "z"]}, True),
        ("{a} allof ['x', 'y']", {"a": ["x"]}, False),
        ("{a} allof ['x']", {"a": "x"}, True),
        ("{a} empty", {"a": ""}, True),
        ("{a} empty", {"a": "  "}, True),
        ("{a} empty", {"a": []}, True),
        ("{a} empty", {"a": 0}, False),
        ("{a} empty", {"a": False}, False),
        ("{a} notempty", {"a": "x"}, True),
        ("{a} notempty", {"a": ["x"]}, True),
        ("{a} = ['x', 'y']", {"a": ["y", "x"]}, True),
        ("{a} = ['x', 'y']", {"a": ["x"]}, False),
        ("{a.b-c_d} = 1", {"a.b-c_d": 1}, True),
        ("({a} = 1 or {a} = 2) and not ({b} contains 'x')", {"a": 2, "b": ["y"]}, True),
        ("true", {}, True),
        ("false", {}, False),
        ("0", {}, False),
    ],
)
def test_operators(text: str, answers: dict[str, Any], expected: bool) -> None:
    assert parse(text).evaluate(answers) is expected


def test_numeric_strings_compare_as_numbers() -> None:
    # As text, "10" < "9"; as numbers it is the other way round.
    assert ev("{a} > 9", a="10") is True
    assert ev("'10' > '9'") is True
    assert ev("{a} = 9", a="9.0") is True
    assert ev("{a} >= {b}", a="7", b=7) is True
    assert ev("{a} < 'b'", a="10") is False  # a number and a word do not order


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{a} = 1", False),
        ("{a} != 1", True),
        ("{a} < 5", False),
        ("{a} <= 5", False),
        ("{a} > 5", False),
        ("{a} >= 0", False),
        ("{a} = ''", True),
        ("{a} = []", True),
        ("{a} != ''", False),
        ("{a} = {b}", True),
        ("{a} empty", True),
        ("{a} notempty", False),
        ("{a} contains 'x'", False),
        ("{a} notcontains 'x'", True),
        ("{a} anyof ['x']", False),
        ("{a} allof ['x']", False),
        ("{a}", False),
        ("not {a}", True),
    ],
)
def test_unanswered_is_none(text: str, expected: bool) -> None:
    assert parse(text).evaluate({}) is expected
    assert parse(text).evaluate({"a": None, "b": None}) is expected


def test_variables_are_the_question_names_read() -> None:
    assert parse("{a} = 1 or ({b} contains {c}) and not {a} empty").variables() == {"a", "b", "c"}
    assert parse("{x} anyof [{y}, 2]").variables() == {"x", "y"}
    assert parse("true").variables() == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "{a} = 1",
        "not {a} = 1",
        "not ({a} = 1)",
        "{a} or {b} and {c}",
        "({a} or {b}) and {c}",
        "not not {a}",
        "{a} empty or not {b} notempty",
        "{a} anyof ['x', \"it's\", 'say \"hi\"', 2, -3.25, true] and {b} allof []",
        "{a} = 0.00001",
        "{a} = 123456789012345678901234567890.5",
        "{a} contains 'back\\slash'",
        '"a\\\\\'" = {a}',
        "({a} = 1) = true",
    ],
)
def test_canonical_text_reads_back_to_the_same_tree(text: str) -> None:
    expression = parse(text)
    assert parse(str(expression)) == expression


def test_canonical_text_is_surveyjs() -> None:
    # SurveyJS has no `not`, and its `!` negates everything to its right: print `!` in parentheses.
    assert str(parse("not {a} = 1")) == "(!{a}) = 1"
    assert str(parse("{a} and not {b}")) == "{a} and (!{b})"
    assert str(parse("{a} == 1 && {b} <> 'x' || {c}")) == "({a} = 1 and {b} != 'x') or {c}"
    assert str(parse('{a} = "it\'s"')) == "{a} = 'it\\'s'"


# --- errors ------------------------------------------------------------------------------------


def test_error_says_where_and_what_was_expected() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse("{a} = ")
    assert caught.value.data["position"] == 6
    assert "{question}" in caught.value.data["expected"]
    assert "position 6" in caught.value.message

    with pytest.raises(InvalidInput) as caught:
        parse("({a} = 1")
    assert caught.value.data["expected"] == "')'"

    with pytest.raises(InvalidInput) as caught:
        parse("{a} = 1 {b}")
    assert caught.value.data["position"] == 8


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("   ", 3),
        ("{a", 0),
        ("{}", 0),
        ("{a b} = 1", 0),
        ("'open", 0),
        ("{a} = 'x{b}'", 8),
        ("{a} = yes", 6),  # bare words are not strings here
        ("{a} + 1", 4),
        ("{a} = 1 and", 11),
        ("[{a}", 4),
        ("[1 2]", 3),
        ("{a} = [[1]]", 7),
        ("({a} = 1) empty", 10),
        ("{a} = 1" + "0" * 60, 6),
    ],
)
def test_malformed_input_is_refused_with_a_position(text: str, position: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(text)
    assert caught.value.data["position"] == position


HOSTILE = [
    "__import__('os').system('echo pwned')",
    "{a}.__class__",
    "{a}.__class__.__mro__",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 1",
    "(lambda x: x)(1)",
    "{a} if True else {b}",
    "[x for x in (1, 2)]",
    "{a}[0]",
    "open('/etc/passwd').read()",
    "globals()",
    "eval('1')",
    "'a' * 10 ** 9",
    "{a} = 1; import os",
    "{__builtins__}.eval",
    "{a} is None",
    "{a} in [1]",
    "f'{a}'",
    "#{a}",
    "`id`",
    "$(id)",
    "{a} = \x00",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_is_refused_without_evaluation(
    text: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("user text reached the Python compiler")

    for name in ("eval", "exec", "compile", "__import__"):
        monkeypatch.setattr(builtins, name, forbidden)
    with pytest.raises(InvalidInput):
        parse(text)


def test_python_code_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for text in (f"__import__('pathlib').Path('{marker}').touch()", f"open('{marker}', 'w')"):
        with pytest.raises(InvalidInput):
            parse(text)
    assert not marker.exists()


def test_evaluation_does_not_use_the_python_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    expressions = [
        parse(text) for text in ("{a} >= 9 and {b} contains 'x'", "not {c} empty or {d} anyof [1]")
    ]

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("evaluation reached the Python compiler")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    for expression in expressions:
        expression.evaluate({"a": "10", "b": ["x"], "c": "", "d": 1})
    parse("{a} = 1")


def test_length_limit() -> None:
    fits = "{a} = '" + "x" * (MAX_LENGTH - 8) + "'"
    assert len(fits) == MAX_LENGTH
    parse(fits)
    with pytest.raises(InvalidInput, match="1,000 characters"):
        parse(fits + " ")
    with pytest.raises(InvalidInput):
        parse("{a} or " * 100_000 + "{a}")


def test_depth_limit() -> None:
    parse("(" * MAX_DEPTH + "{a}" + ")" * MAX_DEPTH)
    parse("not " * MAX_DEPTH + "{a}")
    for deep in (
        "(" * (MAX_DEPTH + 1) + "{a}" + ")" * (MAX_DEPTH + 1),
        "not " * (MAX_DEPTH + 1) + "{a}",
        "!" * (MAX_DEPTH + 1) + "{a}",
        "(" * 500,
        "!" * 999,
    ):
        with pytest.raises(InvalidInput, match="nesting deeper"):
            parse(deep)


def test_a_long_flat_condition_is_fine() -> None:
    text = " or ".join(f"{{a}} = {i}" for i in range(80))
    assert len(text) < MAX_LENGTH
    assert parse(text).evaluate({"a": 79}) is True
    assert parse(text).evaluate({"a": 80}) is False


def test_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse(42)  # type: ignore[arg-type]


# --- fuzz --------------------------------------------------------------------------------------

PIECES = [
    "{a}", "{b}", "{c.d}", "1", "-2", "3.5", "'x'", '"y"', "true", "false", " ", "(", ")", "[", "]",
    ",", "=", "==", "!=", "<>", "<", "<=", ">", ">=", "and", "or", "not", "&&", "||", "!",
    "contains", "notcontains", "empty", "notempty", "anyof", "allof", "{", "}", "'", '"', "\\",
    ".", "_", "__class__", "lambda", "+", "é", "\n", "\x00", "0x1",
]  # fmt: skip
ANSWER_SETS: list[dict[str, Any]] = [
    {},
    {"a": 1, "b": "x", "c.d": ["x", "y"]},
    {"a": "10", "b": None, "c.d": True},
    {"a": [1, [2]], "b": {"k": "v"}, "c.d": float("inf")},
    {"a": float("nan"), "b": 10**400, "c.d": ""},
    {"a": "9" * 500, "b": [None, {}], "c.d": -0.0},
]


LEAVES = ["{a}", "{b}", "{c.d}", "1", "-2", "3.5", "'x'", '"y"', "true", "false"]
COMPARISONS = ["=", "==", "!=", "<>", "<", "<=", ">", ">=", "contains", "notcontains"]


def random_expression(rng: random.Random, depth: int = 0) -> str:
    """A well-formed expression, so that the fuzz reaches the evaluator and the printer too."""
    if depth > 3 or rng.random() < 0.3:
        return rng.choice(LEAVES)

    def inner() -> str:
        return random_expression(rng, depth + 1)

    shapes: list[Callable[[], str]] = [
        lambda: f"{rng.choice(LEAVES)} {rng.choice(COMPARISONS)} {rng.choice(LEAVES)}",
        lambda: (
            f"{{a}} {rng.choice(['anyof', 'allof'])} [{', '.join(rng.sample(LEAVES, rng.randint(0, 3)))}]"
        ),
        lambda: f"{rng.choice(['{a}', '{b}', '1'])} {rng.choice(['empty', 'notempty'])}",
        lambda: f"{rng.choice(['not ', '!'])}{inner()}",
        lambda: f"({inner()})",
        lambda: rng.choice([" and ", " or ", " && ", " || "]).join(inner() for _ in range(rng.randint(2, 3))),
    ]
    return rng.choice(shapes)()


def random_text(rng: random.Random) -> str:
    mode = rng.random()
    if mode < 0.3:
        return "".join(rng.choice(PIECES) + rng.choice(["", " "]) for _ in range(rng.randint(0, 12)))
    if mode < 0.45:
        return "".join(chr(rng.randint(0, 0x24F)) for _ in range(rng.randint(0, 30)))
    text = random_expression(rng)
    if mode < 0.75 and text:  # one random edit: most such texts are broken in an interesting place
        at = rng.randrange(len(text))
        text = text[:at] + rng.choice(["", *PIECES]) + text[at + rng.randint(0, 2) :]
    return text


@pytest.mark.parametrize("seed", range(4))
def test_fuzz_parses_or_refuses_and_never_crashes(seed: int) -> None:
    rng = random.Random(seed)
    parsed = refused = 0
    for _ in range(2_500):
        text = random_text(rng)
        try:
            expression = parse(text)
        except InvalidInput as error:
            assert isinstance(error.data.get("position"), int)
            refused += 1
            continue
        parsed += 1
        for answers in ANSWER_SETS:
            assert expression.evaluate(answers) in (True, False)
        assert parse(str(expression)) == expression
        assert all("{" + name + "}" in text for name in expression.variables())
    # Both paths must be exercised, or the test proves little.
    assert parsed > 500
    assert refused > 500
