"""Closing the loop: unhappy answers become follow-up cases for a team; when such a case is solved
the customer is asked again; ``loop_summary`` tells how many were followed up and recovered.

A rule names a metric, a threshold and (optionally) a survey. ``run_loop`` is one idempotent pass:

1. every answer a rule calls unhappy and not followed up yet gets one case, imported through the
   import pipeline (source ``cxlens-loop``, external id ``followup-rsp_<key>``) with the answer and
   the customer's recent timeline attached, and a first internal note summarising both — so it is
   on the customer's timeline like any case;
2. a follow-up whose case is solved or closed is re-surveyed: an email invitation to the survey
   that was answered, planned through ``surveys.invitations`` and exempt from the contact-frequency
   rule (asking again after a follow-up conversation is the point). Another component sends it.

Everything is set-based: one query selects the new unhappy answers with their timelines, and the
cases and notes are columns of its Arrow result.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cxlens.core.credentials import check_handle
from cxlens.errors import Conflict, InvalidInput, NotFound
from cxlens.ingest.base import METRIC_SCALES, PRIORITIES
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.store import Session, Store, UnitOfWork
from cxlens.surveys.invitations import CANDIDATES, Admitted, admit_candidates, prepare_candidates
from cxlens.surveys.loop_queries import MATCHES, SOLVED_STATUSES, loop_summary, recent_followups
from cxlens.surveys.queries import survey_record

__all__ = ["add_rule", "disable_rule", "list_rules", "loop_summary", "recent_followups", "run_loop"]

SOURCE = "cxlens-loop"
TOUCHPOINT = "followup"
RECENT_ITEMS = 10
# Threshold by metric, on the metric's usual scale (the raw score is compared): NPS 0–10 at most 6
# (detractors); CSAT 1–5 at most 2 (dissatisfied or very dissatisfied); CES 1–7 at most 3 (some
# disagreement that it was easy).
DEFAULT_MAX_SCORE = {"nps": 6.0, "csat": 2.0, "ces": 3.0}

_RULE_COLUMNS = "u.name, u.metric, u.max_score, v.name AS survey, u.team, u.priority, u.resurvey, u.created_at, u.disabled_at"


def check_rule_name(name: str) -> str:
    return check_handle(name, kind="rule name", example="`nps-detractors`", punctuation="_-")


def add_rule(
    uow: UnitOfWork,
    *,
    name: str,
    metric: str,
    max_score: float | None = None,
    survey: str | None = None,
    team: str,
    priority: str = "high",
    resurvey: bool = True,
) -> dict[str, Any]:
    """A rule following up answers on ``metric`` scoring at most ``max_score`` (the metric's
    default when None), given from now on, to ``survey`` (name or id; None: any survey)."""
    check_rule_name(name)
    threshold = _threshold(metric, max_score)
    if priority not in PRIORITIES:
        raise InvalidInput(f"Unknown priority {priority!r}; choose one of {', '.join(PRIORITIES)}.")
    if not team.strip() or len(team) > 100:
        raise InvalidInput("Give the team that follows up (1–100 characters), e.g. support.")
    survey_key = _survey_key(uow, survey, metric)
    if uow.fetch_value("SELECT count(*) FROM loop_rules WHERE name = ?", [name]):
        raise Conflict(
            f"A follow-up rule named {name!r} exists already (perhaps disabled); choose another name."
        )
    uow.execute(
        "INSERT INTO loop_rules SELECT coalesce(max(rule_key), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, NULL FROM loop_rules",
        [name, metric, threshold, survey_key, team.strip(), priority, resurvey, datetime.now(UTC)],
    )
    return rule_record(uow, name)


def _threshold(metric: str, max_score: float | None) -> float:
    if metric not in DEFAULT_MAX_SCORE:
        raise InvalidInput(f"Unknown metric {metric!r}; choose one of {', '.join(DEFAULT_MAX_SCORE)}.")
    low, high = METRIC_SCALES[metric]
    threshold = DEFAULT_MAX_SCORE[metric] if max_score is None else float(max_score)
    if not low <= threshold < high:
        raise InvalidInput(
            f"The highest score to follow up must be from {low} to {high - 1} for {metric} "
            f"(its scale is {low}–{high}); {threshold:g} would follow up {'nobody' if threshold < low else 'everyone'}."
        )
    return threshold


def _survey_key(s: Session, survey: str | None, metric: str) -> int | None:
    if survey is None:
        return None
    record = survey_record(s, survey)
    if record["metric"] != metric:
        fed = f"feeds {record['metric']}" if record["metric"] else "feeds no metric"
        raise InvalidInput(f"Survey {record['name']!r} {fed}, not {metric}: its answers could never match.")
    return int(record["survey_key"])


def rule_record(s: Session, name: str) -> dict[str, Any]:
    row = s.fetch_one(
        f"SELECT {_RULE_COLUMNS} FROM loop_rules u LEFT JOIN surveys v USING (survey_key) WHERE u.name = ?",
        [name],
    )
    if row is None:
        raise NotFound(f"No follow-up rule named {name!r}.")
    return row


def list_rules(s: Session) -> list[dict[str, Any]]:
    """Every rule, enabled ones first."""
    return s.fetch_all(
        f"SELECT {_RULE_COLUMNS} FROM loop_rules u LEFT JOIN surveys v USING (survey_key) "
        "ORDER BY u.disabled_at IS NOT NULL, u.name"
    )


def disable_rule(uow: UnitOfWork, name: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Stop following up new answers; follow-ups already opened still get their re-survey."""
    if rule_record(uow, name)["disabled_at"] is not None:
        raise Conflict(f"The follow-up rule {name!r} is disabled already.")
    uow.execute("UPDATE loop_rules SET disabled_at = ? WHERE name = ?", [now or datetime.now(UTC), name])
    return rule_record(uow, name)


