"""Personal survey links: one customer, one survey, one answer.

A link's token is 192 random bits (``cxs_…``); only its SHA-256 is stored, so a database leak
does not hand out answerable links. A link expires, cannot be used for another survey (the survey
is looked up through the token, never taken from the request), saves partial answers, and records
its answer once: the response is imported with the link as its idempotency key, so a double submit
or a retry after a crash records it exactly once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from cxlens.core.credentials import hash_secret
from cxlens.customers.queries import access_customer
from cxlens.errors import Conflict, ImportFailed, InvalidInput, NotFound
from cxlens.ingest.base import CHANNELS
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.keys import insert_row
from cxlens.storage.store import Session, Store, UnitOfWork
from cxlens.surveys.language import Survey, parse_survey, validate_answers
from cxlens.surveys.queries import access_survey
from cxlens.surveys.records import StoredSurvey

TOKEN_PREFIX = "cxs_"
SOURCE = "surveys"
GONE = "This survey link has expired or does not exist. Ask for a new one if you would still like to answer."


@dataclass(frozen=True)
class OpenLink:
    link_key: int
    survey_name: str
    survey: Survey
    customer_id: str | None  # None: recorded under ``respondent`` (public link, widget visitor)
    respondent: dict[str, str]
    widget_key: int | None
    channel: str
    touchpoint: str | None
    answers: dict[str, Any]
    answered: bool


def create_link(
    uow: UnitOfWork,
    *,
    survey: str,
    customer: str,
    channel: str = "email",
    touchpoint: str | None = None,
    days: float = 30,
) -> dict[str, Any]:
    """A new personal link for a known customer; the token is returned once."""
    record = sendable_survey(uow, survey)
    profile = access_customer(uow, customer)
    token, expires_at = insert_link(
        uow,
        survey_key=record.survey_key,
        customer_key=profile.customer_key,
        channel=channel,
        touchpoint=touchpoint,
        days=days,
    )
    return {
        "survey": record.name,
        "customer_id": profile.customer_id,
        "token": token,
        "expires_at": expires_at,
    }


def sendable_survey(s: Session, ref: str) -> StoredSurvey:
    """The survey a link, invitation, trigger or widget may point at: it exists and is not archived."""
    record = access_survey(s, ref)
    if record.archived_at is not None:
        raise Conflict(f"Survey {record.name!r} is archived: it cannot be sent.")
    return record


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(24)


def insert_link(
    uow: UnitOfWork,
    *,
    survey_key: int,
    customer_key: int | None,
    channel: str,
    touchpoint: str | None = None,
    days: float = 30,
    respondent: Mapping[str, str] | None = None,
    widget_key: int | None = None,
) -> tuple[str, datetime]:
    """Store a new link and return its token (never stored) and expiry. A link without a
    ``customer_key`` records its answer under the ``respondent`` identity (public link, widget)."""
    if not 0 < days <= 365:
        raise InvalidInput("A link lives between a moment and 365 days (--days).")
    if customer_key is None and not respondent:
        raise InvalidInput("A link needs a customer or a respondent identity.")
    if channel not in CHANNELS:  # the answer is recorded with it: refuse what a response cannot hold
        raise InvalidInput(f"Unknown channel {channel!r}; choose one of {', '.join(CHANNELS)}.")
    token = new_token()
    now = datetime.now(UTC)
    expires_at = now + timedelta(days=days)
    insert_row(
        uow,
        "survey_links",
        "link_key",
        {
            "survey_key": survey_key,
            "customer_key": customer_key,
            "token_hash": hash_secret(token),
            "channel": channel,
            "touchpoint": touchpoint,
            "created_at": now,
            "expires_at": expires_at,
            "respondent": json.dumps(dict(respondent)) if respondent else None,
            "widget_key": widget_key,
        },
    )
    return token, expires_at


def link_key_of(s: Session, token: str) -> int:
    value = s.fetch_value("SELECT link_key FROM survey_links WHERE token_hash = ?", [hash_secret(token)])
    if value is None:
        raise NotFound(GONE)
    return int(value)


def open_link(s: Session, token: str, now: datetime | None = None) -> OpenLink:
    """The link a token opens, with its survey; NotFound (one message) when unknown or expired."""
    row = s.fetch_one(
        "SELECT l.link_key, l.channel, l.touchpoint, l.answers, l.expires_at, l.answered_at, v.name, v.definition, "
        "v.archived_at, c.customer_id, l.respondent, l.widget_key FROM survey_links l JOIN surveys v USING (survey_key) "
        "LEFT JOIN customers p ON p.customer_key = l.customer_key "
        "LEFT JOIN customers c ON c.customer_key = p.canonical_key "
        "WHERE l.token_hash = ? OR l.reminder_token_hash = ?",
        [hash_secret(token), hash_secret(token)],
    )
    if row is None or row["archived_at"] is not None or row["expires_at"] <= (now or datetime.now(UTC)):
        raise NotFound(GONE)
    return OpenLink(
        link_key=int(row["link_key"]),
        survey_name=row["name"],
        survey=parse_survey(json.loads(row["definition"])),
        customer_id=row["customer_id"],
        respondent=json.loads(row["respondent"]) if row["respondent"] else {},
        widget_key=row["widget_key"],
        channel=row["channel"],
        touchpoint=row["touchpoint"],
        answers=json.loads(row["answers"]) if row["answers"] else {},
        answered=row["answered_at"] is not None,
    )


def save_partial(uow: UnitOfWork, link: OpenLink, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Keep what was answered so far (validated, invisible questions dropped)."""
    cleaned = validate_answers(link.survey, answers, partial=True)
    uow.execute(
        "UPDATE survey_links SET answers = ? WHERE link_key = ? AND answered_at IS NULL",
        [json.dumps(cleaned, ensure_ascii=False), link.link_key],
    )
    return cleaned


