"""Planning invitations: who is asked, when, and who is held back.

Every way of asking by email — a trigger, a send by hand, a re-survey after a follow-up case — puts
its candidates in one temporary table and calls ``admit_candidates``, so the rules hold in one place
and in one set-based statement:

* a (trigger, customer, subject) is planned once, however often a pass runs (idempotent);
* the contact-frequency rule: a customer contacted (invited, or sent any survey link) within
  ``contact_days`` of the planned send time is held back (``suppressed``, reason
  ``contact_frequency``), and one pass plans at most one invitation per customer;
* a customer without an email address is held back (``no_address``).

Held-back rows are kept: they answer "why was this customer not asked?" and are never planned again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pyarrow as pa

from cxlens.errors import InvalidInput
from cxlens.storage.store import Session, UnitOfWork

CANDIDATES = "invitation_candidates"
CANDIDATE_COLUMNS = "survey_key, customer_key, channel, touchpoint, trigger_key, subject, send_after, remind_after_days, exempt"

CANDIDATES_DDL = (
    f"CREATE OR REPLACE TEMP TABLE {CANDIDATES} ("
    " survey_key BIGINT NOT NULL, customer_key BIGINT NOT NULL, channel VARCHAR NOT NULL, touchpoint VARCHAR,"
    " trigger_key BIGINT, subject VARCHAR NOT NULL, send_after TIMESTAMPTZ NOT NULL,"
    " remind_after_days DOUBLE, exempt BOOLEAN NOT NULL)"  # exempt: not bound by the contact rule
)

# Every contact of a canonical customer: invitations while planned or sent, and survey links when
# made (a link sent by hand, shown in the widget, emailed). The contact-frequency rule compares a
# candidate's send time with these; ``{customers}`` limits them to the customers being judged.
_CONTACTS = """
    SELECT i.customer_key, i.send_after AS contacted_at FROM survey_invitations i
    WHERE i.status IN ('scheduled', 'sent') AND i.customer_key IN ({customers})
    UNION ALL
    SELECT m.canonical_key, l.created_at FROM survey_links l JOIN customers m ON m.customer_key = l.customer_key
    WHERE m.canonical_key IN ({customers})
"""
_WITHIN_WINDOW = "abs(epoch(k.contacted_at) - epoch(c.send_after)) < $contact_days * 86400"

# The address of a canonical profile: its preferred email, else the email any of its merged profiles
# was seen with most recently.
_SEEN_EMAILS = """
    SELECT m.canonical_key AS customer_key, arg_max(x.value, x.first_seen_at) AS seen_email
    FROM identities x JOIN customers m USING (customer_key)
    WHERE x.kind = 'email' AND m.canonical_key IN ({customers}) GROUP BY m.canonical_key
"""


@dataclass(frozen=True)
class Admitted:
    scheduled: int
    suppressed: int
    unknown: tuple[str, ...] = ()  # references given by hand that name no customer: skipped


def prepare_candidates(s: Session) -> None:
    """An empty candidates table for this connection."""
    s.execute(CANDIDATES_DDL)


def admit_candidates(uow: UnitOfWork, *, contact_days: float, now: datetime) -> Admitted:
    """Turn the candidates into invitations (scheduled or suppressed, with the reason). Joins, not
    correlated subqueries: a day of a busy shop's deliveries is judged in one hash-join pass."""
    before = _count_by_status(uow)
    judged_customers = "SELECT customer_key FROM fresh"
    uow.execute(
        f"""
        INSERT INTO survey_invitations (invitation_key, survey_key, customer_key, channel, touchpoint, trigger_key,
            subject, address, status, reason, send_after, remind_after_days, link_key, attempts, sent_at,
            reminded_at, created_at)
        WITH fresh AS (
            SELECT c.*, row_number() OVER () AS candidate FROM {CANDIDATES} c
            WHERE NOT EXISTS (SELECT 1 FROM survey_invitations i
                              WHERE i.customer_key = c.customer_key AND i.subject = c.subject
                              AND i.trigger_key IS NOT DISTINCT FROM c.trigger_key)
            QUALIFY row_number() OVER (PARTITION BY c.customer_key, c.trigger_key, c.subject ORDER BY c.send_after) = 1
        ),
        contacts AS ({_CONTACTS.format(customers=judged_customers)}),
        near AS (
            SELECT DISTINCT c.candidate FROM fresh c JOIN contacts k USING (customer_key) WHERE {_WITHIN_WINDOW}
        ),
        seen AS ({_SEEN_EMAILS.format(customers=judged_customers)}),
        judged AS (
            SELECT c.*, coalesce(p.email, seen.seen_email) AS address,
                   NOT c.exempt AND $contact_days > 0 AND (
                       row_number() OVER (PARTITION BY c.customer_key, c.exempt ORDER BY c.send_after, c.subject) > 1
                       OR near.candidate IS NOT NULL) AS crowded
            FROM fresh c
            LEFT JOIN customers p ON p.customer_key = c.customer_key
            LEFT JOIN seen ON seen.customer_key = c.customer_key
            LEFT JOIN near ON near.candidate = c.candidate
        )
        SELECT (SELECT coalesce(max(invitation_key), 0) FROM survey_invitations)
                   + row_number() OVER (ORDER BY send_after, customer_key, subject),
               survey_key, customer_key, channel, touchpoint, trigger_key, subject, address,
               CASE WHEN address IS NULL OR crowded THEN 'suppressed' ELSE 'scheduled' END,
               CASE WHEN address IS NULL THEN 'no_address' WHEN crowded THEN 'contact_frequency' END,
               send_after, remind_after_days, NULL, 0, NULL, NULL, $now
        FROM judged
        """,
        {"contact_days": contact_days, "now": now},
    )
    after = _count_by_status(uow)
    return Admitted(
        scheduled=after.get("scheduled", 0) - before.get("scheduled", 0),
        suppressed=after.get("suppressed", 0) - before.get("suppressed", 0),
    )