def run_loop(store: Store, *, contact_days: float, now: datetime) -> dict[str, int]:
    """One pass: open follow-up cases for new unhappy answers, plan re-surveys for solved ones.
    Safe to repeat and to interrupt: a pass only picks up what is not done yet."""
    opened = _open_followups(store, now)
    admitted = _plan_resurveys(store, contact_days=contact_days, now=now)
    return {
        "followups_opened": opened,
        "resurveys_planned": admitted.scheduled,
        "resurveys_held_back": admitted.suppressed,
    }


def _open_followups(store: Store, now: datetime) -> int:
    with store.session() as s:
        picked = s.fetch_arrow(NEW_FOLLOWUPS_SQL, [now.isoformat()])
    if picked.num_rows == 0:
        return 0
    options = ImportOptions(source=SOURCE)
    # A case left by a pass cut short is kept as it is now (a team may have started on it).
    fresh = picked.filter(pc.invert(picked.column("case_exists")))
    if fresh.num_rows:
        import_table(store, "cases", _columns(fresh, CASE_COLUMNS), options=options)
    import_table(store, "case_events", _columns(picked, EVENT_COLUMNS), options=options)
    with store.unit_of_work() as uow:
        uow.put_arrow(
            "_loop_opened", picked.select(["response_key", "rule_key", "canonical_key", "external_id"])
        )
        # Only answers whose case is in (a rejected row is retried on the next pass).
        opened = uow.fetch_value(
            "INSERT INTO loop_followups (response_key, rule_key, customer_key, case_key, created_at) "
            "SELECT o.response_key, o.rule_key, o.canonical_key, k.case_key, ? FROM _loop_opened o "
            "JOIN cases k ON k.source = ? AND k.external_id = o.external_id "
            "WHERE o.response_key NOT IN (SELECT response_key FROM loop_followups)",
            [now, SOURCE],
        )
        uow.drop_temp("_loop_opened")
    return int(opened or 0)


def _columns(table: pa.Table, columns: dict[str, str]) -> pa.Table:
    """The result's columns ``columns`` (result name -> field name), renamed for the import."""
    return table.select(list(columns)).rename_columns(list(columns.values()))


