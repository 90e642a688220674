"""One runner for every metric: spec -> engine-neutral aggregation (narwhals, so DuckDB and Spark
run the same code) -> statistics on the small aggregated result -> a MetricResult.

Only sufficient statistics (counts, sums) leave the engine; intervals, comparisons and flags are
computed from them with numpy, identically whatever the engine.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import narwhals as nw
import numpy as np
import pyarrow as pa

from cxlens.errors import InvalidInput
from cxlens.metrics.frames import attribute_key, source_columns
from cxlens.metrics.library import LIFECYCLE, METRICS, Counts, MetricDef
from cxlens.metrics.order_stats import ORDER_COLUMNS, add_order_stats
from cxlens.metrics.periods import period_start
from cxlens.metrics.rank_test import previous_period_p, window_p
from cxlens.metrics.result import MetricResult
from cxlens.metrics.samples import Samples, paired_p, sorted_samples
from cxlens.metrics.samples import counts as sample_counts
from cxlens.metrics.spec import GRAINS, MetricQuery, as_instant, check_window, utc
from cxlens.metrics.stats import rounded
from cxlens.metrics.zero_fill import zero_filled

PERIOD = "period"
_DAY = "_day"


def metric_def(name: str) -> MetricDef:
    if name not in METRICS:
        known = ", ".join([*METRICS, *LIFECYCLE])
        raise InvalidInput(f"Unknown metric {name!r}; choose one of {known}.")
    return METRICS[name]


def source_of(name: str) -> str:
    return LIFECYCLE[name].source if name in LIFECYCLE else metric_def(name).source


def columns_for(query: MetricQuery) -> tuple[str, ...]:
    """The base columns ``query`` reads; a question the metric cannot answer is refused here,
    before any frame is built."""
    if query.metric in LIFECYCLE:  # a small frame (one row per customer): every column it has
        _check_common(query, LIFECYCLE[query.metric].dimensions)
        attributes = [dim for dim in (*query.by, *(k for k, _ in query.where)) if attribute_key(dim)]
        return tuple(dict.fromkeys((*source_columns("customers"), *attributes)))
    metric = check_query(query)
    order = (metric.order_column,) if metric.order_column else ()
    sliced = (*query.by, *(dim for dim, _ in query.where))
    return tuple(dict.fromkeys((*metric.reads, metric.time_column, *order, *sliced)))


def check_query(query: MetricQuery) -> MetricDef:
    metric = metric_def(query.metric)
    _check_common(query, metric.dimensions)
    return metric


def _check_common(query: MetricQuery, dimensions: tuple[str, ...]) -> None:
    for dim in (*query.by, *(k for k, _ in query.where)):
        if dim not in dimensions and attribute_key(dim) is None:
            raise InvalidInput(
                f"{query.metric} cannot be sliced by {dim!r}; dimensions: {', '.join(dimensions)}, "
                "or customer:<attribute>."
            )
    if query.grain is not None and query.grain not in GRAINS:
        raise InvalidInput(f"Unknown grain {query.grain!r}; choose one of {', '.join(GRAINS)}.")
    check_window(query.since, query.until)
    if not 0.5 <= query.confidence < 1:
        raise InvalidInput("The confidence level must be between 0.5 and 1 (e.g. 0.95).")


def compute_metric(frame: nw.LazyFrame[Any], query: MetricQuery) -> MetricResult:
    """Answer ``query`` over the base rows in ``frame`` (any narwhals-supported lazy engine)."""
    if query.metric in LIFECYCLE:  # churn and retention: counts over a period grid, not per group
        lifecycle = LIFECYCLE[query.metric]
        _check_common(query, lifecycle.dimensions)
        return lifecycle.compute(frame, query)
    metric = check_query(query)
    rows = filtered_rows(frame, metric, query)
    window = in_window(rows, metric, query.since, query.until)
    samples = duration_samples(window, metric, query)
    current = aggregate(window, metric, query, samples)
    if metric.family == "count" and query.grain is not None:  # a period without rows counts zero
        current = zero_filled(current, by=list(query.by), period=PERIOD, grain=query.grain)
    previous = _previous_counts(rows, metric, query, current)
    finished = metric.finish(counts_of(current, metric, query), query.confidence, query.options)
    ranked = _rank_p_values(rows, metric, query, current, samples) if metric.family == "duration" else None
    return MetricResult(
        query, metric.unit, metric.test, _rows(current, finished, previous, metric, query, ranked)
    )


def _keys(query: MetricQuery) -> list[str]:
    return [*query.by, *([PERIOD] if query.grain is not None else [])]


def _keyed(rows: nw.LazyFrame[Any], metric: MetricDef, query: MetricQuery) -> nw.LazyFrame[Any]:
    """``rows`` with their period's start in ``PERIOD`` when the query has a grain."""
    if query.grain is None:
        return rows
    return rows.with_columns(period_start(nw.col(metric.time_column), query.grain).alias(PERIOD))