def complete(store: Store, link: OpenLink, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the whole answer, record it as a response on the customer's timeline (once), and
    close the link. Returns the cleaned answers."""
    cleaned = validate_answers(link.survey, answers, partial=False)
    table = response_row(link, cleaned, datetime.now(UTC))
    if table is not None:
        report = import_table(store, "responses", table, options=ImportOptions(source=SOURCE))
        if report.rejected_count:  # never close a link whose answer was not recorded
            reasons = "; ".join(f"{r.column}: {r.reason}" for r in report.rejected) or "rejected"
            raise ImportFailed(f"The answer could not be recorded ({reasons}).")
    with store.unit_of_work() as uow:
        uow.execute(
            "UPDATE survey_links SET answers = ?, answered_at = coalesce(answered_at, now()) WHERE link_key = ?",
            [json.dumps(cleaned, ensure_ascii=False), link.link_key],
        )
    return cleaned


def response_row(link: OpenLink, answers: Mapping[str, Any], at: datetime) -> pa.Table | None:
    """The response to record: the metric question's score, the first visible comment as the
    comment, every other answer under properties. None when the survey feeds no metric."""
    metric_question = link.survey.metric_question()
    if metric_question is None or answers.get(metric_question.name) is None:
        return None
    comments = [q.name for q in link.survey.questions() if q.type == "comment" and answers.get(q.name)]
    comment = str(answers[comments[0]]) if comments else None
    others = {k: v for k, v in answers.items() if k != metric_question.name}
    who = {"customer_id": link.customer_id} if link.customer_id else dict(link.respondent)
    row = {
        **who,
        "metric": link.survey.metric.metric if link.survey.metric else "other",
        "score": str(answers[metric_question.name]),
        "scale_min": str(metric_question.rate_min),
        "scale_max": str(metric_question.rate_max),
        "comment": comment,
        "survey": link.survey_name,
        "touchpoint": link.touchpoint,
        "channel": link.channel,
        "answered_at": at.isoformat(),
        "properties": json.dumps({"answers": others, "link": f"lnk_{link.link_key}"}, ensure_ascii=False),
        "idempotency_key": f"link-{link.link_key}",
    }
    return pa.table({k: pa.array([v], pa.string()) for k, v in row.items()})