def _plan_resurveys(store: Store, *, contact_days: float, now: datetime) -> Admitted:
    with store.session() as s:
        prepare_candidates(s)
        with store.unit_of_work(s) as uow:
            uow.execute(RESURVEY_CANDIDATES_SQL, [now])
            admitted = admit_candidates(uow, contact_days=contact_days, now=now)
            uow.execute(
                "UPDATE loop_followups SET resurvey_invitation_key = i.invitation_key FROM survey_invitations i "
                "WHERE loop_followups.resurvey_invitation_key IS NULL AND i.trigger_key IS NULL "
                "AND i.subject = 'followup-' || loop_followups.response_key"
            )
        s.drop_temp(CANDIDATES)
    return admitted


# The import fields each column of NEW_FOLLOWUPS_SQL's result feeds.
CASE_COLUMNS = {
    "external_id": "external_id",
    "customer_id": "customer_id",
    "channel": "channel",
    "subject": "subject",
    "status": "status",
    "priority": "priority",
    "team": "team",
    "category": "category",
    "created_at": "created_at",
    "properties": "properties",
}
EVENT_COLUMNS = {
    "external_id": "case_external_id",
    "created_at": "occurred_at",
    "kind": "kind",
    "direction": "direction",
    "author": "author",
    "body": "body",
    "event_key": "idempotency_key",
}

# A score without a needless ".0".
_SCORE = "CASE WHEN {x} = floor({x}) THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) ELSE CAST({x} AS VARCHAR) END"

# The customer's timeline, as interactions/queries.py shows it, for the profiles in `members`.
_TIMELINE_ITEMS = """
    SELECT customer_key, occurred_at, 'int_' || interaction_key AS id, 'interaction' AS type, channel,
           name AS title, CAST(NULL AS DOUBLE) AS score, CAST(NULL AS VARCHAR) AS text
    FROM interactions WHERE customer_key IN (SELECT customer_key FROM members)
    UNION ALL
    SELECT customer_key, answered_at, 'rsp_' || response_key, 'response', channel, coalesce(survey, metric),
           score, comment
    FROM responses WHERE customer_key IN (SELECT customer_key FROM members)
    UNION ALL
    SELECT customer_key, created_at, case_id, 'case', channel, subject, NULL, status || coalesce(' · ' || team, '')
    FROM cases WHERE customer_key IN (SELECT customer_key FROM members)
    UNION ALL
    SELECT k.customer_key, e.occurred_at, 'cev_' || e.event_key, 'case_' || e.kind, coalesce(e.channel, k.channel),
           CASE e.kind WHEN 'message' THEN coalesce(e.direction || ' ', '') || 'message' ELSE replace(e.kind, '_', ' ') END
               || ' on ' || k.case_id, NULL, e.body
    FROM case_events e JOIN cases k USING (case_key) WHERE k.customer_key IN (SELECT customer_key FROM members)
"""

