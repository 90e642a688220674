"""The rows each metric reads, as portable SQL over the workspace (customer attributes joined
through the canonical profile, so merged customers count once under their current segment)."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import pyarrow as pa

from cxlens.metrics.schedule import Schedule, business_hours_sql
from cxlens.metrics.spec import MetricsSettings
from cxlens.storage.store import Session

_CASE_MESSAGES = (
    "SELECT case_key, count(*) FILTER (WHERE kind = 'message' AND direction = 'in') AS customer_messages, "
    "count(*) FILTER (WHERE kind = 'handoff') AS handoffs FROM case_events GROUP BY case_key"
)


def _utc(ts: str) -> str:
    """A TIMESTAMPTZ as a plain UTC timestamp: truncating it to a day, week or month then needs no
    time-zone library (the ICU path cost 400 of 630 ms for NPS by month over 8.8M answers)."""
    return f"make_timestamp(epoch_us({ts}))"


def _hours(end: str) -> str:
    """Calendar hours from the case's creation to ``end``; NULL when missing or before creation."""
    seconds = f"extract(epoch FROM ({end} - k.created_at))"
    return f"CASE WHEN {seconds} >= 0 THEN {seconds} / 3600.0 END"


FRAMES = {
    "customers": (
        f"SELECT c.segment, {_utc('coalesce(c.signed_up_at, c.first_seen_at, c.created_at)')} AS started_at, "
        f"{_utc('c.churned_at')} AS churned_at FROM customers c WHERE c.customer_key = c.canonical_key"
    ),
    "responses": (
        "SELECT r.metric, r.score, r.channel, r.touchpoint, r.survey, r.source, "
        f"{_utc('r.answered_at')} AS answered_at, c.segment "
        "FROM responses r JOIN customers k ON k.customer_key = r.customer_key "
        "JOIN customers c ON c.customer_key = k.canonical_key"
    ),
    "cases": (
        "SELECT k.channel, k.team, k.assignee, k.category, k.priority, k.status, k.source, "
        f"{_utc('k.created_at')} AS created_at, "
        "k.solved_at IS NOT NULL OR k.status IN ('solved', 'closed') AS resolved, "
        "k.reopen_count > 0 AS reopened, coalesce(m.customer_messages, 0) AS customer_messages, "
        "coalesce(m.handoffs, 0) AS handoffs, c.segment, "
        f"{_hours('k.first_response_at')} AS frt_hours, "
        f"{_hours('coalesce(k.solved_at, k.closed_at)')} AS ttr_hours, "
        "BUSINESS_HOURS, "
        # Days from this case's resolution to the same customer's next case (repeat contact).
        "extract(epoch FROM (lead(k.created_at) OVER (PARTITION BY c.customer_key ORDER BY k.created_at, "
        "k.case_key) - coalesce(k.solved_at, k.closed_at))) / 86400.0 AS days_to_next_case "
        f"FROM cases k LEFT JOIN ({_CASE_MESSAGES}) m ON m.case_key = k.case_key "
        "JOIN customers p ON p.customer_key = k.customer_key "
        "JOIN customers c ON c.customer_key = p.canonical_key"
    ),
}


DEFAULT_SCHEDULE = MetricsSettings().schedule


def frame_sql(source: str, schedule: Schedule = DEFAULT_SCHEDULE) -> str:
    """The base rows of ``source``; cases carry business hours measured on ``schedule``."""
    business = (
        f"{business_hours_sql(schedule, 'k.created_at', 'k.first_response_at')} AS frt_business_hours, "
        f"{business_hours_sql(schedule, 'k.created_at', 'coalesce(k.solved_at, k.closed_at)')} "
        "AS ttr_business_hours"
    )
    return FRAMES[source].replace("BUSINESS_HOURS", business)


def base_frame(s: Session, source: str, schedule: Schedule = DEFAULT_SCHEDULE) -> nw.LazyFrame[Any]:
    return s.lazy(frame_sql(source, schedule))


def collect_rows(frame: nw.LazyFrame[Any]) -> list[dict[str, Any]]:
    """A (small, aggregated) lazy frame's rows as dicts."""
    table: pa.Table = frame.collect(backend="pyarrow").to_native()
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows
