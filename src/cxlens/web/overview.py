"""The overview: "is our customer experience good, and where does it break?" as tiles, each a
metric over the recent window with its interval, n, monthly trend and change against the window
before, plus how consistent the channels are. Every number comes from the metrics engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from cxlens.metrics import MetricsSettings, Schedule, latest_activity, make_query, run_consistency, run_metric
from cxlens.storage.store import Session

WINDOWS = (30, 90, 365)  # days the overview can look back; 90 by default
TREND_MONTHS = 12


def _plus(v: float, digits: int) -> str:
    """``v`` with its sign, rounded to ``digits`` decimals; never "-0.0" (a rounded zero is zero)."""
    return f"{round(v, digits) + 0.0:+,.{digits}f}"


def _signed(v: float) -> str:
    return _plus(v, 0)


def _pct(v: float) -> str:
    return f"{v:.1f}%"


def _one(v: float) -> str:
    return f"{v:.2f}"


def _hours(v: float) -> str:
    return f"{v:.1f} h" if v < 48 else f"{v / 24:.1f} d"


def _count(v: float) -> str:
    return f"{v:,.0f}"


@dataclass(frozen=True)
class ChangeText:
    """A change with its unit: NPS moves in points, shares in percentage points (not %), CES in
    points of its 1–7 scale, times in hours, counts as whole numbers with the relative change. The
    arrow follows the printed figure: a change that rounds to zero has none."""

    digits: int
    unit: str = ""
    relative: bool = False  # counts: also the change in % of the previous value

    def __call__(self, v: float, previous: float | None) -> str:
        relative = f" ({_plus(100 * v / previous, 1)}%)" if self.relative and previous else ""
        return f"{_plus(v, self.digits)}{self.unit}{relative}"

    def direction(self, v: float | None) -> str | None:
        shown = round(v, self.digits) if v is not None else 0
        return None if not shown else ("up" if shown > 0 else "down")


POINTS = ChangeText(1, " points")
PERCENTAGE_POINTS = ChangeText(1, " percentage points")
SCALE_POINTS = ChangeText(2, " points")
HOURS = ChangeText(1, " hours")
COUNT = ChangeText(0, relative=True)


@dataclass(frozen=True)
class Tile:
    key: str
    question: str  # the CX lead's question it answers
    title: str
    metric: str
    fmt: Callable[[float], str]
    good: str | None  # which direction is better: "up", "down", or None for volumes
    where: dict[str, str] = field(default_factory=dict)
    change: ChangeText = POINTS


TILES = (
    Tile("nps", "Brand perception", "Net Promoter Score", "nps", _signed, "up"),
    Tile("csat", "Satisfaction", "CSAT (top-2-box)", "csat", _pct, "up", change=PERCENTAGE_POINTS),
    Tile("ces", "Ease", "Customer effort (CES, 1–7)", "ces", _one, "up", change=SCALE_POINTS),
    Tile("ttr", "Resolution", "Time to resolution (median)", "ttr", _hours, "down", change=HOURS),
    Tile("fcr", "Resolution", "First-contact resolution", "fcr", _pct, "up", change=PERCENTAGE_POINTS),
    # Surveys sent when a case is solved carry the touchpoint case_solved (docs/metrics.md).
    Tile(
        "csat_resolved",
        "Resolution",
        "CSAT after resolution",
        "csat",
        _pct,
        "up",
        {"touchpoint": "case_solved"},
        change=PERCENTAGE_POINTS,
    ),
    Tile(
        "churn", "Relationship", "Churn rate (monthly)", "churn_rate", _pct, "down", change=PERCENTAGE_POINTS
    ),
    Tile("cases", "Volume", "Cases opened", "case_volume", _count, None, change=COUNT),
    Tile("responses", "Volume", "Survey responses", "response_count", _count, None, change=COUNT),
)


def _points(v: float) -> str:
    return f"{v:.1f} points"


# Spreads are differences: NPS and CSAT in points, CES on its scale, times in hours or days.
CONSISTENCY_METRICS = (
    ("nps", "NPS", _points),
    ("csat", "CSAT", _points),
    ("ces", "CES", _one),
    ("ttr", "Time to resolution", _hours),
)


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    days: int

    @property
    def trend_since(self) -> datetime:
        start = (self.until - timedelta(days=31 * TREND_MONTHS)).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        return start


def window(s: Session, days: int, now: datetime | None = None) -> Window:
    """The last ``days`` up to the end of the day of the latest activity (or now, if earlier):
    a workspace loaded from last year's export still shows its own recent weeks."""
    now = now or datetime.now(UTC)
    latest = latest_activity(s) or now
    end = min(latest, now).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    return Window(end - timedelta(days=days), end, days)


