"""Triggers: surveys that ask by themselves, at the moments that matter.

Three kinds:

* ``interaction`` — after an interaction with a given name (``Order Delivered`` → CES), as tracked
  through the Segment-compatible API or imported;
* ``case_solved`` — after a support case is solved (→ CSAT); follow-up cases of the closed loop are
  left to the loop's own re-survey;
* ``every`` — each active customer (seen within the period) once per ``every_days`` (→ relationship
  NPS every 90 days). Each customer's first ask falls at a point of the first period fixed by a hash of
  the customer, so a new trigger does not invite everyone on the same morning.

A pass plans invitations for moments since the trigger was created and not older than
``MAX_AGE_DAYS`` (an event arriving weeks late is not worth a survey), sends each ``delay_minutes``
after its moment, keeps a deterministic ``sample_rate`` share (the same event is always in or out, so
passes can repeat), and hands the candidates to ``invitations.admit_candidates``, which applies the
contact-frequency rule. Everything is one INSERT … SELECT per pass: no loop over events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cxlens.automation.loop import SOURCE as LOOP_SOURCE  # its follow-up cases are re-surveyed by the loop
from cxlens.cases.model import resolved_sql
from cxlens.core.credentials import check_handle
from cxlens.errors import Conflict, InvalidInput, NotFound
from cxlens.storage.keys import insert_row
from cxlens.storage.store import Session, UnitOfWork
from cxlens.surveys.invitations import (
    CANDIDATE_COLUMNS,
    CANDIDATES,
    Admitted,
    admit_candidates,
    prepare_candidates,
)
from cxlens.surveys.links import sendable_survey

KINDS = ("interaction", "case_solved", "every")
MAX_AGE_DAYS = 7

_DELAY = "to_seconds(CAST(t.delay_minutes * 60 AS BIGINT))"
# Deterministic sampling: a stable hash of (trigger, moment) against the rate, in 1/10,000 steps.
_SAMPLED = "(hash(t.trigger_key, {moment}) % 10000) < round(t.sample_rate * 10000)"

_INTERACTION_CANDIDATES = f"""
SELECT t.survey_key, p.canonical_key, 'email', coalesce(t.touchpoint, lower(replace(t.event, ' ', '_'))),
       t.trigger_key, 'int_' || i.interaction_key, i.occurred_at + {_DELAY}, t.remind_after_days, false
FROM survey_triggers t
JOIN interactions i ON i.name = t.event
JOIN customers p ON p.customer_key = i.customer_key
WHERE t.kind = 'interaction' AND t.disabled_at IS NULL
  AND i.occurred_at >= t.created_at AND i.occurred_at >= $oldest
  AND {_SAMPLED.format(moment="'int_' || i.interaction_key")}
  AND NOT EXISTS (SELECT 1 FROM survey_invitations x
                  WHERE x.trigger_key = t.trigger_key AND x.subject = 'int_' || i.interaction_key)
"""

_CASE_CANDIDATES = f"""
SELECT t.survey_key, p.canonical_key, 'email', coalesce(t.touchpoint, 'case_solved'),
       t.trigger_key, 'case_' || k.case_key, k.solved_at + {_DELAY}, t.remind_after_days, false
FROM survey_triggers t
JOIN cases k ON {resolved_sql("k")} AND k.solved_at IS NOT NULL
JOIN customers p ON p.customer_key = k.customer_key
WHERE t.kind = 'case_solved' AND t.disabled_at IS NULL
  AND k.solved_at >= t.created_at AND k.solved_at >= $oldest AND k.source <> '{LOOP_SOURCE}'
  AND {_SAMPLED.format(moment="'case_' || k.case_key")}
  AND NOT EXISTS (SELECT 1 FROM survey_invitations x
                  WHERE x.trigger_key = t.trigger_key AND x.subject = 'case_' || k.case_key)
"""

# ``offset``: where in the period this customer's turn falls (seconds), fixed per trigger and customer.
_PERIODIC_CANDIDATES = f"""
WITH active AS (
    SELECT canonical_key AS customer_key, max(last_seen_at) AS seen FROM customers GROUP BY canonical_key
),
turns AS (
    SELECT t.*, a.customer_key, a.seen,
           (hash(t.trigger_key, a.customer_key) % CAST(t.every_days * 86400 AS UBIGINT)) AS offset_seconds
    FROM survey_triggers t CROSS JOIN active a
    WHERE t.kind = 'every' AND t.disabled_at IS NULL
      AND a.seen >= $now - to_seconds(CAST(t.every_days * 86400 AS BIGINT))
),
periods AS (
    SELECT *, floor((epoch($now) - epoch(created_at) - offset_seconds) / (every_days * 86400)) AS period
    FROM turns
)
SELECT survey_key, customer_key, 'email', coalesce(touchpoint, 'relationship'), trigger_key,
       'period-' || CAST(period AS BIGINT), $now + to_seconds(CAST(delay_minutes * 60 AS BIGINT)),
       remind_after_days, false
FROM periods t
WHERE period >= 0 AND {_SAMPLED.format(moment="t.customer_key || '-' || CAST(t.period AS BIGINT)")}
  AND NOT EXISTS (SELECT 1 FROM survey_invitations x WHERE x.trigger_key = t.trigger_key
                  AND x.customer_key = t.customer_key AND x.subject = 'period-' || CAST(t.period AS BIGINT))
