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

from dataclasses import dataclass
from datetime import datetime

from cxlens.storage.store import Session, UnitOfWork

CANDIDATES = "invitation_candidates"

CANDIDATES_DDL = (
    f"CREATE OR REPLACE TEMP TABLE {CANDIDATES} ("
    " survey_key BIGINT NOT NULL, customer_key BIGINT NOT NULL, channel VARCHAR NOT NULL, touchpoint VARCHAR,"
    " trigger_key BIGINT, subject VARCHAR NOT NULL, send_after TIMESTAMPTZ NOT NULL,"
    " remind_after_days DOUBLE, exempt BOOLEAN NOT NULL)"  # exempt: not bound by the contact rule
)

# The address of a canonical profile: the email any of its merged profiles was seen with most recently.
_ADDRESS = (
    "(SELECT arg_max(x.value, x.first_seen_at) FROM identities x JOIN customers m USING (customer_key) "
    "WHERE m.canonical_key = c.customer_key AND x.kind = 'email')"
)

# Was this customer contacted within the window around the candidate's send time? Invitations count
# while planned or sent; links count when made (a link sent by hand, shown in the widget, emailed).
_RECENTLY_CONTACTED = """(
    EXISTS (SELECT 1 FROM survey_invitations i WHERE i.customer_key = c.customer_key
            AND i.status IN ('scheduled', 'sent')
            AND abs(epoch(i.send_after) - epoch(c.send_after)) < ? * 86400)
    OR EXISTS (SELECT 1 FROM survey_links l JOIN customers m ON m.customer_key = l.customer_key
               WHERE m.canonical_key = c.customer_key
               AND abs(epoch(l.created_at) - epoch(c.send_after)) < ? * 86400)
)"""


@dataclass(frozen=True)
class Admitted:
    scheduled: int
    suppressed: int


def prepare_candidates(s: Session) -> None:
    """An empty candidates table for this connection."""
    s.execute(CANDIDATES_DDL)


def admit_candidates(uow: UnitOfWork, *, contact_days: float, now: datetime) -> Admitted:
    """Turn the candidates into invitations (scheduled or suppressed, with the reason)."""
    before = _count_by_status(uow)
    uow.execute(
        f"""
        INSERT INTO survey_invitations (invitation_key, survey_key, customer_key, channel, touchpoint, trigger_key,
            subject, address, status, reason, send_after, remind_after_days, link_key, attempts, sent_at,
            reminded_at, created_at)
        WITH fresh AS (
            SELECT c.* FROM {CANDIDATES} c
            WHERE NOT EXISTS (SELECT 1 FROM survey_invitations i
                              WHERE i.customer_key = c.customer_key AND i.subject = c.subject
                              AND i.trigger_key IS NOT DISTINCT FROM c.trigger_key)
            QUALIFY row_number() OVER (PARTITION BY c.customer_key, c.trigger_key, c.subject ORDER BY c.send_after) = 1
        ),
        judged AS (
            SELECT c.*, {_ADDRESS} AS address,
                   NOT c.exempt AND ? > 0 AND (
                       row_number() OVER (PARTITION BY c.customer_key, c.exempt ORDER BY c.send_after, c.subject) > 1
                       OR {_RECENTLY_CONTACTED}) AS crowded
            FROM fresh c
        )
        SELECT (SELECT coalesce(max(invitation_key), 0) FROM survey_invitations)
                   + row_number() OVER (ORDER BY send_after, customer_key, subject),
               survey_key, customer_key, channel, touchpoint, trigger_key, subject, address,
               CASE WHEN address IS NULL OR crowded THEN 'suppressed' ELSE 'scheduled' END,
               CASE WHEN address IS NULL THEN 'no_address' WHEN crowded THEN 'contact_frequency' END,
               send_after, remind_after_days, NULL, 0, NULL, NULL, ?
        FROM judged
        """,
        [contact_days, contact_days, contact_days, now],
    )
    after = _count_by_status(uow)
    return Admitted(
        scheduled=after.get("scheduled", 0) - before.get("scheduled", 0),
        suppressed=after.get("suppressed", 0) - before.get("suppressed", 0),
    )


def _count_by_status(s: Session) -> dict[str, int]:
    rows = s.fetch_all("SELECT status, count(*) AS n FROM survey_invitations GROUP BY status")
    return {r["status"]: int(r["n"]) for r in rows}
