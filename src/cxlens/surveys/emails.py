"""Invitation and reminder emails: plain text and HTML, in the survey's language.

When the survey's metric question is a rating, the email shows its scale and each number is a link
that opens the survey with that answer chosen (``/s/<token>?nps_score=9``) — the one-click first
answer. Every text comes from the survey or from ``WORDS``; the HTML is rendered with autoescape,
so a survey title with markup in it arrives as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined

from cxlens.surveys.language import Survey

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "open": "Open the survey",
        "reminder": "A friendly reminder: we would still like to hear from you.",
        "expires": "This link is personal; please do not forward it. It expires in {days} days.",
        "subject_reminder": "Reminder: {title}",
    },
    "de": {
        "open": "Zur Umfrage",
        "reminder": "Eine freundliche Erinnerung: Ihre Meinung ist uns weiterhin wichtig.",
        "expires": "Dieser Link ist persönlich; bitte leiten Sie ihn nicht weiter. Er läuft in {days} Tagen ab.",
        "subject_reminder": "Erinnerung: {title}",
    },
}

_templates = Environment(
    loader=PackageLoader("cxlens.surveys", "email"),
    autoescape=lambda name: bool(name and name.endswith(".html")),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Invitation:
    survey: Survey
    to: str
    url: str  # the personal link: {public_url}/s/{token}
    days: int  # until the link expires
    reminder: bool = False


def survey_locale(survey: Survey, wanted: str | None = None) -> str:
    """``wanted`` (e.g. a customer's locale attribute) when the survey has it, else its default."""
    short = (wanted or "")[:2].lower()
    return short if short in survey.locales else survey.default_locale


def compose(invitation: Invitation, *, sender: str, locale: str | None = None) -> EmailMessage:
    survey = invitation.survey
    lang = survey_locale(survey, locale)
    words = {k: v.format(days=invitation.days, title="") for k, v in WORDS.get(lang, WORDS["en"]).items()}
    title = survey.title.get(lang)
    question = survey.metric_question()
    bounds = question.scale() if question is not None else None
    scale = (
        [(v, f"{invitation.url}?{urlencode({question.name: v})}") for v in range(bounds[0], bounds[1] + 1)]
        if question is not None and bounds is not None
        else []
    )
    context = {
        "locale": lang,
        "title": title,
        "question": question.title_in(lang) if question is not None else "",
        "scale": scale,
        "low_label": question.min_label.get(lang) if question is not None and question.min_label else "",
        "high_label": question.max_label.get(lang) if question is not None and question.max_label else "",
        "url": invitation.url,
        "words": words,
        "reminder": invitation.reminder,
    }
    message = EmailMessage()
    subject_words = WORDS.get(lang, WORDS["en"])["subject_reminder"]
    subject = subject_words.format(title=title) if invitation.reminder else title
    message["Subject"] = " ".join(subject.split())  # a header is one line: no newline from a title
    message["From"] = sender
    message["To"] = invitation.to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders should not answer
    message.set_content(_templates.get_template("invitation.txt").render(context))
    message.add_alternative(_templates.get_template("invitation.html").render(context), subtype="html")
    return message


def _domain(sender: str) -> str:
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return quote(address.rsplit("@", 1)[-1], safe=".-") or "localhost"
