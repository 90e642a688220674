"""Order statistics per group — median, its distribution-free interval and p90 — computed inside
the engine with ranks, so only a handful of values per group leave it (and DuckDB and Spark give
the same answer: no engine-specific median or approximate percentile is involved).

For a group of n values sorted ascending, x(1) ≤ … ≤ x(n):

* median = (x(⌊(n+1)/2⌋) + x(⌊(n+2)/2⌋)) / 2
* 95% interval of the median = [x(j), x(k)] with j = max(1, ⌊n/2 − z√n/2⌋), k = min(n, ⌈1 + n/2 + z√n/2⌉)
  (the normal approximation to the binomial order-statistic interval, Conover 1999 §3.2)
* p90 = x(⌈0.9 n⌉) (nearest rank)
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import pyarrow as pa

from cxlens.metrics.samples import Samples, order_statistics
from cxlens.metrics.stats import z_for

ORDER_COLUMNS = ("median", "median_low", "median_high", "p90")
_ROLES = {"_mid_lo": "a", "_mid_hi": "b", "_ci_lo": "low", "_ci_hi": "high", "_p90": "p90"}
_ALL = "_all"


def _ceil(expr: nw.Expr) -> nw.Expr:
    return -((-expr).floor())


def add_order_stats(
    rows: nw.LazyFrame[Any],
    table: pa.Table,
    *,
    keys: list[str],
    column: str,
    confidence: float,
    samples: Samples | None = None,
) -> pa.Table:
    """``table`` (one row per group of ``keys``) with the order-statistic columns appended, from
    ``samples`` when the engine gave sorted per-group samples, else ranked inside the engine."""
    partition = keys or [_ALL]
    found: dict[tuple[Any, ...], dict[str, float | None]]
    if samples is not None:
        found = order_statistics(samples, z_for(confidence))
        partition = keys
    else:
        values = rows.filter(~nw.col(column).is_null())
        if not keys:
            values = values.with_columns(nw.lit(1).alias(_ALL))
        picked = _picked(values, partition, column, z_for(confidence))
        found = {key: _finish(slot) for key, slot in _by_group(picked, partition).items()}
    labels = table.select(keys).to_pylist() if keys else [{}] * table.num_rows
    empty = dict.fromkeys(ORDER_COLUMNS)
    stats = [found.get(tuple(label.get(k, 1) for k in partition), empty) for label in labels]
    for name in ORDER_COLUMNS:
        table = table.append_column(name, pa.array([s[name] for s in stats], pa.float64()))
    return table


def _picked(values: nw.LazyFrame[Any], partition: list[str], column: str, z: float) -> pa.Table:
    n = nw.col("_n")
    # Group sizes by a window, not a join: a join would drop the group whose key is NULL.
    ranked = values.select(*partition, nw.col(column).cast(nw.Float64()).alias("_v")).with_columns(
        nw.col("_v").rank("ordinal").over(*partition).alias("_rank"),
        nw.col("_v").count().over(*partition).alias("_n"),
    )
    wanted = ranked.with_columns(
        ((n + 1) / 2).floor().alias("_mid_lo"),
        ((n + 2) / 2).floor().alias("_mid_hi"),
        nw.max_horizontal(nw.lit(1), (n / 2 - z * n.sqrt() / 2).floor()).alias("_ci_lo"),
        nw.min_horizontal(n, _ceil(1 + n / 2 + z * n.sqrt() / 2)).alias("_ci_hi"),
        _ceil(n * 0.9).alias("_p90"),
    )
    hit = nw.any_horizontal(*(nw.col("_rank") == nw.col(role) for role in _ROLES), ignore_nulls=True)
    table: pa.Table = wanted.filter(hit).collect(backend="pyarrow").to_native()
    return table


def _by_group(picked: pa.Table, partition: list[str]) -> dict[tuple[Any, ...], dict[str, float]]:
    """Group key -> {role: value} from the picked rows (a handful per group)."""
    found: dict[tuple[Any, ...], dict[str, float]] = {}
    for row in picked.to_pylist():
        slot = found.setdefault(tuple(row[k] for k in partition), {})
        for column, role in _ROLES.items():
            if row["_rank"] == row[column]:
                slot[role] = row["_v"]
    return found


def _finish(slot: dict[str, float]) -> dict[str, float | None]:
    if "a" not in slot or "b" not in slot:
        return dict.fromkeys(ORDER_COLUMNS)
    return {
        "median": (slot["a"] + slot["b"]) / 2,
        "median_low": slot.get("low"),
        "median_high": slot.get("high"),
        "p90": slot.get("p90"),
    }
