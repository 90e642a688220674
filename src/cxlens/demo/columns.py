"""Column helpers: grouped repeats, categorical draws, padded ids, JSON text and timestamps, all
on whole arrays (the demo never loops over rows)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from cxlens.demo.timeline import I64, NEVER

UTC_US = pa.timestamp("us", tz="UTC")
BoolArray = NDArray[np.bool_]


def owners(counts: I64) -> I64:
    """Row ``i`` repeated ``counts[i]`` times: the parent of each generated child row."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def ranks(counts: I64) -> I64:
    """0, 1, 2, ... within each parent's block of ``owners(counts)``."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


def draw(rng: np.random.Generator, n: int, weights: Sequence[float]) -> I64:
    """``n`` category codes with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int64)


def draw_rows(rng: np.random.Generator, table: NDArray[np.float64], rows: I64) -> I64:
    """One code per row, each row using its own weight vector ``table[rows[i]]`` (inverse CDF)."""
    cdf = np.cumsum(table, axis=1)
    cdf = cdf / cdf[:, -1:]
    u = rng.random(len(rows))
    codes: I64 = (u[:, None] >= cdf[rows]).sum(axis=1).astype(np.int64)
    return codes


def first_per_group(groups: I64, times: I64, size: int) -> I64:
    """Earliest time per group (``NEVER`` for groups without rows)."""
    first = np.full(size, NEVER, dtype=np.int64)
    np.minimum.at(first, groups, times)
    return first


def last_in_sorted(groups: I64) -> I64:
    """Positions of the last row of each group in an array sorted by group."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.append(groups[1:] != groups[:-1], True)).astype(np.int64)


def labels(vocab: Sequence[str], codes: I64) -> pa.Array:
    """Codes -> their words; a negative code becomes null."""
    return pa.array(list(vocab), pa.string()).take(pa.array(codes, pa.int64(), mask=codes < 0))


def padded_ids(prefix: str, numbers: I64, width: int) -> pa.Array:
    """``padded_ids("u", [7], 6)`` -> ``["u000007"]``; widens for worlds bigger than ``width``."""
    width = max(width, len(str(int(numbers.max())))) if len(numbers) else width
    digits = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def timestamps(times: I64) -> pa.Array:
    """µs since the epoch -> UTC timestamps; ``NEVER`` becomes null."""
    return pa.array(times, type=UTC_US, mask=times == NEVER)


def integers(values: NDArray[np.int64], missing: BoolArray | None = None) -> pa.Array:
    return pa.array(values, pa.int64(), mask=missing)


def text(values: I64) -> pa.Array:
    return pa.array(values, pa.int64()).cast(pa.string())


def quoted(values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise('"', values, '"', "")


def money(cents: I64) -> pa.Array:
    """Cents as JSON decimal text: 12345 -> ``123.45``."""
    rest = pc.utf8_lpad(text(cents % 100), width=2, padding="0")
    return pc.binary_join_element_wise(text(cents // 100), ".", rest, "")


def tenths(values: I64) -> pa.Array:
    """Tenths as JSON decimal text: 32 -> ``3.2``."""
    return pc.binary_join_element_wise(text(values // 10), ".", text(values % 10), "")


def json_object(fields: Sequence[tuple[str, pa.Array]]) -> pa.Array:
    """Rows of JSON text from pre-rendered value fragments, as ``json.dumps`` would write them.

    Values are our own vocabulary and numbers (no quotes or backslashes), so nothing needs
    escaping; ``quoted``/``money`` render the fragments."""
    parts: list[str | pa.Array] = []
    for position, (key, value) in enumerate(fields):
        parts += [("{" if position == 0 else ", ") + f'"{key}": ', value]
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def nulls(n: int) -> pa.Array:
    return pa.nulls(n, pa.string())


def constant(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)
