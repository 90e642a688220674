"""SurveyJS JSON from the model: the inverse of ``parse_survey`` (``parse(export(s)) == s``).

Expressions are written in canonical form (``str(Expression)``), which means the same thing in
SurveyJS as here; texts with only a default are written as plain strings, as SurveyJS does.
"""

from __future__ import annotations

from typing import Any

from cxlens.surveys.language.model import DEFAULT, Choice, Localized, Question, Survey


def export_survey(survey: Survey) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": survey.name}
    if survey.title:
        doc["title"] = localized_json(survey.title)
    doc["locale"] = survey.default_locale
    if survey.metric is not None:
        doc["cxlensMetric"] = {"metric": survey.metric.metric, "question": survey.metric.question}
    doc["pages"] = [
        {"name": page.name, "elements": [question_json(q) for q in page.elements]} for page in survey.pages
    ]
    conditional = [c for c in survey.completed if c.expression is not None]
    if conditional:
        doc["completedHtmlOnCondition"] = [
            {"expression": str(c.expression), "html": localized_json(c.html_text)} for c in conditional
        ]
    fallback = next((c for c in survey.completed if c.expression is None), None)
    if fallback is not None:
        doc["completedHtml"] = localized_json(fallback.html_text)
    return doc


def localized_json(text: Localized) -> str | dict[str, str]:
    texts = text.as_dict()
    # A lone *non-empty* default reads back identically as a plain string; "" would read as no text.
    if list(texts) == [DEFAULT] and texts[DEFAULT]:
        return texts[DEFAULT]
    return texts


def question_json(question: Question) -> dict[str, Any]:
    out: dict[str, Any] = {"type": question.type, "name": question.name}
    if question.title:
        out["title"] = localized_json(question.title)
    if question.required:
        out["isRequired"] = True
    if question.visible_if is not None:
        out["visibleIf"] = str(question.visible_if)
    texts = {}
    if question.type == "rating" and question.rate_min is not None and question.rate_max is not None:
        # rateCount too: newer SurveyJS versions size the scale by it; all three agree.
        count = question.rate_max - question.rate_min + 1
        out.update(rateMin=question.rate_min, rateMax=question.rate_max, rateCount=count)
        texts = {"minRateDescription": question.min_label, "maxRateDescription": question.max_label}
    elif question.type == "comment" and question.max_length is not None:
        out["maxLength"] = question.max_length
    elif question.type in ("radiogroup", "checkbox"):
        out["choices"] = [_choice_json(choice) for choice in question.choices]
    elif question.type == "boolean":
        texts = {"labelTrue": question.label_true, "labelFalse": question.label_false}
    out.update({key: localized_json(text) for key, text in texts.items() if text})
    return out


def _choice_json(choice: Choice) -> str | int | dict[str, Any]:
    return {"value": choice.value, "text": localized_json(choice.text)} if choice.text else choice.value
