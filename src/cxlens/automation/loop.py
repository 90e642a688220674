"""Closing the loop: unhappy answers become follow-up cases for a team; when such a case is solved
the customer is asked again; ``loop_summary`` tells how many were followed up and recovered.

A rule names a metric, a threshold and (optionally) a survey. ``run_loop`` is one idempotent pass:

1. every answer a rule calls unhappy and not followed up yet gets one case, opened through the
   cases slice (source ``cxlens-loop``, external id ``followup-rsp_<key>``) with the answer and the
   customer's recent timeline attached, and a first internal note summarising both — so it is on
   the customer's timeline like any case;
2. a follow-up whose case is solved or closed is re-surveyed: an email invitation to the survey
   that was answered, planned through ``surveys.invitations`` and exempt from the contact-frequency
   rule (asking again after a follow-up conversation is the point). Another component sends it.

Everything is set-based: one query selects the new unhappy answers with their timelines, and the
cases and their notes are columns of its result, opened in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cxlens.automation.loop_queries import MATCHES, SOLVED, loop_summary, recent_followups
from cxlens.automation.records import LoopRule
from cxlens.cases.model import check_priority
from cxlens.cases.service import open_cases, record_case_events
from cxlens.core.credentials import check_handle
from cxlens.errors import Conflict, InvalidInput, NotFound
from cxlens.ingest.base import METRIC_SCALES
from cxlens.interactions.queries import timeline_items_sql
from cxlens.storage.keys import insert_row
from cxlens.storage.store import Session, Store, UnitOfWork
from cxlens.surveys.invitations import (
    CANDIDATE_COLUMNS,
    CANDIDATES,
    Admitted,
    admit_candidates,
    prepare_candidates,
)
from cxlens.surveys.queries import access_survey

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
) -> LoopRule:
    """A rule following up answers on ``metric`` scoring at most ``max_score`` (the metric's
    default when None), given from now on, to ``survey`` (name or id; None: any survey)."""
    check_rule_name(name)
    threshold = _threshold(metric, max_score)
    check_priority(priority)
    if not team.strip() or len(team) > 100:
        raise InvalidInput("Give the team that follows up (1–100 characters), e.g. support.")
    survey_key = _survey_key(uow, survey, metric)
    if uow.fetch_value("SELECT count(*) FROM loop_rules WHERE name = ?", [name]):
        raise Conflict(
            f"A follow-up rule named {name!r} exists already (perhaps disabled); choose another name."
        )
    insert_row(
        uow,
        "loop_rules",
        "rule_key",
        {"name": name, "metric": metric, "max_score": threshold, "survey_key": survey_key, "team": team.strip(),
         "priority": priority, "resurvey": resurvey, "created_at": datetime.now(UTC)},
    )  # fmt: skip
    return access_loop_rule(uow, name)


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
    record = access_survey(s, survey)
    if record.metric != metric:
        fed = f"feeds {record.metric}" if record.metric else "feeds no metric"
        raise InvalidInput(f"Survey {record.name!r} {fed}, not {metric}: its answers could never match.")
    return int(record.survey_key)


def access_loop_rule(s: Session, name: str) -> LoopRule:
    """The follow-up rule a user names; NotFound when there is none."""
    row = s.fetch_one(
        f"SELECT {_RULE_COLUMNS} FROM loop_rules u LEFT JOIN surveys v USING (survey_key) WHERE u.name = ?",
        [name],
    )
    if row is None:
        raise NotFound(f"No follow-up rule named {name!r}.")
    return LoopRule(**row)


def list_rules(s: Session) -> list[LoopRule]:
    """Every rule, enabled ones first."""
    rows = s.fetch_all(
        f"SELECT {_RULE_COLUMNS} FROM loop_rules u LEFT JOIN surveys v USING (survey_key) "
        "ORDER BY u.disabled_at IS NOT NULL, u.name"
    )
    return [LoopRule(**row) for row in rows]


def disable_rule(uow: UnitOfWork, name: str, *, now: datetime | None = None) -> LoopRule:
    """Stop following up new answers; follow-ups already opened still get their re-survey."""
    if access_loop_rule(uow, name).disabled_at is not None:
        raise Conflict(f"The follow-up rule {name!r} is disabled already.")
    uow.execute("UPDATE loop_rules SET disabled_at = ? WHERE name = ?", [now or datetime.now(UTC), name])
    return access_loop_rule(uow, name)


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
    with store.session() as s, store.unit_of_work(s) as uow:
        uow.execute(f"CREATE OR REPLACE TEMP TABLE _loop_picked AS {NEW_FOLLOWUPS_SQL}", [now, now])
        if not uow.fetch_value("SELECT count(*) FROM _loop_picked"):
            uow.drop_temp("_loop_picked")
            return 0
        # A case left by an earlier pass is kept as it is now (a team may have started on it).
        open_cases(uow, rows="_loop_picked", source=SOURCE)
        record_case_events(uow, rows="_loop_picked", source=SOURCE)
        opened = uow.fetch_value(
            "INSERT INTO loop_followups (response_key, rule_key, customer_key, case_key, created_at) "
            "SELECT o.response_key, o.rule_key, o.customer_key, k.case_key, ? FROM _loop_picked o "
            "JOIN cases k ON k.source = o.source AND k.external_id = o.external_id",
            [now],
        )
        uow.drop_temp("_loop_picked")
    return int(opened or 0)


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


# A score without a needless ".0".
_SCORE = "CASE WHEN {x} = floor({x}) THEN CAST(CAST({x} AS BIGINT) AS VARCHAR) ELSE CAST({x} AS VARCHAR) END"

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
    FROM ({timeline_items_sql("SELECT customer_key FROM members")}) i JOIN members mb ON mb.customer_key = i.customer_key
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
SELECT p.response_key AS _row, p.response_key, p.rule_key, p.canonical_key AS customer_key, '{SOURCE}' AS source,
       'followup-rsp_' || p.response_key AS external_id, 0 AS reopen_count,
       coalesce(p.channel, 'email') AS channel, 'Follow up: ' || p.headline || coalesce(' — ' || p.survey, '') AS subject,
       'new' AS status, p.priority, p.team, CAST(NULL AS VARCHAR) AS assignee, 'survey_followup' AS category,
       CAST(? AS TIMESTAMPTZ) AS created_at, CAST(NULL AS TIMESTAMPTZ) AS first_response_at,
       CAST(NULL AS TIMESTAMPTZ) AS solved_at, CAST(NULL AS TIMESTAMPTZ) AS closed_at,
       CAST(NULL AS DOUBLE) AS satisfaction,
       json_object('followup_of', 'rsp_' || p.response_key, 'rule', p.rule, 'survey', p.survey,
            'metric', p.metric, 'score', p.score, 'comment', p.comment, 'answers', p.answers,
            'recent_timeline', coalesce(to_json(p.items), '[]'::JSON)) AS properties,
       -- the case's first event: an internal note summarising the answer and the timeline
       'followup-rsp_' || p.response_key AS case_external_id, 'followup-rsp_' || p.response_key AS idempotency_key,
       CAST(? AS TIMESTAMPTZ) AS occurred_at, 'message' AS kind, 'internal' AS direction, 'cxlens' AS author,
       CAST(NULL AS VARCHAR) AS from_value, CAST(NULL AS VARCHAR) AS to_value,
       p.headline || ' (scale ' || p.scale_min || '–' || p.scale_max || ')' || coalesce(' on survey ' || p.survey, '')
           || ', answered ' || strftime(p.answered_at, '%Y-%m-%d %H:%M') || ' UTC'
           || coalesce(' by ' || p.channel, '') || '.' || chr(10)
           || 'Comment: ' || coalesce(p.comment, '(none)') || chr(10)
           || 'Rule ' || p.rule || ': follow up by ' || p.team || '.' || chr(10) || chr(10)
           || 'Recent timeline before the answer (newest first):' || chr(10) || coalesce(p.lines, '(nothing)')
           AS body
FROM shaped p
ORDER BY p.response_key
"""

# Solved follow-ups of re-surveying rules, not planned yet, to a survey that can still be answered.
RESURVEY_CANDIDATES_SQL = f"""
INSERT INTO {CANDIDATES} ({CANDIDATE_COLUMNS})
SELECT v.survey_key, c.canonical_key, 'email', '{TOUCHPOINT}', NULL, 'followup-' || f.response_key, ?, NULL, true
FROM loop_followups f
JOIN loop_rules u ON u.rule_key = f.rule_key
JOIN cases k ON k.case_key = f.case_key
JOIN responses r ON r.response_key = f.response_key
JOIN surveys v ON v.name = r.survey
JOIN customers c ON c.customer_key = f.customer_key
WHERE u.resurvey AND {SOLVED} AND f.resurvey_invitation_key IS NULL
  AND v.archived_at IS NULL
"""
