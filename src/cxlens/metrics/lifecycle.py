"""The long-term relationship: churn rate per period and retention per signup cohort.

Both are built from a few counts per group and period that the engine aggregates (customers who
started, who churned, who churned after their first period); the running totals over the period
grid are then plain arithmetic on that small result.

* churn rate of period p = customers who churned during p ÷ customers active at the start of p,
  where active at the start of p = started before p − churned before p. Customers who start and
  churn within the same period are in neither. Retention of the period = 100 − churn rate.
* retention of cohort c at age k = share of the customers who started in c that had not churned
  before the start of period c + k (age 0 is 100%). Only ages the data has fully reached are shown.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import narwhals as nw
import numpy as np

from cxlens.errors import InvalidInput
from cxlens.metrics import stats
from cxlens.metrics.frames import collect_rows
from cxlens.metrics.periods import period_grid, period_start
from cxlens.metrics.result import MetricResult
from cxlens.metrics.spec import MetricQuery, as_instant, utc
from cxlens.metrics.stats import rounded

START, CHURN = "started_at", "churned_at"


def _truncated(column: str, grain: str) -> nw.Expr:
    return period_start(nw.col(column), grain)


def _where(frame: nw.LazyFrame[Any], query: MetricQuery) -> nw.LazyFrame[Any]:
    for dim, value in query.where:
        frame = frame.filter(nw.col(dim).cast(nw.String()) == value)
    return frame.filter(~nw.col(START).is_null())


def churn_rate(frame: nw.LazyFrame[Any], query: MetricQuery) -> MetricResult:
    grain, keys = query.grain or "month", list(query.by)
    rows = _where(frame, query).with_columns(
        _truncated(START, grain).alias("_start"), _truncated(CHURN, grain).alias("_churn")
    )
    started = collect_rows(rows.group_by(*keys, "_start").agg(nw.len().alias("k")))
    churned = collect_rows(
        rows.filter(~nw.col("_churn").is_null())
        .with_columns((nw.col("_churn") > nw.col("_start")).alias("_after_start"))
        .group_by(*keys, "_churn", "_after_start")
        .agg(nw.len().alias("k"))
    )
    per_group: dict[tuple[Any, ...], dict[str, dict[datetime, int]]] = defaultdict(
        lambda: {"started": defaultdict(int), "churned": defaultdict(int), "eligible": defaultdict(int)}
    )
    for r in started:
        per_group[tuple(r[k] for k in keys)]["started"][r["_start"]] += r["k"]
    for r in churned:
        slot = per_group[tuple(r[k] for k in keys)]
        slot["churned"][r["_churn"]] += r["k"]
        if r["_after_start"]:
            slot["eligible"][r["_churn"]] += r["k"]
    # Every group runs to the last period seen in any group: a group without churn in a period
    # has a churn rate of 0 there, not no figure.
    last = max(
        (p for slot in per_group.values() for kind in ("started", "churned") for p in slot[kind]),
        default=None,
    )
    out = []
    for key in sorted(per_group, key=lambda k: tuple(str(v) for v in k)):
        out.extend(_churn_rows(dict(zip(keys, key, strict=True)), per_group[key], grain, query, last))
    return MetricResult(
        query, "% of customers active at the start of the period", "two-proportion z-test", out
    )


def _churn_rows(
    labels: dict[str, Any],
    counts: dict[str, dict[datetime, int]],
    grain: str,
    query: MetricQuery,
    last: datetime | None,
) -> list[dict[str, Any]]:
    periods = period_grid(
        min(counts["started"]),
        max([*counts["started"], *counts["churned"], *([last] if last else [])]),
        grain,
    )
    active = np.cumsum([0] + [counts["started"][p] - counts["churned"][p] for p in periods[:-1]])
    lost = np.array([counts["eligible"][p] for p in periods], dtype=np.float64)
    estimate = stats.wilson(lost, active.astype(np.float64), confidence=query.confidence)
    p_values = stats.two_proportion_p(
        lost[1:], active[1:].astype(np.float64), lost[:-1], active[:-1].astype(np.float64)
    )
    rows = []
    for i, period in enumerate(periods):
        if not _in_range(period, query) or active[i] == 0:
            continue
        previous = estimate.value[i - 1] if i and active[i - 1] else None
        p = p_values[i - 1] if i and previous is not None else float("nan")
        small = active[i] < query.min_n or (previous is not None and active[i - 1] < query.min_n)
        rows.append(
            {
                **labels,
                "period": as_instant(period),
                "n": int(active[i]),
                **_figures(estimate, i),
                "components": {"churned": int(lost[i]), "retention": rounded(100 - estimate.value[i])},
                "previous_value": rounded(previous),
                "change": rounded(estimate.value[i] - previous) if previous is not None else None,
                "p_value": rounded(p),
                "significant": bool(p < 1 - query.confidence and not small),
                "flags": ["small_n"] if small else [],
            }
        )
    return rows


def retention(frame: nw.LazyFrame[Any], query: MetricQuery) -> MetricResult:
    """Retention curves by monthly signup cohort (``by`` dimensions allowed, no other grain)."""
    if query.grain not in (None, "month"):
        raise InvalidInput("Retention is computed per monthly signup cohort; use --grain month or none.")
    keys = list(query.by)
    rows = _where(frame, query).with_columns(
        (nw.col(START).dt.year() * 12 + nw.col(START).dt.month()).alias("_cohort"),
        (nw.col(CHURN).dt.year() * 12 + nw.col(CHURN).dt.month()).alias("_churn"),
    )
    counted = collect_rows(
        rows.with_columns((nw.col("_churn") - nw.col("_cohort")).alias("_age"))
        .group_by(*keys, "_cohort", "_age")
        .agg(nw.len().alias("k"))
    )
    last = max((r["_cohort"] + (r["_age"] or 0) for r in counted), default=0)
    cohorts: dict[tuple[Any, ...], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for r in counted:
        age = -1 if r["_age"] is None else r["_age"]  # -1: has not churned
        cohorts[(*(r[k] for k in keys), r["_cohort"])][age] += r["k"]
    out = []
    for key in sorted(cohorts, key=lambda k: tuple(str(v) for v in k)):
        out.extend(_cohort_rows(dict(zip(keys, key[:-1], strict=True)), key[-1], cohorts[key], last, query))
    return MetricResult(query, "% of the cohort not churned", "none (descriptive curve)", out)


def _cohort_rows(
    labels: dict[str, Any], cohort: int, ages: dict[int, int], last: int, query: MetricQuery
) -> list[dict[str, Any]]:
    size = sum(ages.values())
    horizon = last - cohort
    churned_before = np.cumsum([0] + [ages.get(a, 0) for a in range(horizon)])
    kept = size - churned_before
    estimate = stats.wilson(
        kept.astype(np.float64), np.full(len(kept), float(size)), confidence=query.confidence
    )
    start = datetime((cohort - 1) // 12, (cohort - 1) % 12 + 1, 1, tzinfo=UTC)
    return [
        {
            **labels,
            "cohort": start.date().isoformat()[:7],
            "age": age,
            "n": size,
            **_figures(estimate, age),
            "components": {"retained": int(kept[age])},
            "previous_value": None,
            "change": None,
            "p_value": None,
            "significant": False,
            "flags": ["small_n"] if size < query.min_n else [],
        }
        for age in range(horizon + 1)
    ]


def _figures(estimate: stats.Estimate, i: int) -> dict[str, float | None]:
    return {
        "value": rounded(estimate.value[i]),
        "ci_low": rounded(estimate.low[i]),
        "ci_high": rounded(estimate.high[i]),
    }


def _in_range(period: datetime, query: MetricQuery) -> bool:
    moment = utc(period)  # engines differ: a plain UTC timestamp on DuckDB, an aware one on Spark
    if query.since is not None and moment < utc(query.since):
        return False
    return query.until is None or moment < utc(query.until)