def duration_samples(rows: nw.LazyFrame[Any], metric: MetricDef, query: MetricQuery) -> Samples | None:
    """Sorted values per group for a time metric, where the engine offers them (metrics/samples.py)."""
    if metric.order_column is None:
        return None
    return sorted_samples(_keyed(rows, metric, query), _keys(query), metric.order_column)


def _rank_p_values(
    rows: nw.LazyFrame[Any], metric: MetricDef, query: MetricQuery, current: pa.Table, samples: Samples | None
) -> np.ndarray[Any, Any] | None:
    """Times are compared with the Mann–Whitney test on their rows, not on summary counts."""
    keys = _keys(query)
    if query.grain is None and (query.since is None or query.until is None):
        return None
    labels = (
        [tuple(r[k] for k in keys) for r in current.select(keys).to_pylist()]
        if keys
        else [()] * current.num_rows
    )
    if samples is not None:
        return _sample_p_values(rows, metric, query, labels, samples)
    column, dims = metric.order_column or "", list(query.by)
    window = in_window(rows, metric, query.since, query.until)
    if query.grain is not None:
        keyed = _keyed(window, metric, query)
        found = previous_period_p(keyed, dims=dims, period=PERIOD, column=column, grain=query.grain)
    else:
        found = window_p(window, in_window(rows, metric, *_earlier(query)), dims=dims, column=column)
    return np.array([found.get(label, np.nan) for label in labels], dtype=np.float64)


def _earlier(query: MetricQuery) -> tuple[datetime, datetime]:
    """The window of the same length just before ``since``..``until`` (both set)."""
    assert query.since is not None and query.until is not None
    since, until = utc(query.since), utc(query.until)
    return since - (until - since), since


def _sample_p_values(
    rows: nw.LazyFrame[Any], metric: MetricDef, query: MetricQuery, labels: list[Any], samples: Samples
) -> np.ndarray[Any, Any]:
    """Each group against its previous period (or window) from sorted samples; NaN without one."""
    here = samples.index()
    if query.grain is not None:
        grain, before, there = query.grain, samples, here
        wanted = [(*label[:-1], _period_before(label[-1], grain)) for label in labels]
    else:
        earlier = duration_samples(in_window(rows, metric, *_earlier(query)), metric, query)
        before = earlier if earlier is not None else samples
        there, wanted = before.index(), labels
    found = [(here.get(label), there.get(other)) for label, other in zip(labels, wanted, strict=True)]
    usable = [k for k, (i, j) in enumerate(found) if i is not None and j is not None]
    p = np.full(len(labels), np.nan)
    p[usable] = paired_p([(samples, found[k][0] or 0, before, found[k][1] or 0) for k in usable])
    return p


def filtered_rows(frame: nw.LazyFrame[Any], metric: MetricDef, query: MetricQuery) -> nw.LazyFrame[Any]:
    condition = metric.rows(query.options)
    rows = frame if condition is None else frame.filter(condition)
    for dim, value in query.where:
        rows = rows.filter(nw.col(dim).cast(nw.String()) == value)
    return rows


def in_window(
    rows: nw.LazyFrame[Any], metric: MetricDef, since: datetime | date | None, until: datetime | date | None
) -> nw.LazyFrame[Any]:
    if since is not None:
        rows = rows.filter(nw.col(metric.time_column) >= utc(since))
    if until is not None:
        rows = rows.filter(nw.col(metric.time_column) < utc(until))
    return rows


