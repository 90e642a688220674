"""Comparisons across the values of one dimension.

* ``compare_segments``: each value (a channel, a team…) against all the others ("the rest"), with
  the metric's own test, and Benjamini–Hochberg q-values because many values are tested at once.
* ``consistency``: one omnibus test of whether the values differ at all (chi-square for shares
  and NPS categories, Welch's ANOVA for means, Kruskal–Wallis for times), plus the spread.

Additive metrics get "the rest" by subtracting a value's counts from the total; metrics built on
order statistics (times) are recomputed on the rest, one query per value.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import narwhals as nw
import numpy as np
import pyarrow as pa
from scipy import stats as sps

from cxlens.errors import InvalidInput
from cxlens.metrics import stats
from cxlens.metrics.library import Counts, MetricDef
from cxlens.metrics.rank_test import against_rest_p
from cxlens.metrics.runner import aggregate, check_query, counts_of, filtered_rows, in_window
from cxlens.metrics.spec import MetricQuery
from cxlens.metrics.stats import rounded


def _grouped(frame: nw.LazyFrame[Any], query: MetricQuery) -> tuple[MetricDef, nw.LazyFrame[Any], pa.Table]:
    if len(query.by) != 1 or query.grain is not None:
        raise InvalidInput("A comparison takes exactly one dimension (--by) and no grain.")
    metric = check_query(query)
    rows = in_window(filtered_rows(frame, metric, query), metric, query.since, query.until)
    return metric, rows, aggregate(rows, metric, query)


def compare_segments(frame: nw.LazyFrame[Any], query: MetricQuery) -> list[dict[str, Any]]:
    """One row per value of ``query.by[0]``: its figure, the rest's, the difference, p and q."""
    metric, rows, table = _grouped(frame, query)
    dim = query.by[0]
    own = counts_of(table, metric, query)
    rest = _rest_counts(rows, metric, query, table, own)
    mine = metric.finish(own, query.confidence, query.options)
    theirs = metric.finish(rest, query.confidence, query.options)
    # A count against "the rest" compares unequal populations: there is no meaningful test.
    p = np.full(len(own["n"]), np.nan) if metric.family == "count" else metric.compare(own, rest)
    if metric.family == "duration" and metric.order_column is not None:  # times: Mann–Whitney on the rows
        found = against_rest_p(rows, dim=dim, column=metric.order_column)
        p = np.array([found.get(v, np.nan) for v in table.column(dim).to_pylist()], dtype=np.float64)
    q = stats.benjamini_hochberg(np.asarray(p, dtype=np.float64))
    alpha = 1 - query.confidence
    out = []
    for i, value in enumerate(table.column(dim).to_pylist()):
        small = own["n"][i] < query.min_n or rest["n"][i] < query.min_n
        out.append(
            {
                dim: value,
                "n": int(own["n"][i]),
                "value": rounded(mine.estimate.value[i]),
                "ci_low": rounded(mine.estimate.low[i]),
                "ci_high": rounded(mine.estimate.high[i]),
                "rest_n": int(rest["n"][i]),
                "rest_value": rounded(theirs.estimate.value[i]),
                "difference": rounded(mine.estimate.value[i] - theirs.estimate.value[i]),
                "p_value": rounded(p[i]),
                "q_value": rounded(q[i]),
                "significant": bool(q[i] < alpha and not small),
                "flags": ["small_n"] if small else [],
            }
        )
    return out


def _rest_counts(
    rows: nw.LazyFrame[Any], metric: MetricDef, query: MetricQuery, table: pa.Table, own: Counts
) -> Counts:
    if metric.order_column is None:  # counts and sums add up: the rest is the total minus the value
        total = counts_of(aggregate(rows, metric, replace(query, by=())), metric, query)
        return {k: total[k] - v for k, v in own.items()}
    dim = query.by[0]
    if not table.num_rows:  # a filter that matches nothing: no values, so no rest to compute
        return {k: np.array([], dtype=np.float64) for k in own}
    parts = []
    for value in table.column(dim).to_pylist():
        others = rows.filter(nw.col(dim).cast(nw.String()) != str(value))
        parts.append(counts_of(aggregate(others, metric, replace(query, by=())), metric, query))
    return {k: np.concatenate([part[k] for part in parts]) for k in own}