def explorer_link(
    metric: str, where: dict[str, str], grain: str | None = "month", by: str | None = None
) -> str:
    params: list[tuple[str, str]] = [("metric", metric)]
    if grain:
        params.append(("grain", grain))
    if by:
        params.append(("by", by))
    params += [("where", f"{k}={v}") for k, v in where.items()]
    return "/explore?" + urlencode(params)


def tile_view(
    s: Session, tile: Tile, span: Window, config: MetricsSettings, schedule: Schedule
) -> dict[str, Any]:
    """One tile: the window's figure (or, for churn, the last month's) and the monthly trend."""
    trend = run_metric(
        s,
        make_query(
            tile.metric,
            grain="month",
            where=tile.where,
            since=span.trend_since,
            until=span.until,
            defaults=config,
        ),
        schedule,
    ).rows
    if tile.metric == "churn_rate":
        current = trend[-1] if trend else None
        compared_with = "the month before"
    else:
        rows = run_metric(
            s,
            make_query(tile.metric, where=tile.where, since=span.since, until=span.until, defaults=config),
            schedule,
        ).rows
        current = rows[0] if rows else None
        compared_with = f"the {span.days} days before"
    return _tile_dict(tile, current, trend, compared_with)


def _tile_dict(
    tile: Tile, row: dict[str, Any] | None, trend: list[dict[str, Any]], compared_with: str
) -> dict[str, Any]:
    base = {
        "key": tile.key,
        "question": tile.question,
        "title": tile.title,
        "good": tile.good,
        "href": explorer_link(tile.metric, tile.where),
        "trend": [r for r in trend if r.get("value") is not None],
    }
    if row is None or row.get("value") is None:
        return {
            **base,
            "value_text": "—",
            "interval_text": "no data in this window",
            "n": 0,
            "change_text": "",
            "compared": False,
            "significant": False,
            "direction": None,
            "flags": [],
        }
    change = row.get("change")
    direction = tile.change.direction(change)
    significant = bool(row.get("significant"))
    if change is None:
        change_text = f"nothing to compare with in {compared_with}"
    else:
        p = row.get("p_value")
        verdict = "significant" if significant else "not significant"
        p_text = (
            f", p = {p:.3f}" if p is not None and p >= 0.001 else (", p < 0.001" if p is not None else "")
        )
        change_text = (
            f"{tile.change(change, row.get('previous_value'))} vs {compared_with} ({verdict}{p_text})"
        )
    low, high = row.get("ci_low"), row.get("ci_high")
    interval = (
        f"95% interval {tile.fmt(low)} – {tile.fmt(high)}" if low is not None and high is not None else ""
    )
    return {
        **base,
        "value_text": tile.fmt(row["value"]),
        "interval_text": interval,
        "n": row["n"],
        "change_text": change_text,
        "compared": change is not None,
        "significant": significant,
        "direction": direction,
        "flags": row.get("flags", []),
    }


def consistency_view(
    s: Session, span: Window, config: MetricsSettings, schedule: Schedule
) -> list[dict[str, Any]]:
    """Do the channels differ on each metric? The omnibus test and the spread, per metric."""
    out = []
    for metric, title, fmt in CONSISTENCY_METRICS:
        found = run_consistency(
            s,
            make_query(metric, by=["channel"], since=span.since, until=span.until, defaults=config),
            schedule,
        )
        spread = found.get("spread")
        out.append(
            {
                "metric": metric,
                "title": title,
                "groups": found["groups"],
                "n": found["n"],
                "spread_text": fmt(spread) if spread is not None else "—",
                "lowest": found.get("lowest"),
                "highest": found.get("highest"),
                "test": found.get("test"),
                "p_value": found.get("p_value"),
                "significant": found.get("significant", False),
                "href": explorer_link(metric, {}, grain=None, by="channel"),
            }
        )
    return out