def _grouped_counts(rows: nw.LazyFrame[Any], metric: MetricDef, query: MetricQuery) -> nw.LazyFrame[Any]:
    """The metric's counts per group of ``query.by`` (and period). Counts are sums, so with a
    grain coarser than a day they are summed per day first and the few day rows are then rolled
    up to the period: truncating every row to a month or week costs more than the aggregation."""
    aggregations = metric.counts(query.options)
    by = list(query.by)
    if query.grain is None:
        return rows.group_by(*by).agg(**aggregations) if by else rows.select(**aggregations)
    moment = nw.col(metric.time_column)
    if query.grain == "day":
        return (
            rows.with_columns(period_start(moment, "day").alias(PERIOD))
            .group_by(*by, PERIOD)
            .agg(**aggregations)
        )
    daily = rows.with_columns(moment.dt.truncate("1d").alias(_DAY)).group_by(*by, _DAY).agg(**aggregations)
    return (
        daily.with_columns(period_start(nw.col(_DAY), query.grain).alias(PERIOD))
        .group_by(*by, PERIOD)
        .agg(*(nw.col(name).sum() for name in aggregations))
    )


def _sample_counts(samples: Samples, keys: list[str]) -> pa.Table:
    """A time metric's counts per group (those of ``_duration_counts``) from its sorted samples."""
    columns = {key: pa.array([label[i] for label in samples.keys]) for i, key in enumerate(keys)}
    found = sample_counts(samples)
    return pa.table({**columns, **{name: pa.array(v, pa.float64()) for name, v in found.items()}})


def aggregate(
    rows: nw.LazyFrame[Any], metric: MetricDef, query: MetricQuery, samples: Samples | None = None
) -> pa.Table:
    """The metric's counts per group (and, for times, the order statistics: from ``samples``
    when given, else from the engine's sorted samples or its window kernel)."""
    keys = _keys(query)
    if samples is not None and metric.family == "duration":
        table = _sample_counts(samples, keys)  # n, Σ and Σ² of a time come with its samples
    else:
        table = _grouped_counts(rows, metric, query).collect(backend="pyarrow").to_native()
    if metric.order_column is not None:
        table = add_order_stats(
            _keyed(rows, metric, query),
            table,
            keys=keys,
            column=metric.order_column,
            confidence=query.confidence,
            samples=samples if samples is not None else duration_samples(rows, metric, query),
        )
    if not keys:
        return table
    return table.sort_by([(k, "ascending") for k in keys])


def counts_of(table: pa.Table, metric: MetricDef, query: MetricQuery) -> Counts:
    names = list(metric.counts(query.options))
    counts = {k: np.nan_to_num(_floats(table, k)) for k in names}
    if metric.order_column is not None:  # order statistics stay NaN where a group has no value
        counts.update({k: _floats(table, k) for k in ORDER_COLUMNS})
    return counts


def _floats(table: pa.Table, column: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=np.float64)


def _previous_counts(
    rows: nw.LazyFrame[Any], metric: MetricDef, query: MetricQuery, current: pa.Table
) -> tuple[Counts, np.ndarray[Any, Any]] | None:
    """The counts to compare each current row with, and which rows have one: the previous period
    of the same group with a grain; the equally long window before ``since`` without one."""
    if query.grain is not None:
        return _shifted(current, metric, query)
    if query.since is None or query.until is None:
        return None
    length = utc(query.until) - utc(query.since)
    earlier = aggregate(in_window(rows, metric, utc(query.since) - length, query.since), metric, query)
    return _aligned(current, earlier, metric, query, list(query.by), lambda key: key)


def _shifted(current: pa.Table, metric: MetricDef, query: MetricQuery) -> tuple[Counts, np.ndarray[Any, Any]]:
    grain = query.grain or "month"
    return _aligned(
        current,
        current,
        metric,
        query,
        [*query.by, PERIOD],
        lambda key: (*key[:-1], _period_before(key[-1], grain)),
    )


