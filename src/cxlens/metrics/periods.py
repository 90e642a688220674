"""Periods of the time grain, computed inside the engine with narwhals (DuckDB and Spark alike)."""

from __future__ import annotations

from datetime import datetime, timedelta

import narwhals as nw

from cxlens.metrics.spec import GRAINS


def period_start(moment: nw.Expr, grain: str) -> nw.Expr:
    """The start of ``moment``'s period (UTC). Weeks start on Monday: narwhals truncates to days,
    months and quarters but has no week unit, so a week steps back from the day by its weekday."""
    if grain != "week":
        return moment.dt.truncate(GRAINS[grain])
    day = moment.dt.truncate("1d")
    # Days since Monday, 0..6. ISO numbers Sunday 7, narwhals 2.29 on Spark gives 0: both map to 6.
    back = (moment.dt.weekday() + 6) % 7
    start = nw.when(back == 1).then(day.dt.offset_by("-1d"))
    for days in range(2, 7):
        start = start.when(back == days).then(day.dt.offset_by(f"-{days}d"))
    return start.otherwise(day)


def floor_period(moment: datetime, grain: str) -> datetime:
    """The start of ``moment``'s period, in Python (for a few values: grid bounds, not rows)."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    first_month = (day.month - 1) // 3 * 3 + 1 if grain == "quarter" else day.month
    return day.replace(month=first_month, day=1)


def next_period(start: datetime, grain: str) -> datetime:
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(weeks=1)
    months = 3 if grain == "quarter" else 1
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    return start.replace(year=year, month=month + 1)


def period_grid(first: datetime, last: datetime, grain: str) -> list[datetime]:
    """Every period start from ``first`` to ``last`` (both period starts), in order."""
    periods, current = [], first
    while current <= last:
        periods.append(current)
        current = next_period(current, grain)
    return periods