def recently_contacted(s: Session, *, customer_key: int, at: datetime, contact_days: float) -> bool:
    """The contact-frequency rule for one (canonical) customer at one moment: the widget asks it
    before showing a survey, with the very clause the invitation planner uses."""
    if contact_days <= 0:
        return False
    return bool(
        s.fetch_value(
            "WITH c AS (SELECT CAST($customer AS BIGINT) AS customer_key, CAST($at AS TIMESTAMPTZ) AS send_after), "
            f"contacts AS ({_CONTACTS.format(customers='$customer')}) "
            f"SELECT EXISTS (SELECT 1 FROM c JOIN contacts k USING (customer_key) WHERE {_WITHIN_WINDOW})",
            {"customer": customer_key, "at": at, "contact_days": contact_days},
        )
    )


def _count_by_status(s: Session) -> dict[str, int]:
    rows = s.fetch_all("SELECT status, count(*) AS n FROM survey_invitations GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}


def invite_customers(  # noqa: PLR0913 - a send's settings, keyword-only
    uow: UnitOfWork,
    *,
    survey_key: int,
    refs: Sequence[str] = (),
    segment: str | None = None,
    touchpoint: str | None = None,
    remind_after_days: float | None = None,
    contact_days: float,
    respect_contact_rule: bool = True,
    now: datetime,
) -> Admitted:
    """Invite the customers named by ``refs`` (customer ids or emails) or every customer of a
    ``segment``, by email, now. A reference that names no customer is skipped — one mistyped
    address must not hold back the rest — and returned in ``unknown`` so the sender can see it."""
    if bool(refs) == (segment is not None):
        raise InvalidInput("Name customers (ids or emails) or a segment, not both and not neither.")
    prepare_candidates(uow)
    uow.execute("CREATE OR REPLACE TEMP TABLE invite_refs (ref VARCHAR)")
    if refs:
        uow.put_arrow("invite_refs_in", pa.table({"ref": pa.array([r.strip() for r in refs], pa.string())}))
        uow.execute("INSERT INTO invite_refs (ref) SELECT ref FROM invite_refs_in")
        unknown = tuple(
            str(m["ref"])
            for m in uow.fetch_all(
                "SELECT DISTINCT ref FROM invite_refs r "
                f"WHERE NOT EXISTS (SELECT 1 FROM ({_REF_MATCHES}) m WHERE m.ref = r.ref) ORDER BY ref"
            )
        )
        chosen = f"SELECT DISTINCT canonical_key FROM ({_REF_MATCHES})"
        params: list[Any] = []
    else:
        chosen = "SELECT DISTINCT canonical_key FROM customers WHERE segment = ?"
        params = [segment]
        unknown = ()
    subject = f"manual-{now:%Y%m%dT%H%M%S%f}"
    uow.execute(
        f"INSERT INTO {CANDIDATES} ({CANDIDATE_COLUMNS}) SELECT ?, canonical_key, 'email', ?, NULL, ?, ?, ?, ? FROM ({chosen})",
        [survey_key, touchpoint, subject, now, remind_after_days, not respect_contact_rule, *params],
    )
    admitted = admit_candidates(uow, contact_days=contact_days, now=now)
    return replace(admitted, unknown=unknown)


# References to canonical profiles: a public customer id, or any identity value (an email in any case).
_REF_MATCHES = """
SELECT r.ref, c.canonical_key FROM invite_refs r JOIN customers c ON c.customer_id = r.ref
UNION ALL
SELECT r.ref, c.canonical_key FROM invite_refs r JOIN identities x ON x.value IN (r.ref, lower(r.ref))
JOIN customers c ON c.customer_key = x.customer_key
"""


def list_invitations(
    s: Session, *, survey_key: int | None = None, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest invitations, with who, why and what became of them."""
    return s.fetch_all(
        "SELECT 'inv_' || i.invitation_key AS invitation, v.name AS survey, c.customer_id, i.address, i.status, "
        "i.reason, coalesce(t.name, 'manual') AS trigger, i.touchpoint, i.send_after, i.sent_at, i.reminded_at, "
        "l.answered_at "
        "FROM survey_invitations i JOIN surveys v USING (survey_key) JOIN customers c ON c.customer_key = i.customer_key "
        "LEFT JOIN survey_triggers t ON t.trigger_key = i.trigger_key LEFT JOIN survey_links l ON l.link_key = i.link_key "
        "WHERE (CAST(? AS BIGINT) IS NULL OR i.survey_key = ?) AND (CAST(? AS VARCHAR) IS NULL OR i.status = ?) "
        "ORDER BY i.invitation_key DESC LIMIT ?",
        [survey_key, survey_key, status, status, limit],
    )
