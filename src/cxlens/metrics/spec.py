"""What a metric question is: a frozen, validated spec (metric, dimensions, grain, filters, range)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from cxlens.errors import InvalidInput
from cxlens.metrics.schedule import Schedule, parse_schedule

GRAINS = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q"}
# The years a question may ask about (and a stored time may have to be read at all: metrics/frames.py).
# Outside them a window's arithmetic (the window before, the period before) leaves the calendar
# Python and the engines share; no customer experience predates 1900 or outlasts 2200.
FIRST_YEAR, LAST_YEAR = 1900, 2200


@dataclass(frozen=True)
class MetricsSettings:
    """What every metric question of an installation shares (from ``config.Settings``)."""

    min_n: int = 30
    fcr_repeat_days: float = 7
    schedule: Schedule = field(default_factory=lambda: parse_schedule("1-5", "09:00-17:00", "UTC"))


@dataclass(frozen=True)
class MetricQuery:
    metric: str
    by: tuple[str, ...] = ()
    grain: str | None = None
    where: tuple[tuple[str, str], ...] = ()  # (dimension, value) pairs, all must hold
    since: datetime | date | None = None  # inclusive
    until: datetime | date | None = None  # exclusive
    confidence: float = 0.95
    min_n: int = 30
    options: dict[str, float] = field(default_factory=dict)  # metric parameters, e.g. csat threshold


def make_query(  # noqa: PLR0913 - the documented query API: every argument is keyword-only
    metric: str,
    *,
    by: Sequence[str] = (),
    grain: str | None = None,
    where: Mapping[str, str] | None = None,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    confidence: float = 0.95,
    min_n: int | None = None,
    options: Mapping[str, float] | None = None,
    defaults: MetricsSettings | None = None,
) -> MetricQuery:
    """A query from what callers have at hand (ISO text for dates, a mapping for filters);
    what the caller leaves out comes from the installation's ``defaults``."""
    base = defaults or MetricsSettings()
    return MetricQuery(
        metric=metric,
        by=tuple(by),
        grain=grain,
        where=tuple(sorted((where or {}).items())),
        since=as_time(since, "since"),
        until=as_time(until, "until"),
        confidence=confidence,
        min_n=min_n if min_n is not None else base.min_n,
        options={"fcr_repeat_days": base.fcr_repeat_days, **(options or {})},
    )


def as_time(value: datetime | date | str | None, name: str) -> datetime | date | None:
    """Dates and date-times as given; text as ISO 8601 (``2024-05-01``, ``2024-05-01T12:00Z``)."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput(f"{name}: {value!r} is not an ISO date (YYYY-MM-DD) or date-time.") from error


def check_window(since: datetime | date | None, until: datetime | date | None) -> None:
    """A question's range: each end within FIRST_YEAR..LAST_YEAR (UTC), ``since`` before ``until``."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and not FIRST_YEAR <= _utc_year(value) < LAST_YEAR:
            raise InvalidInput(
                f"{name}: {value.isoformat()} is outside the years {FIRST_YEAR}–{LAST_YEAR - 1} a metric can cover.",
                data={"field": name},
            )
    if since is not None and until is not None and utc(since) >= utc(until):
        raise InvalidInput("--since must be before --until.")


def _utc_year(value: datetime | date) -> int:
    try:
        return utc(value).year
    except OverflowError:  # 0001-01-01T00:00+14:00 is in year 0 in UTC, which Python cannot hold
        return 0


def parse_filters(pairs: Sequence[str]) -> dict[str, str]:
    """``["channel=web", "segment=smb"]`` -> ``{"channel": "web", "segment": "smb"}``."""
    filters = {}
    for pair in pairs:
        field_name, sep, value = pair.partition("=")
        if not sep or not field_name.strip():
            raise InvalidInput(f"A filter is FIELD=VALUE, got {pair!r}.")
        filters[field_name.strip()] = value.strip()
    return filters


def utc(value: datetime | date) -> datetime:
    """The UTC wall time of a date (midnight) or date-time (a naive one is taken as UTC), without
    a time zone: base frames carry plain UTC timestamps (see metrics/frames.py)."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)  # noqa: DTZ001 - UTC by contract
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def as_instant(value: Any) -> Any:
    """A UTC wall time from the engine back to an aware UTC instant, for callers."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value
