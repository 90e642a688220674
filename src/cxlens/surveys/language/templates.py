"""Ready-made NPS, CSAT and CES surveys as SurveyJS JSON, in English ("default") and German ("de").

Each call returns a fresh document (callers may edit it) that ``parse_survey`` accepts and that
binds its rating question to the metric with ``cxlensMetric``.

The NPS follow-up is three comment questions, one per segment, each with its own ``visibleIf``:
SurveyJS cannot vary one question's title by condition without text processing, and separate
questions keep each segment's answers apart for text analytics. Exactly one of the three is
visible once a score is given, none before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PROMOTER = "{nps_score} >= 9"
PASSIVE = "{nps_score} >= 7 and {nps_score} <= 8"
DETRACTOR = "{nps_score} <= 6"  # an unanswered score is not <= 6: comparisons with nothing are false


def _t(en: str, de: str) -> dict[str, str]:
    return {"default": en, "de": de}


def _comment(name: str, title: dict[str, str], visible_if: str | None = None) -> dict[str, Any]:
    question: dict[str, Any] = {"type": "comment", "name": name, "title": title, "maxLength": 2000}
    if visible_if:
        question["visibleIf"] = visible_if
    return question


def _rating(
    name: str, title: dict[str, str], scale: tuple[int, int], labels: tuple[dict[str, str], ...]
) -> dict[str, Any]:
    return {
        "type": "rating",
        "name": name,
        "title": title,
        "isRequired": True,
        "rateMin": scale[0],
        "rateMax": scale[1],
        "rateCount": scale[1] - scale[0] + 1,
        "minRateDescription": labels[0],
        "maxRateDescription": labels[1],
    }


def _survey(name: str, title: dict[str, str], elements: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "locale": "en",
        "cxlensMetric": {"metric": metric, "question": elements[0]["name"]},
        "pages": [{"name": "page1", "elements": elements}],
    }


THANKS = _t("Thank you for your feedback!", "Vielen Dank für Ihr Feedback!")


def nps() -> dict[str, Any]:
    score = _rating(
        "nps_score",
        _t(
            "How likely are you to recommend us to a friend or colleague?",
            "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen weiterempfehlen?",
        ),
        (0, 10),
        (
            _t("Not at all likely", "Überhaupt nicht wahrscheinlich"),
            _t("Extremely likely", "Äußerst wahrscheinlich"),
        ),
    )
    follow_ups = [
        _comment(
            "promoter_comment",
            _t("What do you like most about us?", "Was gefällt Ihnen an uns am besten?"),
            PROMOTER,
        ),
        _comment(
            "passive_comment",
            _t(
                "What would make you more likely to recommend us?",
                "Was würde Sie dazu bringen, uns eher weiterzuempfehlen?",
            ),
            PASSIVE,
        ),
        _comment(
            "detractor_comment",
            _t(
                "We are sorry to hear that. What disappointed you?",
                "Das tut uns leid. Was hat Sie enttäuscht?",
            ),
            DETRACTOR,
        ),
    ]
    doc = _survey("nps", _t("Your opinion of us", "Ihre Meinung über uns"), [score, *follow_ups], "nps")
    doc["completedHtmlOnCondition"] = [
        {
            "expression": PROMOTER,
            "html": _t(
                "Thank you! We are glad you would recommend us.",
                "Vielen Dank! Es freut uns, dass Sie uns weiterempfehlen würden.",
            ),
        },
        {
            "expression": DETRACTOR,
            "html": _t(
                "Thank you for your honest feedback. We will use it to do better.",
                "Vielen Dank für Ihre ehrliche Rückmeldung. Wir werden sie nutzen, um besser zu werden.",
            ),
        },
    ]
    doc["completedHtml"] = THANKS
    return doc


def csat() -> dict[str, Any]:
    score = _rating(
        "csat_score",
        _t("How satisfied were you with our service?", "Wie zufrieden waren Sie mit unserem Service?"),
        (1, 5),
        (_t("Very dissatisfied", "Sehr unzufrieden"), _t("Very satisfied", "Sehr zufrieden")),
    )
    comment = _comment(
        "csat_comment",
        _t(
            "What is the main reason for your score? (optional)",
            "Was ist der wichtigste Grund für Ihre Bewertung? (optional)",
        ),
    )
    doc = _survey("csat", _t("Your satisfaction", "Ihre Zufriedenheit"), [score, comment], "csat")
    doc["completedHtml"] = THANKS
    return doc


def ces() -> dict[str, Any]:
    # CES 2.0: agreement with a statement on a 1–7 scale, not a question.
    score = _rating(
        "ces_score",
        _t(
            "The company made it easy for me to handle my issue.",
            "Das Unternehmen hat es mir leicht gemacht, mein Anliegen zu erledigen.",
        ),
        (1, 7),
        (
            _t("Strongly disagree", "Stimme überhaupt nicht zu"),
            _t("Strongly agree", "Stimme voll und ganz zu"),
        ),
    )
    comment = _comment(
        "ces_comment",
        _t(
            "What could we have done to make it easier? (optional)",
            "Was hätten wir tun können, um es Ihnen leichter zu machen? (optional)",
        ),
    )
    doc = _survey("ces", _t("How easy was it?", "Wie einfach war es?"), [score, comment], "ces")
    doc["completedHtml"] = THANKS
    return doc


TEMPLATES: dict[str, Callable[[], dict[str, Any]]] = {"nps": nps, "csat": csat, "ces": ces}