def _aligned(
    current: pa.Table, other: pa.Table, metric: MetricDef, query: MetricQuery, keys: list[str], wanted: Any
) -> tuple[Counts, np.ndarray[Any, Any]]:
    """For each current row, the row of ``other`` whose key is ``wanted(current key)``."""
    other_counts = counts_of(other, metric, query)
    index = (
        {tuple(r[k] for k in keys): i for i, r in enumerate(other.select(keys).to_pylist())}
        if keys
        else {(): 0}
    )
    picks = (
        [index.get(wanted(tuple(r[k] for k in keys))) for r in current.select(keys).to_pylist()]
        if keys
        else [0 if other.num_rows else None]
    )
    found = np.array([p is not None for p in picks])
    take = np.array([p if p is not None else 0 for p in picks], dtype=np.int64)
    aligned = {k: np.where(found, v[take] if len(v) else np.nan, np.nan) for k, v in other_counts.items()}
    return aligned, found


def _period_before(start: datetime, grain: str) -> datetime:
    if grain == "day":
        return start - timedelta(days=1)
    if grain == "week":
        return start - timedelta(weeks=1)
    months = 3 if grain == "quarter" else 1
    year, month = divmod(start.year * 12 + start.month - 1 - months, 12)
    return start.replace(year=year, month=month + 1)


def _comparison(
    current: pa.Table,
    finished: Any,
    previous: tuple[Counts, np.ndarray[Any, Any]] | None,
    metric: MetricDef,
    query: MetricQuery,
    ranked: np.ndarray[Any, Any] | None,
) -> dict[str, np.ndarray[Any, Any]]:
    """change, p_value, previous_value and previous_n per row (NaN where there is no comparison)."""
    nan = np.full(len(finished.n), np.nan)
    if previous is None or not len(nan):
        return {"change": nan, "p_value": nan, "previous_value": nan, "previous_n": nan}
    before, found = previous
    # An empty previous period or window (before the data starts, or a filter that matched nothing
    # then) is nothing to compare with: "+17517 (significant)" against zero cases says nothing.
    found = found & (np.nan_to_num(before["n"]) > 0)
    earlier = metric.finish(before, query.confidence, query.options).estimate.value
    previous_value = np.where(found, earlier, np.nan)
    return {
        "change": finished.estimate.value - previous_value,  # in the metric's own unit, as shown
        "p_value": np.where(
            found,
            ranked if ranked is not None else metric.compare(counts_of(current, metric, query), before),
            np.nan,
        ),
        "previous_value": previous_value,
        "previous_n": np.where(found, before["n"], np.nan),
    }


def _flags(n: float, previous_n: float, metric: MetricDef, query: MetricQuery) -> list[str]:
    """Too few answers or cases to present the figure as a fact. Counts (volumes) are exempt:
    their exact Poisson interval and test are valid for any count."""
    if metric.family == "count":
        return []
    return [
        f
        for f, small in (("small_n", n < query.min_n), ("previous_small_n", previous_n < query.min_n))
        if small
    ]


def _rows(
    current: pa.Table,
    finished: Any,
    previous: tuple[Counts, np.ndarray[Any, Any]] | None,
    metric: MetricDef,
    query: MetricQuery,
    ranked: np.ndarray[Any, Any] | None = None,
) -> list[dict[str, Any]]:
    n, estimate = finished.n, finished.estimate
    compared = _comparison(current, finished, previous, metric, query, ranked)
    keys = [*query.by, *([PERIOD] if query.grain else [])]
    labels = current.select(keys).to_pylist() if keys else [{}] * len(n)
    if query.grain:
        labels = [{**label, PERIOD: as_instant(label[PERIOD])} for label in labels]
    out = []
    for i in range(len(n)):
        if n[i] == 0 and metric.family != "count":  # nothing measured (a filter matched nothing): no row
            continue
        flags = _flags(n[i], compared["previous_n"][i], metric, query)
        p = rounded(compared["p_value"][i])
        out.append(
            {
                **labels[i],
                "n": int(n[i]),
                "value": rounded(estimate.value[i]),
                "ci_low": rounded(estimate.low[i]),
                "ci_high": rounded(estimate.high[i]),
                "components": {k: rounded(v[i]) for k, v in finished.components.items()},
                "previous_value": rounded(compared["previous_value"][i]),
                "change": rounded(compared["change"][i]),
                "p_value": p,
                "significant": bool(p is not None and p < 1 - query.confidence and not flags),
                "flags": flags,
            }
        )
    return out
