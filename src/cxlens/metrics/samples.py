"""Per-group sorted samples: the fast kernel for order statistics and rank tests on DuckDB.

Medians, their intervals and Mann–Whitney tests need every value of a group in order. The generic
kernels (metrics/order_stats.py, metrics/rank_test.py) rank rows with window functions, which runs
on any lazy engine — Spark included — and lets nothing but a few values per group leave it. On the
embedded DuckDB workspace one ``list_sort(list(v))`` per group (storage/kernels.py) is ten times
cheaper than those windows (docs/benchmarks.md), and the sorted arrays arrive as one Arrow list column: order
statistics are then index arithmetic and a rank test is a binary search, in numpy. Both kernels
compute the same exact statistics; the Spark parity test compares them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals as nw
import numpy as np
import pyarrow as pa
from scipy import special

from cxlens.storage.kernels import sorted_lists

Key = tuple[Any, ...]
Floats = np.ndarray[Any, np.dtype[np.float64]]
_VALUES = "_values"


@dataclass(frozen=True)
class Samples:
    """Every group's values, ascending: group ``i`` is ``values[offsets[i]:offsets[i + 1]]``."""

    keys: list[Key]
    values: Floats
    offsets: np.ndarray[Any, np.dtype[np.int64]]

    def sizes(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.diff(self.offsets)

    def index(self) -> dict[Key, int]:
        return {key: i for i, key in enumerate(self.keys)}

    def group(self, i: int) -> Floats:
        return self.values[self.offsets[i] : self.offsets[i + 1]]


def sorted_samples(rows: nw.LazyFrame[Any], keys: list[str], column: str) -> Samples | None:
    """The non-null values of ``column`` per group of ``keys``, sorted — or None when the engine
    has no native kernel for it (the generic window kernels then run inside the engine instead)."""
    table = sorted_lists(rows, keys, column)
    if table is None:
        return None
    lists = table.column(_VALUES).combine_chunks() if table.num_rows else pa.array([], pa.list_(pa.float64()))
    if keys and table.num_rows:
        labels = [tuple(row[k] for k in keys) for row in table.select(keys).to_pylist()]
    else:
        labels = [()] * table.num_rows
    offsets = np.asarray(lists.offsets.to_numpy(), dtype=np.int64)
    values = np.asarray(lists.values.to_numpy(zero_copy_only=False), dtype=np.float64)
    return Samples(labels, values, offsets - offsets[0] if len(offsets) else np.zeros(1, np.int64))


def order_statistics(samples: Samples, z: float) -> dict[Key, dict[str, float | None]]:
    """Median, its distribution-free interval and p90 per group (formulas in order_stats.py)."""
    n = samples.sizes().astype(np.float64)
    ranks = {
        "a": np.floor((n + 1) / 2),
        "b": np.floor((n + 2) / 2),
        "low": np.maximum(1, np.floor(n / 2 - z * np.sqrt(n) / 2)),
        "high": np.minimum(n, np.ceil(1 + n / 2 + z * np.sqrt(n) / 2)),
        "p90": np.ceil(n * 0.9),
    }
    start = samples.offsets[:-1]
    picked = {role: samples.values[start + r.astype(np.int64) - 1] for role, r in ranks.items()}
    return {
        key: {
            "median": float(picked["a"][i] + picked["b"][i]) / 2,
            "median_low": float(picked["low"][i]),
            "median_high": float(picked["high"][i]),
            "p90": float(picked["p90"][i]),
        }
        for i, key in enumerate(samples.keys)
    }


def mann_whitney_p(u: Floats, n_x: Floats, n_y: Floats, ties: Floats) -> Floats:
    """Two-sided asymptotic p of U with the tie correction and continuity correction (scipy's
    ``mannwhitneyu(method="asymptotic")``); NaN where a sample is empty or has no variance."""
    total = n_x + n_y
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = n_x * n_y / 12 * ((total + 1) - ties / (total * (total - 1)))
        z = (np.abs(u - n_x * n_y / 2) - 0.5) / np.sqrt(variance)
        p = np.minimum(1.0, 2 * special.ndtr(-np.maximum(z, 0.0)))
    return np.where((n_x > 0) & (n_y > 0) & (total >= 2) & (variance > 0), p, np.nan)


def u_statistic(x: Floats, y: Floats, runs_x: Floats, ties_x: float, ties_y: float) -> tuple[float, float]:
    """U of sorted ``x`` against sorted ``y`` (a tie counts one half) and Σ(t³ − t) over the tie
    groups of the pooled sample, from the same within x and within y and ``runs_x`` (for each x,
    how many x equal it). A value held a times by x and b times by y forms one pooled run of
    a + b: (a + b)³ − (a + b) = (a³ − a) + (b³ − b) + 3ab(a + b), and summing e = b over x's
    elements gives Σab·a and Σab·b as Σ e·runs_x and Σ e²."""
    below = np.searchsorted(y, x, side="left")
    equal = np.searchsorted(y, x, side="right") - below
    shared = float((equal * runs_x).sum() + (equal * equal).sum())
    return float(below.sum() + equal.sum() / 2), ties_x + ties_y + 3 * shared


def tie_term(ordered: Floats) -> float:
    """Σ(t³ − t) over the runs of equal values in an ascending array."""
    if len(ordered) < 2:
        return 0.0
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1], [True]]))
    runs = np.diff(starts).astype(np.float64)
    return float((runs**3 - runs).sum())