NEW_FOLLOWUPS_SQL = f"""
WITH pending AS (
    SELECT r.response_key, r.metric, r.score, r.scale_min, r.scale_max, r.comment, r.survey, r.channel,
           r.answered_at, json_extract(r.properties, '$.answers') AS answers, c.canonical_key,
           u.rule_key, u.name AS rule, u.team, u.priority
    FROM responses r
    JOIN loop_rules u ON {MATCHES}
    JOIN customers c ON c.customer_key = r.customer_key
    WHERE u.disabled_at IS NULL
      AND r.response_key NOT IN (SELECT response_key FROM loop_followups)
    QUALIFY row_number() OVER (PARTITION BY r.response_key ORDER BY u.rule_key) = 1
),
members AS (
    SELECT m.customer_key, p.response_key, p.answered_at
    FROM pending p JOIN customers m ON m.canonical_key = p.canonical_key
),
recent AS (
    SELECT mb.response_key, i.occurred_at, i.id, i.type, i.channel, i.title, i.score, left(i.text, 300) AS text
    FROM ({_TIMELINE_ITEMS}) i JOIN members mb ON mb.customer_key = i.customer_key
    WHERE i.occurred_at < mb.answered_at
    QUALIFY row_number() OVER (PARTITION BY mb.response_key ORDER BY i.occurred_at DESC, i.id DESC) <= {RECENT_ITEMS}
),
timeline AS (
    SELECT response_key,
           list({{'at': strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ'), 'id': id, 'type': type, 'channel': channel, 'title': title, 'score': score,
                  'text': text}} ORDER BY occurred_at DESC, id DESC) AS items,
           string_agg('- ' || strftime(occurred_at, '%Y-%m-%d %H:%M') || ' · ' || type || coalesce(' · ' || channel, '')
                      || coalesce(' · ' || title, '') || coalesce(' · score ' || {_SCORE.format(x="score")}, '')
                      || coalesce(' · ' || text, ''), chr(10) ORDER BY occurred_at DESC, id DESC) AS lines
    FROM recent GROUP BY response_key
),
shaped AS (
    SELECT p.*, t.items, t.lines, upper(p.metric) || ' ' || {_SCORE.format(x="p.score")} AS headline
    FROM pending p LEFT JOIN timeline t USING (response_key)
)
SELECT p.response_key, p.rule_key, p.canonical_key, cc.customer_id,
       EXISTS (SELECT 1 FROM cases k WHERE k.source = '{SOURCE}' AND k.external_id = 'followup-rsp_' || p.response_key)
           AS case_exists,
       'followup-rsp_' || p.response_key AS external_id, 'followup-rsp_' || p.response_key AS event_key,
       coalesce(p.channel, 'email') AS channel, 'new' AS status, p.priority, p.team,
       'survey_followup' AS category, 'Follow up: ' || p.headline || coalesce(' — ' || p.survey, '') AS subject,
       CAST(? AS VARCHAR) AS created_at,
       CAST(json_object('followup_of', 'rsp_' || p.response_key, 'rule', p.rule, 'survey', p.survey,
            'metric', p.metric, 'score', p.score, 'comment', p.comment, 'answers', p.answers,
            'recent_timeline', coalesce(to_json(p.items), '[]'::JSON)) AS VARCHAR) AS properties,
       'message' AS kind, 'internal' AS direction, 'cxlens' AS author,
       p.headline || ' (scale ' || p.scale_min || '–' || p.scale_max || ')' || coalesce(' on survey ' || p.survey, '')
           || ', answered ' || strftime(p.answered_at, '%Y-%m-%d %H:%M') || ' UTC'
           || coalesce(' by ' || p.channel, '') || '.' || chr(10)
           || 'Comment: ' || coalesce(p.comment, '(none)') || chr(10)
           || 'Rule ' || p.rule || ': follow up by ' || p.team || '.' || chr(10) || chr(10)
           || 'Recent timeline before the answer (newest first):' || chr(10) || coalesce(p.lines, '(nothing)')
           AS body
FROM shaped p JOIN customers cc ON cc.customer_key = p.canonical_key
ORDER BY p.response_key
"""

# Solved follow-ups of re-surveying rules, not planned yet, to a survey that can still be answered.
RESURVEY_CANDIDATES_SQL = f"""
INSERT INTO {CANDIDATES} (survey_key, customer_key, channel, touchpoint, trigger_key, subject, send_after,
                          remind_after_days, exempt)
SELECT v.survey_key, c.canonical_key, 'email', '{TOUCHPOINT}', NULL, 'followup-' || f.response_key, ?, NULL, true
FROM loop_followups f
JOIN loop_rules u ON u.rule_key = f.rule_key
JOIN cases k ON k.case_key = f.case_key
JOIN responses r ON r.response_key = f.response_key
JOIN surveys v ON v.name = r.survey
JOIN customers c ON c.customer_key = f.customer_key
WHERE u.resurvey AND k.status IN {SOLVED_STATUSES} AND f.resurvey_invitation_key IS NULL
  AND v.archived_at IS NULL
"""