"""


def check_trigger_name(name: str) -> str:
    return check_handle(name, kind="trigger name", example="`csat-after-solve`", punctuation="_-")


def add_trigger(  # noqa: PLR0913 - the trigger's settings, keyword-only
    uow: UnitOfWork,
    *,
    name: str,
    survey: str,
    kind: str,
    event: str | None = None,
    every_days: float | None = None,
    delay_minutes: float = 0,
    sample_rate: float = 1.0,
    touchpoint: str | None = None,
    remind_after_days: float | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A new trigger; it plans invitations for moments from now on."""
    check_trigger_name(name)
    problems = _problems(kind, event, every_days, delay_minutes, sample_rate, remind_after_days)
    if problems:
        raise InvalidInput(" ".join(problems), data={"problems": [{"message": p} for p in problems]})
    record = sendable_survey(uow, survey)
    if uow.fetch_value("SELECT count(*) FROM survey_triggers WHERE name = ?", [name]):
        raise Conflict(f"A trigger named {name!r} exists already.")
    insert_row(
        uow,
        "survey_triggers",
        "trigger_key",
        {
            "name": name,
            "survey_key": record.survey_key,
            "kind": kind,
            "event": event.strip() if event else None,
            "every_days": every_days,
            "delay_minutes": delay_minutes,
            "sample_rate": sample_rate,
            "touchpoint": touchpoint,
            "remind_after_days": remind_after_days,
            "created_at": now or datetime.now(UTC),
        },
    )
    return trigger_record(uow, name)


def _problems(
    kind: str,
    event: str | None,
    every_days: float | None,
    delay_minutes: float,
    sample_rate: float,
    remind_after_days: float | None,
) -> list[str]:
    problems = []
    if kind not in KINDS:
        problems.append(f"Unknown trigger kind {kind!r}; choose one of {', '.join(KINDS)}.")
    if kind == "interaction" and not (event and event.strip()):
        problems.append(
            "An interaction trigger needs --event, the interaction's name (e.g. 'Order Delivered')."
        )
    if kind != "interaction" and event:
        problems.append("--event belongs to interaction triggers only.")
    if kind == "every" and not (every_days and every_days >= 1):
        problems.append("An every trigger needs --every-days of at least 1 (e.g. 90).")
    if kind != "every" and every_days is not None:
        problems.append("--every-days belongs to every triggers only.")
    if not 0 <= delay_minutes <= 60 * 24 * 30:
        problems.append("--delay-minutes is between 0 and 43,200 (30 days).")
    if not 0 < sample_rate <= 1:
        problems.append("--sample is a share above 0 and at most 1 (0.25 asks one in four).")
    if remind_after_days is not None and not 0 < remind_after_days <= 30:
        problems.append("--remind-after-days is above 0 and at most 30.")
    return problems


def trigger_record(s: Session, name: str) -> dict[str, Any]:
    row = s.fetch_one(
        "SELECT t.trigger_key, t.name, v.name AS survey, t.kind, t.event, t.every_days, t.delay_minutes, "
        "t.sample_rate, t.touchpoint, t.remind_after_days, t.created_at, t.disabled_at "
        "FROM survey_triggers t JOIN surveys v USING (survey_key) WHERE t.name = ?",
        [name],
    )
    if row is None:
        raise NotFound(f"No trigger named {name!r}.")
    return row


def list_triggers(s: Session, *, survey_key: int | None = None) -> list[dict[str, Any]]:
    """Every trigger with what it has done: invitations sent, held back by the contact rule, answered."""
    return s.fetch_all(
        "SELECT t.name, v.name AS survey, t.kind, coalesce(t.event, CAST(t.every_days AS VARCHAR) || ' days') "
        "AS moment, t.delay_minutes, t.sample_rate, t.disabled_at IS NULL AS enabled, "
        "count(i.invitation_key) FILTER (WHERE i.status = 'sent') AS sent, "
        "count(i.invitation_key) FILTER (WHERE i.status = 'scheduled') AS scheduled, "
        "count(i.invitation_key) FILTER (WHERE i.reason = 'contact_frequency') AS held_back, "
        "count(l.answered_at) AS answered "
        "FROM survey_triggers t JOIN surveys v USING (survey_key) "
        "LEFT JOIN survey_invitations i ON i.trigger_key = t.trigger_key "
        "LEFT JOIN survey_links l ON l.link_key = i.link_key "
        "WHERE CAST(? AS BIGINT) IS NULL OR t.survey_key = ? "
        "GROUP BY ALL ORDER BY t.name",
        [survey_key, survey_key],
    )


def disable_trigger(uow: UnitOfWork, name: str) -> dict[str, Any]:
    record = trigger_record(uow, name)
    if record["disabled_at"] is not None:
        raise Conflict(f"Trigger {name!r} is disabled already.")
    uow.execute("UPDATE survey_triggers SET disabled_at = now() WHERE name = ?", [name])
    uow.execute(
        "UPDATE survey_invitations SET status = 'suppressed', reason = 'trigger_disabled' "
        "WHERE status = 'scheduled' AND trigger_key = ?",
        [record["trigger_key"]],
    )
    return trigger_record(uow, name)


def run_triggers(uow: UnitOfWork, *, contact_days: float, now: datetime) -> Admitted:
    """One planning pass over every enabled trigger (idempotent)."""
    prepare_candidates(uow)
    oldest = now - timedelta(days=MAX_AGE_DAYS)
    for query, params in (
        (_INTERACTION_CANDIDATES, {"oldest": oldest}),
        (_CASE_CANDIDATES, {"oldest": oldest}),
        (_PERIODIC_CANDIDATES, {"now": now}),
    ):
        uow.execute(f"INSERT INTO {CANDIDATES} ({CANDIDATE_COLUMNS}) {query}", params)
    return admit_candidates(uow, contact_days=contact_days, now=now)