def run_lengths(samples: Samples) -> tuple[Floats, Floats]:
    """For every value, how many values of its group equal it; and Σ(t³ − t) over each group's
    runs of equal values — for all groups at once."""
    values, offsets = samples.values, samples.offsets
    if not len(values):
        return np.zeros(0), np.zeros(len(samples.keys))
    boundary = np.concatenate([[True], values[1:] != values[:-1]])
    boundary[offsets[:-1]] = True  # a run never continues into the next group
    starts = np.flatnonzero(boundary)
    runs = np.diff(np.append(starts, len(values))).astype(np.float64)
    group = np.searchsorted(offsets, starts, side="right") - 1
    per_group = np.asarray(
        np.bincount(group, weights=runs**3 - runs, minlength=len(samples.keys)), np.float64
    )
    return np.repeat(runs, runs.astype(np.int64)), per_group


def paired_p(pairs: list[tuple[Samples, int, Samples, int]]) -> Floats:
    """p of group i of one samples against group j of another, for each (samples, i, samples, j)."""
    u, n_x, n_y, ties = (np.zeros(len(pairs)) for _ in range(4))
    runs: dict[int, tuple[Floats, Floats]] = {}
    for k, (a, i, b, j) in enumerate(pairs):  # one iteration per group, not per row
        for samples in (a, b):
            if id(samples) not in runs:
                runs[id(samples)] = run_lengths(samples)
        (each_a, within_a), (_, within_b) = runs[id(a)], runs[id(b)]
        x, y = a.group(i), b.group(j)
        x_runs = each_a[a.offsets[i] : a.offsets[i + 1]]
        u[k], ties[k] = u_statistic(x, y, x_runs, float(within_a[i]), float(within_b[j]))
        n_x[k], n_y[k] = len(x), len(y)
    return mann_whitney_p(u, n_x, n_y, ties)


def counts(samples: Samples) -> dict[str, Floats]:
    """n, Σv and Σv² per group: a time metric's counts, straight from its samples."""
    start = samples.offsets[:-1]
    values = samples.values
    if not len(values):
        return {name: np.zeros(0) for name in ("n", "total", "total_sq")}
    return {
        "n": samples.sizes().astype(np.float64),
        "total": np.add.reduceat(values, start),
        "total_sq": np.add.reduceat(values * values, start),
    }


def against_rest(samples: Samples) -> Floats:
    """p of each group against all the other values (one global ranking, as in rank_test.py)."""
    everything = np.sort(samples.values, kind="stable")
    n_all = float(len(everything))
    ties = np.full(len(samples.keys), tie_term(everything))
    n_x = samples.sizes().astype(np.float64)
    # Average rank of each value in the whole sample; U = R_X − n_X(n_X + 1)/2.
    low = np.searchsorted(everything, samples.values, side="left")
    high = np.searchsorted(everything, samples.values, side="right")
    ranks = (low + high + 1) / 2
    rank_sums = np.add.reduceat(ranks, samples.offsets[:-1]) if len(ranks) else np.zeros(0)
    u = rank_sums - n_x * (n_x + 1) / 2
    return mann_whitney_p(u, n_x, n_all - n_x, ties)
