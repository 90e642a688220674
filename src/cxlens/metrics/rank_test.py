"""The Mann–Whitney rank test for times, with ranks computed inside the engine (the generic
kernel, for any lazy engine; on DuckDB the runner uses sorted samples instead, metrics/samples.py).

Service times are long-tailed, so their comparisons use ranks, not means. For two samples X (the
group or period of interest) and Y: U = R_X − n_X(n_X + 1)/2 with R_X the sum of X's ranks in the
pooled sample (average ranks for ties); under H0, U is approximately normal with mean n_X n_Y / 2
and variance n_X n_Y / 12 · ((N + 1) − Σ(t³ − t) / (N(N − 1))), t the size of each tie group;
continuity-corrected two-sided p-value (scipy's ``mannwhitneyu(method="asymptotic")``).

* Period against the previous period: every row is pooled twice — in its own period's comparison
  as X and in the next period's as Y — so one ranking covers every comparison at once.
* A value against the rest: X ∪ rest is everything, so one global ranking serves every value.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import narwhals as nw
import numpy as np

from cxlens.metrics.frames import collect_rows
from cxlens.metrics.samples import against_rest, mann_whitney_p, sorted_samples

PERIOD_STEP = {"day": "1d", "week": "7d", "month": "1mo", "quarter": "1q"}
_V, _PAIR, _ROLE, _RANK = "_v", "_pair", "_role", "_rank"


def _pooled_test(pooled: nw.LazyFrame[Any], part: list[str]) -> dict[tuple[Any, ...], float]:
    """p per ``part`` key of a pooled frame with columns ``_v`` and ``_role`` (1 = X, 0 = Y)."""
    ranked = pooled.with_columns(nw.col(_V).rank("average").over(*part).alias(_RANK))
    sums = collect_rows(
        ranked.group_by(*part, _ROLE).agg(
            nw.len().cast(nw.Float64()).alias("n"), nw.col(_RANK).sum().alias("r")
        )
    )
    ties = _tie_terms(pooled, part)
    samples: dict[tuple[Any, ...], dict[int, tuple[float, float]]] = defaultdict(dict)
    for row in sums:
        samples[tuple(row[k] for k in part)][int(row[_ROLE])] = (row["n"], row["r"])
    keys = list(samples)
    x = np.array([samples[k].get(1, (0.0, 0.0)) for k in keys], dtype=np.float64).reshape(-1, 2)
    n_y = np.array([samples[k].get(0, (0.0, 0.0))[0] for k in keys], dtype=np.float64)
    u = x[:, 1] - x[:, 0] * (x[:, 0] + 1) / 2
    p = mann_whitney_p(u, x[:, 0], n_y, np.array([ties.get(k, 0.0) for k in keys], dtype=np.float64))
    return dict(zip(keys, p.tolist(), strict=True))


def _tie_terms(pooled: nw.LazyFrame[Any], part: list[str]) -> dict[tuple[Any, ...], float]:
    counts = pooled.group_by(*part, _V).agg(nw.len().cast(nw.Float64()).alias("t")).filter(nw.col("t") > 1)
    terms = (
        counts.with_columns((nw.col("t") ** 3 - nw.col("t")).alias("tt"))
        .group_by(*part)
        .agg(nw.col("tt").sum())
    )
    return {tuple(r[k] for k in part): r["tt"] for r in collect_rows(terms)}


def previous_period_p(
    rows: nw.LazyFrame[Any], *, dims: list[str], period: str, column: str, grain: str
) -> dict[tuple[Any, ...], float]:
    """Each (dims…, period) against (dims…, the period before): key -> p."""
    base = rows.filter(~nw.col(column).is_null()).select(
        *dims, period, nw.col(column).cast(nw.Float64()).alias(_V)
    )
    current = base.with_columns(nw.col(period).alias(_PAIR), nw.lit(1).alias(_ROLE))
    before = base.with_columns(
        nw.col(period).dt.offset_by(PERIOD_STEP[grain]).alias(_PAIR), nw.lit(0).alias(_ROLE)
    )
    pooled = nw.concat([current.drop(period), before.drop(period)], how="vertical")
    return _pooled_test(pooled, [*dims, _PAIR])


def window_p(
    current: nw.LazyFrame[Any], before: nw.LazyFrame[Any], *, dims: list[str], column: str
) -> dict[tuple[Any, ...], float]:
    """Each dims group of ``current`` against the same group of ``before``: key -> p."""

    def sample(frame: nw.LazyFrame[Any], role: int) -> nw.LazyFrame[Any]:
        return (
            frame.filter(~nw.col(column).is_null())
            .select(*dims, nw.col(column).cast(nw.Float64()).alias(_V))
            .with_columns(nw.lit(role).alias(_ROLE), nw.lit(1).alias(_PAIR))
        )

    found = _pooled_test(nw.concat([sample(current, 1), sample(before, 0)], how="vertical"), [*dims, _PAIR])
    return {key[:-1]: p for key, p in found.items()}


def against_rest_p(rows: nw.LazyFrame[Any], *, dim: str, column: str) -> dict[Any, float]:
    """Each value of ``dim`` against all other rows: value -> p (one global ranking)."""
    samples = sorted_samples(rows, [dim], column)
    if samples is not None:  # DuckDB: sorted samples and a binary search (metrics/samples.py)
        return dict(zip([key[0] for key in samples.keys], against_rest(samples).tolist(), strict=True))
    values = (
        rows.filter(~nw.col(column).is_null())
        .select(dim, nw.col(column).cast(nw.Float64()).alias(_V))
        .with_columns(nw.lit(1).alias(_PAIR))
    )
    ranked = values.with_columns(nw.col(_V).rank("average").over(_PAIR).alias(_RANK))
    sums = collect_rows(
        ranked.group_by(dim).agg(nw.len().cast(nw.Float64()).alias("n"), nw.col(_RANK).sum().alias("r"))
    )
    ties = _tie_terms(values, [_PAIR]).get((1,), 0.0)
    n = np.array([r["n"] for r in sums], dtype=np.float64)
    u = np.array([r["r"] for r in sums], dtype=np.float64) - n * (n + 1) / 2
    p = mann_whitney_p(u, n, n.sum() - n, np.full(len(n), ties))
    return dict(zip([r[dim] for r in sums], p.tolist(), strict=True))
