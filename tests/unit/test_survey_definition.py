"""Survey definitions: the SurveyJS subset, every problem with its path, round trips, templates,
NPS branching, answer validation and locale fallback."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cxlens.errors import InvalidInput
from cxlens.surveys.language import (
    DEFAULT_COMPLETION,
    METRIC_SCALES,
    Localized,
    Question,
    Survey,
    completion_text,
    export_survey,
    parse_survey,
    validate_answers,
    visible_answers,
    visible_questions,
)
from cxlens.surveys.language.templates import TEMPLATES


def problems_of(doc: Any) -> dict[str, list[str]]:
    """path -> messages of every problem parse_survey reports."""
    with pytest.raises(InvalidInput) as caught:
        parse_survey(doc)
    found: dict[str, list[str]] = {}
    for problem in caught.value.data["problems"]:
        found.setdefault(problem["path"], []).append(problem["message"])
    return found


def answer_problems(survey: Survey, answers: dict[str, Any], *, partial: bool = False) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        validate_answers(survey, answers, partial=partial)
    return {p["question"]: p["message"] for p in caught.value.data["problems"]}


def one_page(*elements: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"name": "t", "pages": [{"name": "p1", "elements": list(elements)}], **top}


KITCHEN_SINK: dict[str, Any] = {
    "name": "kitchen-sink",
    "title": {"default": "Everything", "de": "Alles", "fr": "Tout"},
    "locale": "en",
    "cxlensMetric": {"metric": "csat", "question": "sat"},
    "pages": [
        {
            "name": "first",
            "elements": [
                {
                    "type": "rating",
                    "name": "sat",
                    "title": "How satisfied?",
                    "isRequired": True,
                    "rateMin": 1,
                    "rateMax": 5,
                    "minRateDescription": {"default": "Bad", "de": "Schlecht"},
                    "maxRateDescription": "Good",
                },
                {
                    "type": "boolean",
                    "name": "again",
                    "labelTrue": "Sure",
                    "labelFalse": {"default": "No", "de": "Nein"},
                },
                {
                    "type": "radiogroup",
                    "name": "channel",
                    "isRequired": True,
                    "choices": ["email", {"value": 2, "text": {"default": "Phone", "de": "Telefon"}}],
                    "visibleIf": "{again} = true",
                },
            ],
        },
        {
            "name": "second",
            "elements": [
                {
                    "type": "checkbox",
                    "name": "topics",
                    "choices": ["price", "speed", {"value": "staff", "text": "Our staff"}],
                    "visibleIf": "{sat} <= 3 or not {channel} empty",
                },
                {
                    "type": "comment",
                    "name": "why",
                    "maxLength": 20,
                    "isRequired": True,
                    "visibleIf": "{topics} contains 'price'",
                },
            ],
        },
    ],
    "completedHtmlOnCondition": [{"expression": "{sat} >= 4", "html": {"default": "Great!", "de": "Super!"}}],
    "completedHtml": "Thanks.",
}


@pytest.fixture
def sink() -> Survey:
    return parse_survey(copy.deepcopy(KITCHEN_SINK))


# --- parsing and the model ---------------------------------------------------------------------


def test_kitchen_sink_reads_into_the_model(sink: Survey) -> None:
    assert sink.name == "kitchen-sink"
    assert sink.locales == ("en", "de", "fr")
    assert [page.name for page in sink.pages] == ["first", "second"]
    sat, again, channel, topics, why = sink.questions()
    assert (sat.type, sat.scale(), sat.required, sat.min_label.get("de"), sat.max_label.get("de")) == (
        "rating",
        (1, 5),
        True,
        "Schlecht",
        "Good",
    )
    assert again.label_false.get("de") == "Nein"
    assert [(c.value, c.label("de")) for c in channel.choices] == [("email", "email"), (2, "Telefon")]
    assert channel.visible_if is not None and channel.visible_if.variables() == {"again"}
    assert [c.label() for c in topics.choices] == ["price", "speed", "Our staff"]
    assert why.max_length == 20
    assert sink.metric_question() == sat
    assert sink.completed[-1].expression is None


def test_round_trip(sink: Survey) -> None:
    exported = export_survey(sink)
    assert parse_survey(exported) == sink
    assert export_survey(parse_survey(exported)) == exported
    # Expressions are written canonically: `not` becomes SurveyJS's `!`, in parentheses.
    assert exported["pages"][1]["elements"][0]["visibleIf"] == "{sat} <= 3 or (!({channel} empty))"


def test_surveyjs_shorthands_are_read() -> None:
    # A top-level `elements` list (SurveyJS's one-page form), rateCount, default scale, plain texts.
    survey = parse_survey(
        {
            "title": "Quick Check — 2024!",
            "elements": [
                {"type": "rating", "name": "r1", "rateMin": 0, "rateCount": 11},
                {"type": "rating", "name": "r2"},
                {"type": "rating", "name": "r3", "rateCount": 7},
                {"type": "comment", "name": "c", "maxLength": 0, "hideNumber": True, "rows": 3},
            ],
            "showProgressBar": "top",
        }
    )
    assert [q.scale() for q in survey.questions()[:3]] == [(0, 10), (1, 5), (1, 7)]
    assert survey.name == "quick-check-2024"  # derived from the title when absent
    assert survey.pages[0].name == "page1"
    assert survey.questions()[3].max_length is None  # SurveyJS's 0 = no limit of its own
    exported = export_survey(survey)
    assert "showProgressBar" not in exported and "hideNumber" not in exported["pages"][0]["elements"][3]
    assert parse_survey(exported) == survey


def test_every_problem_is_reported_with_its_path() -> None:
    long_text = "x" * 5_001
    found = problems_of(
        {
            "name": "Bad.Name",
            "title": {"de": "Ohne Vorgabe"},
            "locale": "EN",
            "triggers": [],
            "cxlensMetric": {"metric": "nps", "question": "q_last"},
            "pages": [
                {
                    "name": "p",
                    "elements": [
                        {"type": "rating", "name": "q_rating", "rateMax": "10"},
                        {"type": "dropdown", "name": "q_dropdown"},
                        {"type": "rating", "name": "q_rating", "rateMin": 1, "rateMax": 10},
                        {"type": "comment", "name": "q_comment", "title": long_text, "isRequired": "yes"},
                        {"type": "comment", "name": "q_self", "visibleIf": "{q_self} notempty"},
                        {"type": "comment", "name": "q_refs", "visibleIf": "{nope} = 1 or {q_last} = 2"},
                        {"type": "comment", "name": "q_expr", "visibleIf": "{q_rating} >"},
                        {
                            "type": "radiogroup",
                            "name": "q_choices",
                            "choices": ["a", "a", True, {"value": "b", "txt": "B"}],
                        },
                        {"type": "checkbox", "name": "q_nochoices", "choices": []},
                        {"type": "boolean", "name": "has space", "validators": [{"type": "expression"}]},
                        {
                            "type": "comment",
                            "name": "q_locale",
                            "title": {"default": "T", "DE": "t", "de": 5},
                        },
                        {"type": "rating", "name": "q_count", "rateMin": 1, "rateMax": 5, "rateCount": 7},
                        {"type": "comment", "name": "q_last"},
                    ],
                },
                {"name": "p", "elements": []},
            ],
            "completedHtmlOnCondition": [{"expression": "{ghost} > 1"}, {"html": "no expression"}],
        }
    )
    el = "pages[0].elements"
    expected = {
        "name": "single spaces",
        "title": '"default"',
        "locale": "locale code",
        "triggers": "not supported",
        f"{el}[0].rateMax": "must be an integer",
        f"{el}[1].type": "'dropdown' is not a supported question type",
        f"{el}[2].name": "repeats the question name 'q_rating'",
        f"{el}[2].rateMax": "1–10 scale is not supported",
        f"{el}[3].title": "longer than 5,000 characters",
        f"{el}[3].isRequired": "true or false",
        f"{el}[4].visibleIf": "this question itself",
        f"{el}[6].visibleIf": "position 12: found the end",
        f"{el}[7].choices[1]": "repeats the choice 'a'",
        f"{el}[7].choices[2]": "non-empty string or a whole number",
        f"{el}[7].choices[3].txt": "not supported",
        f"{el}[8].choices": "at least one choice",
        f"{el}[9].name": "letters, digits",
        f"{el}[9].validators": "not supported",
        f"{el}[10].title.DE": "locale code",
        f"{el}[10].title.de": "must be a string",
        f"{el}[11].rateCount": "is 7, but a 1–5 scale has 5 values",
        "pages[1].name": "repeats the page name 'p'",
        "pages[1].elements": "at least one question",
        "completedHtmlOnCondition[0].expression": "{ghost}",
        "completedHtmlOnCondition[0].html": "is required",
        "completedHtmlOnCondition[1].expression": "is required",
        "cxlensMetric.question": "nps needs a 0–10 rating question; 'q_last' is a comment",
    }
    for path, fragment in expected.items():
        assert any(fragment in message for message in found.get(path, [])), (path, found.get(path))
    refs = found[f"{el}[5].visibleIf"]
    assert any("{nope}, but there is no such question" in m for m in refs)
    assert any("{q_last}, which comes later" in m for m in refs)
    assert set(found) == {*expected, f"{el}[5].visibleIf"}


def test_the_message_names_the_first_problem_and_the_count() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_survey(one_page({"type": "rating", "name": "a", "rateMax": "x"}, {"type": "text", "name": "b"}))
    assert caught.value.message.startswith(
        "The survey definition has 2 problems; the first: pages[0].elements[0].rateMax"
    )


@pytest.mark.parametrize(
    "doc",
    [
        [],
        "survey",
        {},
        {"pages": "p"},
        {"pages": [], "name": "x"},
        {"pages": [{"elements": [{"type": "comment", "name": "a"}]}], "elements": []},
    ],
)
def test_not_a_survey(doc: Any) -> None:
    with pytest.raises(InvalidInput):
        parse_survey(doc)


def test_more_than_200_questions_is_refused_before_reading_them() -> None:
    fits = one_page(*({"type": "comment", "name": f"q{i}"} for i in range(200)))
    assert len(parse_survey(fits).questions()) == 200
    too_many = one_page(*({"type": "comment", "name": f"q{i}"} for i in range(201)))
    assert problems_of(too_many) == {"pages": ["has 201 questions; at most 200 are allowed"]}
    many_pages = {"pages": [{"elements": [{"type": "comment", "name": f"q{i}"}]} for i in range(10_000)]}
    assert "pages" in problems_of(many_pages)


def test_a_flood_of_problems_is_capped() -> None:
    doc = one_page({"type": "comment", "name": "a", **{f"k{i}": 1 for i in range(5_000)}})
    with pytest.raises(InvalidInput) as caught:
        parse_survey(doc)
    assert len(caught.value.data["problems"]) == 100
    assert caught.value.data["more_problems"] == 4_900


@pytest.mark.parametrize(
    ("metric", "scale", "ok"),
    [
        ("nps", (0, 10), True),
        ("csat", (1, 5), True),
        ("ces", (1, 7), True),
        ("nps", (1, 5), False),
        ("ces", (1, 5), False),
    ],
)
def test_metric_binding_needs_the_metric_scale(metric: str, scale: tuple[int, int], ok: bool) -> None:
    doc = one_page(
        {"type": "rating", "name": "score", "rateMin": scale[0], "rateMax": scale[1]},
        cxlensMetric={"metric": metric, "question": "score"},
    )
    if ok:
        survey = parse_survey(doc)
        assert survey.metric is not None and survey.metric.metric == metric
        assert survey.metric_question() is survey.questions()[0]
    else:
        assert "cxlensMetric.question" in problems_of(doc)
    assert "cxlensMetric.metric" in problems_of(
        {**doc, "cxlensMetric": {"metric": "ltv", "question": "score"}}
    )
    assert "cxlensMetric.question" in problems_of(
        {**doc, "cxlensMetric": {"metric": metric, "question": "x"}}
    )


def test_no_metric_binding() -> None:
    assert parse_survey(one_page({"type": "comment", "name": "c"})).metric_question() is None


# --- templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_round_trips(name: str) -> None:
    document = TEMPLATES[name]()
    survey = parse_survey(document)
    assert parse_survey(export_survey(survey)) == survey
    assert export_survey(survey) == document  # templates are written in canonical form
    assert survey.name == name


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_binds_its_metric_and_speaks_english_and_german(name: str) -> None:
    survey = parse_survey(TEMPLATES[name]())
    assert survey.metric is not None and survey.metric.metric == name
    question = survey.metric_question()
    assert question is not None and question.scale() == METRIC_SCALES[name] and question.required
    assert survey.locales == ("en", "de")
    texts = [text for text in survey.texts() if text]
    assert len(texts) >= 5
    for text in texts:
        assert set(text.as_dict()) == {"default", "de"} and text.get("de") != text.get("en")


def test_templates_are_fresh_each_call() -> None:
    first = TEMPLATES["nps"]()
    first["pages"][0]["elements"].clear()
    assert TEMPLATES["nps"]()["pages"][0]["elements"]


def test_template_wording() -> None:
    nps = parse_survey(TEMPLATES["nps"]()).questions()[0]
    assert nps.title.get() == "How likely are you to recommend us to a friend or colleague?"
    ces = parse_survey(TEMPLATES["ces"]()).questions()[0]
    assert ces.title.get() == "The company made it easy for me to handle my issue."
    assert (ces.min_label.get(), ces.max_label.get()) == ("Strongly disagree", "Strongly agree")
    assert (
        parse_survey(TEMPLATES["csat"]()).questions()[0].title.get().startswith("How satisfied were you with")
    )


@pytest.mark.parametrize(
    ("score", "follow_up", "thanks"),
    [
        (0, "detractor_comment", "Thank you for your honest feedback"),
        (6, "detractor_comment", "Thank you for your honest feedback"),
        (7, "passive_comment", "Thank you for your feedback!"),
        (8, "passive_comment", "Thank you for your feedback!"),
        (9, "promoter_comment", "We are glad you would recommend us"),
        (10, "promoter_comment", "We are glad you would recommend us"),
        ("9", "promoter_comment", "We are glad you would recommend us"),  # a form posts text
        ("6", "detractor_comment", "Thank you for your honest feedback"),
        (None, None, "Thank you for your feedback!"),
    ],
)
def test_nps_branching(score: int | str | None, follow_up: str | None, thanks: str) -> None:
    survey = parse_survey(TEMPLATES["nps"]())
    answers = {} if score is None else {"nps_score": score}
    shown = [q.name for q in visible_questions(survey, answers)]
    assert shown == ["nps_score"] + ([follow_up] if follow_up else [])
    assert thanks in completion_text(survey, answers, "en")
    if score is not None:
        cleaned = validate_answers(survey, {**answers, follow_up or "": "  because  "}, partial=False)
        assert cleaned == {"nps_score": int(score), follow_up: "because"}


def test_nps_unanswered_score_is_required() -> None:
    survey = parse_survey(TEMPLATES["nps"]())
    assert answer_problems(survey, {}) == {"nps_score": "This question needs an answer."}
    assert validate_answers(survey, {}, partial=True) == {}


# --- answers -----------------------------------------------------------------------------------


def test_answers_are_coerced(sink: Survey) -> None:
    cleaned = validate_answers(
        sink,
        {
            "sat": "2",
            "again": "true",
            "channel": "2",
            "topics": ["speed", "price", "speed"],
            "why": "  too much \n",
        },
        partial=False,
    )
    assert cleaned == {"sat": 2, "again": True, "channel": 2, "topics": ["price", "speed"], "why": "too much"}
    assert validate_answers(sink, {"sat": 4.0, "again": False}, partial=False) == {"sat": 4, "again": False}


def test_answers_to_hidden_questions_are_dropped_and_not_required(sink: Survey) -> None:
    # again=false hides `channel` (required); sat=5 and no channel hide `topics`, so `why` too.
    answers = {"sat": 5, "again": False, "channel": "nonsense", "topics": ["price"], "why": ""}
    assert validate_answers(sink, answers, partial=False) == {"sat": 5, "again": False}
    assert [q.name for q in visible_questions(sink, answers)] == ["sat", "again"]
    assert visible_answers(sink, answers) == {"sat": 5, "again": False}


def test_a_hidden_answer_cannot_reveal_a_later_question(sink: Survey) -> None:
    # `topics` holds "price" but is hidden, so `why` ({topics} contains 'price') stays hidden.
    answers = {"sat": 5, "again": False, "topics": ["price"]}
    assert "why" not in [q.name for q in visible_questions(sink, answers)]


def test_every_answer_problem_is_reported_with_a_human_message(sink: Survey) -> None:
    found = answer_problems(
        sink,
        {"sat": 9, "again": True, "channel": "fax", "topics": ["price", "cost"], "extra": 1},
    )
    # A refused answer still counts for later conditions as given: `why` shows because of "price".
    assert found == {
        "extra": "There is no such question in this survey.",
        "sat": "Please choose a score from 1 to 5.",
        "channel": "Please choose one of the options.",
        "topics": "Please choose only from the options.",
        "why": "This question needs an answer.",
    }


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("sat", 0, "Please choose a score from 1 to 5."),
        ("sat", 3.5, "Please choose a score from 1 to 5."),
        ("sat", True, "Please choose a score from 1 to 5."),
        ("sat", "three", "Please choose a score from 1 to 5."),
        ("sat", float("inf"), "Please choose a score from 1 to 5."),
        ("sat", [3], "Please choose a score from 1 to 5."),
        ("again", 1, "Please answer yes or no."),
        ("channel", ["email"], "Please choose one of the options."),
        ("topics", "price", "Please choose one or more of the options."),
        ("why", 42, "Please answer with text."),
        ("why", "x" * 21, "Please shorten your answer to at most 20 characters."),
    ],
)
def test_answer_messages(sink: Survey, question: str, value: Any, message: str) -> None:
    # Answers that make every question visible, then one wrong value.
    answers = {"sat": 1, "again": True, "channel": "email", "topics": ["price"], "why": "ok", question: value}
    assert answer_problems(sink, answers, partial=True) == {question: message}


def test_required_is_enforced_only_when_not_partial(sink: Survey) -> None:
    assert validate_answers(sink, {}, partial=True) == {}
    assert answer_problems(sink, {}) == {"sat": "This question needs an answer."}
    assert answer_problems(sink, {"sat": 1, "again": True, "topics": ["price"], "why": "   "}) == {
        "channel": "This question needs an answer.",
        "why": "This question needs an answer.",
    }


def test_answers_must_be_an_object(sink: Survey) -> None:
    with pytest.raises(InvalidInput):
        validate_answers(sink, ["sat"], partial=True)  # type: ignore[arg-type]


def test_comment_without_max_length_is_capped_at_5000() -> None:
    survey = parse_survey(one_page({"type": "comment", "name": "c"}))
    assert validate_answers(survey, {"c": "x" * 5_000}, partial=False) == {"c": "x" * 5_000}
    assert answer_problems(survey, {"c": "x" * 5_001}) == {
        "c": "Please shorten your answer to at most 5,000 characters."
    }


# --- locales -----------------------------------------------------------------------------------


def test_localized_fallback() -> None:
    text = Localized.of({"de": "Hallo", "default": "Hello", "fr": ""})
    assert text.get("de") == "Hallo"
    assert text.get("DE-ch") == "Hallo"  # a regional locale falls back to its language
    assert text.get("fr") == "Hello"  # an empty translation counts as missing
    assert text.get("es") == "Hello"
    assert text.get(None) == "Hello"
    assert text.locales() == {"de", "fr"}
    assert Localized.of("Plain").get("de") == "Plain"
    assert Localized().get("de") == ""
    assert Localized.of({"default": "a", "de": "b"}) == Localized.of({"de": "b", "default": "a"})


def test_question_title_falls_back_to_its_name() -> None:
    assert Question(name="nps_score", type="rating").title_in("de") == "nps_score"


def test_completion_text_by_locale(sink: Survey) -> None:
    assert completion_text(sink, {"sat": 5}, "de") == "Super!"
    assert completion_text(sink, {"sat": 5}, "es") == "Great!"
    assert completion_text(sink, {"sat": 1}, "de") == "Thanks."  # the fallback has only a default
    nps = parse_survey(TEMPLATES["nps"]())
    assert (
        completion_text(nps, {"nps_score": 10}, "de")
        == "Vielen Dank! Es freut uns, dass Sie uns weiterempfehlen würden."
    )


def test_completion_without_any_text_uses_the_builtin_thanks() -> None:
    survey = parse_survey(one_page({"type": "comment", "name": "c"}))
    assert completion_text(survey, {}, "de") == DEFAULT_COMPLETION.get("de")
    assert completion_text(survey, {}, None) == "Thank you for completing the survey!"


def test_default_locale_comes_from_surveyjs_locale() -> None:
    survey = parse_survey(
        one_page({"type": "comment", "name": "c", "title": {"default": "Warum?", "en": "Why?"}}, locale="de")
    )
    assert survey.default_locale == "de" and survey.locales == ("de", "en")
    assert parse_survey(export_survey(survey)) == survey
