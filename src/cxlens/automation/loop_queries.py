"""Reads for closing the loop: which answers a rule calls unhappy, and how the follow-ups went.

The funnel, each step counted over the unhappy answers given in the period (``since`` inclusive,
``until`` exclusive, on the answer's ``answered_at``):

* **unhappy** — answers matching an enabled rule (metric, survey, score at most ``max_score``,
  answered at or after the rule was created), plus answers already followed up whose rule has
  since been disabled (so no step can exceed the one before);
* **followed up** — a follow-up case was opened for the answer (a ``loop_followups`` row);
* **solved** — that case is now ``solved`` or ``closed`` (a reopened case no longer counts);
* **re-surveyed** — the re-survey invitation planned when the case was solved has been *sent*
  (planned, held back or failed invitations do not count);
* **answered again** — the same customer (canonical profile, so merged profiles count) gave an
  answer on the same metric after the case was solved, through any survey or channel;
* **recovered** — the *first* such answer scores above the rule's ``max_score``: a detractor who
  now answers 7 or more with the default NPS rule. An answer still at or below it is not.

"After the case was solved" reads the case's ``solved_at``, else its ``closed_at``, else (a
source that gives neither) the moment the loop saw the case solved and planned the re-survey.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cxlens.cases.model import resolved_sql
from cxlens.core.instants import check_instant
from cxlens.errors import InvalidInput
from cxlens.storage.store import Session

# Rule ``u`` applies to response ``r``. ``responses.survey`` holds the survey's name. The raw score
# is compared: a CSAT imported on a 1–10 scale is compared as given (docs/surveys.md).
MATCHES = (
    "u.metric = r.metric AND r.score <= u.max_score AND r.answered_at >= u.created_at "
    "AND (u.survey_key IS NULL OR r.survey = (SELECT v.name FROM surveys v WHERE v.survey_key = u.survey_key))"
)
SOLVED = resolved_sql("k")

# Every follow-up with its answer, case, rule and re-survey, and the first answer after the solve.
_FOLLOWUPS = f"""
WITH fu AS (
    SELECT f.response_key, f.created_at AS followed_up_at, r.answered_at, r.metric, r.score, r.comment,
           r.survey, m.canonical_key, k.case_id, k.status AS case_status, k.team, u.name AS rule,
           u.max_score, u.resurvey, i.status AS invitation_status,
           {SOLVED} AS solved,
           CASE WHEN {SOLVED} THEN coalesce(k.solved_at, k.closed_at, i.created_at) END
               AS solved_at
    FROM loop_followups f
    JOIN responses r ON r.response_key = f.response_key
    JOIN loop_rules u ON u.rule_key = f.rule_key
    JOIN cases k ON k.case_key = f.case_key
    JOIN customers m ON m.customer_key = f.customer_key
    LEFT JOIN survey_invitations i ON i.invitation_key = f.resurvey_invitation_key
    WHERE r.answered_at >= coalesce(CAST(? AS TIMESTAMPTZ), '-infinity')
      AND r.answered_at < coalesce(CAST(? AS TIMESTAMPTZ), 'infinity')
),
again AS (
    SELECT fu.response_key, min_by(a.score, a.answered_at) AS score_again
    FROM fu
    JOIN customers am ON am.canonical_key = fu.canonical_key
    JOIN responses a ON a.customer_key = am.customer_key
    WHERE a.metric = fu.metric AND a.answered_at > fu.solved_at
    GROUP BY fu.response_key
),
states AS (
    SELECT fu.*, a.score_again, a.score_again IS NOT NULL AS answered_again,
           a.score_again > fu.max_score AS recovered
    FROM fu LEFT JOIN again a USING (response_key)
)
"""


def loop_summary(
    s: Session, *, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """The follow-up funnel of the answers given in ``[since, until)`` (open ends: all time)."""
    counts = s.fetch_one(
        f"""{_FOLLOWUPS},
        unhappy AS (
            SELECT r.response_key FROM responses r JOIN loop_rules u ON {MATCHES}
            WHERE u.disabled_at IS NULL
              AND r.answered_at >= coalesce(CAST(? AS TIMESTAMPTZ), '-infinity')
              AND r.answered_at < coalesce(CAST(? AS TIMESTAMPTZ), 'infinity')
            UNION SELECT response_key FROM states
        )
        SELECT (SELECT count(*) FROM unhappy) AS unhappy,
               count(*) AS followed_up,
               count(*) FILTER (WHERE solved) AS solved,
               count(*) FILTER (WHERE invitation_status = 'sent') AS resurveyed,
               count(*) FILTER (WHERE answered_again) AS answered_again,
               count(*) FILTER (WHERE recovered) AS recovered
        FROM states""",
        [since, until, since, until],
    )
    assert counts is not None  # an aggregate always answers one row
    n = {k: int(v) for k, v in counts.items()}
    return {
        "since": since,
        "until": until,
        **n,
        "followed_up_rate": _rate(n["followed_up"], n["unhappy"]),
        "solved_rate": _rate(n["solved"], n["followed_up"]),
        "resurveyed_rate": _rate(n["resurveyed"], n["solved"]),
        "answered_again_rate": _rate(n["answered_again"], n["solved"]),
        "recovered_rate": _rate(n["recovered"], n["answered_again"]),
    }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def recent_followups(
    s: Session, limit: int = 20, *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """The latest follow-ups, newest first, with where each one stands.

    ``resurvey``: ``off`` (the rule does not re-survey), ``waiting`` (case not solved yet), or the
    invitation's status (``scheduled``, ``sent``, ``failed``, ``suppressed``; ``pending`` until the
    next loop pass plans it). ``recovered``: ``yes``, ``no``, or ``None`` until the customer answers
    again."""
    return s.fetch_all(
        f"""{_FOLLOWUPS}
        SELECT 'rsp_' || st.response_key AS response_id, c.customer_id, c.name AS customer_name, st.metric, st.score, st.comment,
               st.survey, st.answered_at, st.rule, st.case_id, st.case_status, st.team,
               CASE WHEN NOT st.resurvey THEN 'off' WHEN NOT st.solved THEN 'waiting'
                    ELSE coalesce(st.invitation_status, 'pending') END AS resurvey,
               st.score_again, CASE WHEN st.recovered THEN 'yes' WHEN st.answered_again THEN 'no' END AS recovered,
               st.followed_up_at
        FROM states st JOIN customers c ON c.customer_key = st.canonical_key
        ORDER BY st.followed_up_at DESC, st.response_key DESC
        LIMIT ?""",
        [since, until, limit],
    )


def period_bound(text: str | None, name: str) -> datetime | None:
    """``--since``/``--until`` as given: a date (midnight UTC) or an ISO date-time (naive = UTC)."""
    if text is None or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise InvalidInput(f"{name}: {text!r} is not an ISO date (YYYY-MM-DD) or date-time.") from error
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if problem := check_instant(value):
        raise InvalidInput(f"{name}: {text!r} {problem}.")
    return value
