"""When things happen in the demo world: its window, and the season, weekday and hour rhythms.

Times stay int64 microseconds since the Unix epoch (UTC) until the tables are built, because
numpy arithmetic on plain integers is what keeps generation fast; ``NEVER`` marks a milestone that
does not happen (a case that is never solved, a customer who never churns).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

US = 1_000_000
MINUTE = 60 * US
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NEVER = int(np.iinfo(np.int64).max)

Rhythm = Literal["consumer", "business", "store", "acquisition"]

# Activity by calendar month, January..December: a summer lull and the holiday peak.
_SEASON = np.array([0.95, 0.88, 0.97, 1.0, 0.97, 0.9, 0.84, 0.86, 1.0, 1.05, 1.25, 1.35])
# Monday..Sunday. Support contacts are a weekday affair; stores peak on Saturday.
_WEEKDAY = {
    "consumer": np.array([1.0, 0.97, 0.97, 1.0, 1.02, 1.08, 1.04]),
    "business": np.array([1.3, 1.15, 1.1, 1.05, 0.95, 0.3, 0.2]),
    "store": np.array([0.75, 0.8, 0.85, 0.9, 1.1, 1.7, 0.9]),
}
# Relative weight of each hour of day 0..23 (UTC; the demo pretends its customers share one zone).
_HOURS = {
    "consumer": (8, 5, 3, 2, 2, 3, 8, 15, 22, 25, 26, 28, 32, 30, 28, 28, 30, 34, 40, 46, 49, 44, 32, 18),
    "business": (1, 1, 1, 1, 1, 2, 5, 15, 35, 50, 55, 52, 42, 48, 52, 50, 45, 34, 18, 9, 6, 4, 3, 2),
    "store": (0, 0, 0, 0, 0, 0, 0, 0, 2, 15, 30, 35, 40, 40, 38, 38, 40, 44, 44, 35, 20, 5, 0, 0),
}
_BASE = {"consumer": "consumer", "business": "business", "store": "store", "acquisition": "consumer"}


@dataclass(frozen=True)
class Window:
    """The simulated period ``[start, end)`` and, per rhythm, cumulative day weights over a day
    grid that begins at ``origin`` (midnight on the day the installed base's history starts)."""

    start: int
    end: int
    origin: int
    cdf: dict[str, F64]


def to_us(moment: datetime) -> int:
    return round(moment.timestamp() * US)


def make_window(start: datetime, end: datetime, *, history_start: datetime) -> Window:
    """The window ``[start, end)``; rhythms are laid out from ``history_start`` so that the
    installed base's earlier sign-ups follow them too."""
    origin = to_us(datetime(history_start.year, history_start.month, history_start.day, tzinfo=UTC))
    n_days = -(-(to_us(end) - origin) // DAY)
    day_numbers = origin // DAY + np.arange(n_days)
    weekday = (day_numbers + 3) % 7  # 1970-01-01 was a Thursday
    month = day_numbers.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
    # The company grows: acquisition at the end runs at twice its rate at the history start.
    growth = np.linspace(0.67, 1.33, n_days)
    cdf: dict[str, F64] = {}
    for rhythm, base in _BASE.items():
        weights = _SEASON[month] * _WEEKDAY[base][weekday] * (growth if rhythm == "acquisition" else 1.0)
        cdf[rhythm] = np.concatenate([[0.0], np.cumsum(weights)])
    return Window(start=to_us(start), end=to_us(end), origin=origin, cdf=cdf)


def sample_times(rng: np.random.Generator, window: Window, rhythm: Rhythm, *, lo: I64, hi: I64) -> I64:
    """One time per row in ``[lo, hi)``, following the rhythm's season, weekday and hour weights.

    The day comes from inverting the cumulative day weights between ``lo`` and ``hi``; the hour
    from the hour weights. On the first and last day the hour may fall outside the row's range,
    and those rows are drawn uniformly in the part of the day that is inside it."""
    n = len(lo)
    cdf = window.cdf[rhythm]
    grid = np.arange(len(cdf), dtype=np.float64)
    a = np.interp((lo - window.origin) / DAY, grid, cdf)
    b = np.interp((hi - window.origin) / DAY, grid, cdf)
    day = np.floor(np.interp(a + rng.random(n) * (b - a), cdf, grid)).astype(np.int64)
    hours = np.asarray(_HOURS[_BASE[rhythm]], dtype=np.float64)
    seconds = rng.choice(24, size=n, p=hours / hours.sum()) * 3600 + rng.random(n) * 3600
    day_start = window.origin + day * DAY
    times = day_start + (seconds * US).astype(np.int64)
    outside = (times < lo) | (times >= hi)
    inner_lo = np.maximum(day_start, lo)
    inner_hi = np.maximum(np.minimum(day_start + DAY, hi), inner_lo + 1)
    uniform = inner_lo + (rng.random(n) * (inner_hi - inner_lo)).astype(np.int64)
    return np.where(outside, np.minimum(uniform, np.maximum(hi - 1, lo)), times)


def lognormal_us(rng: np.random.Generator, median_seconds: F64 | float, *, sigma: float, n: int) -> I64:
    """Durations with a long right tail (waits, resolution times), in microseconds."""
    seconds = np.asarray(median_seconds) * rng.lognormal(0.0, sigma, n)
    return (seconds * US).astype(np.int64)


def weekday_of(times: I64) -> I64:
    """0 = Monday .. 6 = Sunday."""
    return (times // DAY + 3) % 7
