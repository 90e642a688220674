"""The web editor's form: templates survive a trip through the form's flat fields unchanged; adding
and removing questions; every problem comes back with its path and its place in the form; the
preview branches like the answer page."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cxlens.errors import InvalidInput
from cxlens.surveys.language import export_survey, parse_survey
from cxlens.surveys.language.templates import TEMPLATES
from cxlens.web.survey_form import (
    EditorForm,
    QuestionForm,
    apply_action,
    blank_document,
    document_of,
    form_fields,
    form_from_document,
    form_from_fields,
    preview,
    survey_of,
)


def posted(form: EditorForm) -> EditorForm:
    """The form after a round trip through the page: its flat fields, read back."""
    return form_from_fields(form_fields(form))


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_a_template_survives_the_form_unchanged(template: str) -> None:
    document = TEMPLATES[template]()
    form = form_from_document(document)
    assert posted(form) == form
    assert document_of(posted(form)) == document  # templates are canonical: byte-for-byte the same
    assert form.locales == ("en", "de")
    fields = form_fields(form)
    assert fields["q:0:name"] == f"{template}_score" and fields["q:0:required"] == "on"
    assert fields["title:de"] == document["title"]["de"]


def test_the_nps_form_holds_every_part_of_the_template() -> None:
    fields = form_fields(form_from_document(TEMPLATES["nps"]()))
    assert fields["metric"] == "nps" and fields["metric_question"] == "nps_score"
    assert (fields["q:0:rateMin"], fields["q:0:rateMax"]) == ("0", "10")
    assert fields["q:0:minLabel:en"] == "Not at all likely"
    assert fields["q:3:visibleIf"] == "{nps_score} <= 6"
    assert fields["q:3:maxLength"] == "2000"
    assert fields["c:0:expression"] == "{nps_score} >= 9" and fields["c:1:expression"] == "{nps_score} <= 6"
    assert fields["thanks:de"] == "Vielen Dank für Ihr Feedback!"


def test_editing_a_field_changes_only_that_part_of_the_document() -> None:
    fields = form_fields(form_from_document(TEMPLATES["csat"]()))
    fields["q:1:title:en"] = "Tell us more"
    document = document_of(form_from_fields(fields))
    expected = TEMPLATES["csat"]()
    expected["pages"][0]["elements"][1]["title"]["default"] = "Tell us more"
    assert document == expected


def test_adding_and_removing_questions() -> None:
    form = form_from_document(TEMPLATES["csat"]())
    added = apply_action(form, "add_question")
    assert [q.name for q in added.questions] == ["csat_score", "csat_comment", "q3"]
    assert added.questions[-1] == QuestionForm(name="q3", type="comment", page="page1")
    named = replace(
        added, questions=(*added.questions[:2], replace(added.questions[2], title={"en": "Anything else?"}))
    )
    survey = survey_of(posted(named))
    assert [q.name for q in survey.questions()] == ["csat_score", "csat_comment", "q3"]
    assert survey.question("q3") is not None and survey.question("q3").title_in("de") == "Anything else?"

    removed = apply_action(posted(named), "remove_question:1")
    assert [q.name for q in survey_of(removed).questions()] == ["csat_score", "q3"]
    # A name already taken is not given twice.
    again = apply_action(apply_action(removed, "add_question"), "add_question")
    assert [q.name for q in again.questions] == ["csat_score", "q3", "q4", "q5"]
    with pytest.raises(InvalidInput):
        apply_action(form, "drop_table")


def test_conditions_can_be_added_and_blank_ones_are_ignored() -> None:
    form = apply_action(form_from_document(TEMPLATES["ces"]()), "add_condition")
    assert document_of(form) == TEMPLATES["ces"]()  # the new, blank row is not a condition yet
    fields = form_fields(form)
    fields |= {"c:0:expression": "{ces_score} >= 6", "c:0:text:en": "Glad it was easy!"}
    survey = survey_of(form_from_fields(fields))
    assert str(survey.completed[0].expression) == "{ces_score} >= 6"
    assert apply_action(form, "remove_condition:0").conditions == ()


def test_a_bad_visible_if_is_reported_with_its_path_and_place_in_the_form() -> None:
    fields = form_fields(form_from_document(TEMPLATES["nps"]()))
    fields["q:2:visibleIf"] = "{nps_score} >>= 7"
    fields["q:3:visibleIf"] = "{later} = 1"
    fields["q:1:rateMin"] = "one"  # not a rating question: not part of the document, no problem
    fields["q:0:rateMax"] = "ten"
    with pytest.raises(InvalidInput) as caught:
        survey_of(form_from_fields(fields))
    problems = {p["path"]: p for p in caught.value.data["problems"]}
    assert set(problems) == {
        "pages[0].elements[2].visibleIf",
        "pages[0].elements[3].visibleIf",
        "pages[0].elements[0].rateMax",
    }
    assert problems["pages[0].elements[2].visibleIf"]["slot"] == "q:2"
    assert problems["pages[0].elements[2].visibleIf"]["field"] == "Show if"
    assert "no such question" in problems["pages[0].elements[3].visibleIf"]["message"]
    assert problems["pages[0].elements[0].rateMax"] == {
        "path": "pages[0].elements[0].rateMax",
        "message": "must be an integer",
        "slot": "q:0",
        "field": "Scale",
    }
    shown = preview(form_from_fields(fields), {})
    assert shown.survey is None and set(shown.problems) == {"q:0", "q:2", "q:3"}
    assert shown.problems["q:2"][0].startswith("Show if: Cannot read the expression")


def test_survey_level_problems_go_to_their_own_places() -> None:
    fields = form_fields(form_from_document(TEMPLATES["nps"]()))
    fields |= {"metric_question": "nps_comment", "title:de": "x" * 5001, "c:1:expression": "{nps_score} <="}
    with pytest.raises(InvalidInput) as caught:
        survey_of(form_from_fields(fields))
    slots = {p["slot"]: p["field"] for p in caught.value.data["problems"]}
    assert slots == {"metric": "Metric question", "survey": "Survey title (de)", "c:1": "Condition"}


def test_the_preview_branches_like_the_answer_page() -> None:
    form = form_from_document(TEMPLATES["nps"]())
    before = preview(form, {})
    assert [q.name for q in before.questions] == ["nps_score"]
    detractor = preview(form, {"nps_score": ["3"]}, "de")
    assert [q.name for q in detractor.questions] == ["nps_score", "detractor_comment"]
    assert detractor.locale == "de" and detractor.thanks.startswith("Vielen Dank für Ihre ehrliche")
    promoter = preview(form, {"nps_score": ["10"], "unknown": ["x"]}, "fr")
    assert [q.name for q in promoter.questions] == ["nps_score", "promoter_comment"]
    assert promoter.locale == "en" and promoter.answers == {"nps_score": "10"}


def test_choices_with_labels_and_translations_survive_the_form() -> None:
    document = {
        "title": "Pick",
        "locale": "en",
        "pages": [
            {
                "name": "page1",
                "elements": [
                    {
                        "type": "radiogroup",
                        "name": "color",
                        "choices": [1, {"value": "b", "text": {"default": "Blue", "de": "Blau"}}],
                    },
                    {"type": "checkbox", "name": "tags", "choices": ["x", "y"], "visibleIf": "{color} = 'b'"},
                    {"type": "boolean", "name": "ok", "labelTrue": {"default": "Sure", "de": "Klar"}},
                ],
            },
            {"name": "second", "elements": [{"type": "comment", "name": "more"}]},
        ],
    }
    form = form_from_document(document)
    assert form.questions[0].choices == "1\nb | Blue" and form.questions[0].choice_labels == {"de": "\nBlau"}
    assert [q.page for q in form.questions] == ["page1", "page1", "page1", "second"]
    assert parse_survey(document_of(posted(form))) == parse_survey({**document, "name": "pick"})


def test_a_blank_survey_is_valid_and_named() -> None:
    survey = parse_survey(blank_document("feedback"))
    assert survey.name == "feedback" and [q.name for q in survey.questions()] == ["q1"]
    assert export_survey(survey_of(posted(form_from_document(blank_document("feedback"))))) == export_survey(
        survey
    )