def consistency(frame: nw.LazyFrame[Any], query: MetricQuery) -> dict[str, Any]:
    """Do the values of the dimension differ on this metric? The omnibus test and the spread."""
    metric, rows, table = _grouped(frame, query)
    c = counts_of(table, metric, query)
    finished = metric.finish(c, query.confidence, query.options)
    values = finished.estimate.value
    test, statistic, p = _omnibus(metric, rows, query, c)
    return {
        "metric": metric.name,
        "dimension": query.by[0],
        "groups": len(values),
        "n": int(c["n"].sum()),
        "spread": rounded(float(np.nanmax(values) - np.nanmin(values))) if len(values) else None,
        "lowest": table.column(query.by[0])[int(np.nanargmin(values))].as_py() if len(values) else None,
        "highest": table.column(query.by[0])[int(np.nanargmax(values))].as_py() if len(values) else None,
        "test": test,
        "statistic": rounded(statistic),
        "p_value": rounded(p),
        "significant": bool(p < 1 - query.confidence),
    }


def _omnibus(
    metric: MetricDef, rows: nw.LazyFrame[Any], query: MetricQuery, c: Counts
) -> tuple[str, float, float]:
    if len(c["n"]) < 2:
        return "none (fewer than two groups)", float("nan"), float("nan")
    if metric.family == "duration" and metric.order_column is not None:
        return ("Kruskal–Wallis", *_kruskal(rows, metric.order_column, query.by[0]))
    if metric.family == "nps":
        table = np.vstack([c["promoters"], c["n"] - c["promoters"] - c["detractors"], c["detractors"]])
        return ("chi-square (promoters/passives/detractors)", *_chi2(table))
    if metric.family == "share":
        hits = c[metric.share_of]
        return ("chi-square", *_chi2(np.vstack([hits, c["n"] - hits])))
    if metric.family == "mean":
        return ("Welch's ANOVA", *_welch_anova(c))
    return ("chi-square goodness of fit (equal counts)", *_chi2_equal(c["n"]))


def _chi2(table: np.ndarray[Any, Any]) -> tuple[float, float]:
    table = table[:, table.sum(axis=0) > 0]
    table = table[table.sum(axis=1) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return float("nan"), float("nan")
    result = sps.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def _chi2_equal(n: np.ndarray[Any, Any]) -> tuple[float, float]:
    result = sps.chisquare(n)
    return float(result.statistic), float(result.pvalue)


def _welch_anova(c: Counts) -> tuple[float, float]:
    """Welch's one-way ANOVA from per-group n, sum and sum of squares."""
    n, mean = c["n"], c["total"] / c["n"]
    var = (c["total_sq"] - n * mean**2) / (n - 1)
    w = n / var
    grand = (w * mean).sum() / w.sum()
    k = len(n)
    lam = (((1 - w / w.sum()) ** 2) / (n - 1)).sum()
    f = ((w * (mean - grand) ** 2).sum() / (k - 1)) / (1 + 2 * (k - 2) * lam / (k**2 - 1))
    df2 = (k**2 - 1) / (3 * lam)
    return float(f), float(sps.f.sf(f, k - 1, df2))


def _kruskal(rows: nw.LazyFrame[Any], column: str, dim: str) -> tuple[float, float]:
    """H from rank sums computed in the engine (average ranks for ties, with the tie correction)."""
    values = rows.filter(~nw.col(column).is_null()).with_columns(nw.lit(1).alias("_all"))
    ranked = values.with_columns(nw.col(column).rank("average").over("_all").alias("_rank"))
    sums: pa.Table = (
        ranked.group_by(dim)
        .agg(nw.len().cast(nw.Float64()).alias("n"), nw.col("_rank").sum().alias("r"))
        .collect(backend="pyarrow")
        .to_native()
    )
    ties: pa.Table = (
        values.group_by(column)
        .agg(nw.len().cast(nw.Float64()).alias("t"))
        .collect(backend="pyarrow")
        .to_native()
    )
    n = np.asarray(sums.column("n").to_numpy(), dtype=np.float64)
    r = np.asarray(sums.column("r").to_numpy(), dtype=np.float64)
    t = np.asarray(ties.column("t").to_numpy(), dtype=np.float64)
    total = n.sum()
    h = 12 / (total * (total + 1)) * (r**2 / n).sum() - 3 * (total + 1)
    h /= 1 - (t**3 - t).sum() / (total**3 - total)
    return float(h), float(sps.chi2.sf(h, len(n) - 1))
