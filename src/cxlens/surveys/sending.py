"""Sending planned invitations and their reminders by email.

Each due invitation gets a fresh personal link and one email. The link, the ``sent`` mark and the
hand-over to the SMTP server happen in one transaction, committed only after the server accepted the
message: a refused message leaves no link behind, and a crash between the server's acceptance and
the commit sends that one message again on the next pass (at least once — never silently lost).
A temporary failure is retried with a growing pause up to ``max_attempts``; a permanent one (the
server refused the recipient) is marked ``failed`` at once. After a temporary failure the pass
stops: the server is in trouble, and the next pass will try again.

Reminders reuse the invitation's link through a second token (tokens are never stored, so the
first email's link cannot be re-sent): both emails open the same answers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from cxlens.core.credentials import hash_secret
from cxlens.errors import MailFailed
from cxlens.mail.smtp import Mailer
from cxlens.storage.store import Store
from cxlens.surveys.emails import Invitation, compose
from cxlens.surveys.language import parse_survey
from cxlens.surveys.links import insert_link, link_key_of, new_token

RETRY_MINUTES = 5  # then 20, 80: 5 × 4^(attempt - 1)


@dataclass(frozen=True)
class SendConfig:
    public_url: str  # e.g. https://cx.example.com, no trailing slash
    sender: str
    link_days: float
    max_attempts: int
    batch: int = 500  # invitations per pass; the next pass takes the rest


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    reminded: int = 0
    dropped: int = 0  # planned, then its survey was archived
    errors: list[str] = field(default_factory=list)


# The customer's language, when their profile names one (the email uses it if the survey has it).
_LOCALE = "json_extract_string(c.attributes, '$.locale') AS locale"

_DUE = f"""
SELECT i.invitation_key, i.survey_key, i.customer_key, i.touchpoint, i.address, i.attempts, v.definition, {_LOCALE}
FROM survey_invitations i JOIN surveys v USING (survey_key) JOIN customers c ON c.customer_key = i.customer_key
WHERE i.status = 'scheduled' AND i.send_after <= ? AND i.channel = 'email'
ORDER BY i.send_after, i.invitation_key
LIMIT ?
"""

_REMINDERS_DUE = f"""
SELECT i.invitation_key, i.address, l.link_key, l.expires_at, v.definition, {_LOCALE}
FROM survey_invitations i JOIN survey_links l USING (link_key) JOIN surveys v ON v.survey_key = i.survey_key
JOIN customers c ON c.customer_key = i.customer_key
WHERE i.status = 'sent' AND i.remind_after_days IS NOT NULL AND i.reminded_at IS NULL
  AND i.sent_at + to_seconds(CAST(i.remind_after_days * 86400 AS BIGINT)) <= ?
  AND l.answered_at IS NULL AND l.expires_at > ? AND v.archived_at IS NULL
ORDER BY i.sent_at, i.invitation_key
LIMIT ?
"""


def send_due(store: Store, mailer: Mailer, config: SendConfig, now: datetime) -> SendReport:
    """Send what is due, then the reminders that are due."""
    report = SendReport()
    with store.unit_of_work() as uow:
        held = uow.fetch_all(
            "UPDATE survey_invitations SET status = 'suppressed', reason = 'survey_archived' "
            "WHERE status = 'scheduled' AND survey_key IN (SELECT survey_key FROM surveys "
            "WHERE archived_at IS NOT NULL) RETURNING invitation_key"
        )
        report.dropped = len(held)
    with store.session() as s:
        due = s.fetch_all(_DUE, [now, config.batch])
    for row in due:  # one SMTP hand-over per invitation: I/O, not data work
        if not _send_invitation(store, mailer, config, row, now, report):
            return report
    with store.session() as s:
        reminders = s.fetch_all(_REMINDERS_DUE, [now, now, config.batch])
    for row in reminders:
        if not _send_reminder(store, mailer, config, row, now, report):
            break
    return report


def _send_invitation(
    store: Store, mailer: Mailer, config: SendConfig, row: dict[str, Any], now: datetime, report: SendReport
) -> bool:
    """True to go on with the next invitation."""
    survey = parse_survey(json.loads(row["definition"]))
    try:
        with store.unit_of_work() as uow:
            token, _ = insert_link(
                uow,
                survey_key=row["survey_key"],
                customer_key=row["customer_key"],
                channel="email",
                touchpoint=row["touchpoint"],
                days=config.link_days,
            )
            uow.execute(
                "UPDATE survey_invitations SET status = 'sent', sent_at = ?, link_key = ?, attempts = attempts + 1, "
                "reason = NULL WHERE invitation_key = ?",
                [now, link_key_of(uow, token), row["invitation_key"]],
            )
            mailer.send(
                _message(
                    Invitation(survey, row["address"], _url(config, token), math.ceil(config.link_days)),
                    config,
                    row["locale"],
                )
            )
    except MailFailed as error:
        attempts = int(row["attempts"]) + 1
        final = error.permanent or attempts >= config.max_attempts
        with store.unit_of_work() as uow:
            uow.execute(
                "UPDATE survey_invitations SET attempts = ?, reason = ?, status = ?, send_after = ? "
                "WHERE invitation_key = ?",
                [
                    attempts,
                    error.message,
                    "failed" if final else "scheduled",
                    now + timedelta(minutes=RETRY_MINUTES * 4 ** (attempts - 1)),
                    row["invitation_key"],
                ],
            )
        report.errors.append(error.message)
        if final:
            report.failed += 1
        else:
            report.retrying += 1
        return error.permanent
    report.sent += 1
    return True


def _send_reminder(
    store: Store, mailer: Mailer, config: SendConfig, row: dict[str, Any], now: datetime, report: SendReport
) -> bool:
    survey = parse_survey(json.loads(row["definition"]))
    token = new_token()
    days_left = max(1, math.ceil((row["expires_at"] - now).total_seconds() / 86400))
    try:
        with store.unit_of_work() as uow:
            uow.execute(
                "UPDATE survey_links SET reminder_token_hash = ? WHERE link_key = ?",
                [hash_secret(token), row["link_key"]],
            )
            uow.execute(
                "UPDATE survey_invitations SET reminded_at = ? WHERE invitation_key = ?",
                [now, row["invitation_key"]],
            )
            mailer.send(
                _message(
                    Invitation(survey, row["address"], _url(config, token), days_left, reminder=True),
                    config,
                    row["locale"],
                )
            )
    except MailFailed as error:
        report.errors.append(error.message)
        if error.permanent:  # the address is refused: do not remind again
            with store.unit_of_work() as uow:
                uow.execute(
                    "UPDATE survey_invitations SET reminded_at = ?, reason = ? WHERE invitation_key = ?",
                    [now, error.message, row["invitation_key"]],
                )
        return error.permanent
    report.reminded += 1
    return True


def _message(invitation: Invitation, config: SendConfig, locale: str | None) -> EmailMessage:
    """The email, or a permanent failure when it cannot be written (an address with a line break
    in it): that invitation fails alone instead of stopping every pass."""
    try:
        return compose(invitation, sender=config.sender, locale=locale)
    except ValueError as error:
        raise MailFailed(f"The email cannot be written: {error}", permanent=True) from error


def _url(config: SendConfig, token: str) -> str:
    return f"{config.public_url.rstrip('/')}/s/{token}"
