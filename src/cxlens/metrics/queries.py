"""Reads: answer a metric question on a session of the workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import narwhals as nw

from cxlens.metrics.compare import compare_segments, consistency
from cxlens.metrics.frames import ATTRIBUTE_PREFIX, DEFAULT_SCHEDULE, attribute_name_ok, base_frame
from cxlens.metrics.result import MetricResult
from cxlens.metrics.runner import columns_for, compute_metric, source_of
from cxlens.metrics.schedule import Schedule
from cxlens.metrics.spec import MetricQuery
from cxlens.storage.store import Session


def _frame(s: Session, query: MetricQuery, schedule: Schedule) -> nw.LazyFrame[Any]:
    """The base rows ``query`` reads: only its columns, and only the joins they need."""
    return base_frame(s, source_of(query.metric), schedule, columns_for(query))


def run_metric(s: Session, query: MetricQuery, schedule: Schedule = DEFAULT_SCHEDULE) -> MetricResult:
    return compute_metric(_frame(s, query, schedule), query)


def run_comparison(
    s: Session, query: MetricQuery, schedule: Schedule = DEFAULT_SCHEDULE
) -> list[dict[str, Any]]:
    """Each value of the one dimension in ``query.by`` against the rest (p and FDR q-values)."""
    return compare_segments(_frame(s, query, schedule), query)


def run_consistency(s: Session, query: MetricQuery, schedule: Schedule = DEFAULT_SCHEDULE) -> dict[str, Any]:
    """Whether the values of the one dimension in ``query.by`` differ at all on the metric."""
    return consistency(_frame(s, query, schedule), query)


def latest_activity(s: Session) -> datetime | None:
    """The newest answer or case in the workspace (None when it has neither)."""
    value = s.fetch_value(
        "SELECT greatest((SELECT max(answered_at) FROM responses), (SELECT max(created_at) FROM cases))"
    )
    return value if isinstance(value, datetime) else None


def attribute_dimensions(s: Session, limit: int = 50) -> list[str]:
    """``customer:<key>`` for the attribute keys customers carry (the explorer's dimension list),
    the most common first; keys a dimension cannot name are left out."""
    rows = s.fetch_all(
        "SELECT key, count(*) AS customers FROM (SELECT unnest(json_keys(attributes)) AS key FROM customers "
        "WHERE attributes IS NOT NULL) GROUP BY key ORDER BY customers DESC, key LIMIT ?",
        [limit * 4],
    )
    return [ATTRIBUTE_PREFIX + r["key"] for r in rows if attribute_name_ok(r["key"])][:limit]
