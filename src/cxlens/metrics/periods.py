"""Periods of the time grain, computed inside the engine with narwhals (DuckDB and Spark alike)."""

from __future__ import annotations

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
