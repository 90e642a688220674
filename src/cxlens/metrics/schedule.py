"""Business hours: which week days, which hours, in which time zone, minus which holidays.

``business_seconds_sql`` turns two timestamps into the business time between them without
expanding days: with B(t) the business seconds from a fixed Monday to t,
business(a, b) = B(b) − B(a), and B(t) = (full weeks × business days per week + business days
earlier in t's week − business holidays before t's day) × hours per day + the part of t's own day
inside the hours (none on a holiday). One expression per row, set-based; the schedule applies to
the whole duration (Zendesk's rule for single-event metrics such as first reply and resolution).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxlens.errors import InvalidInput
from cxlens.storage.dialects import quote_literal

_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_EPOCH_MONDAY = "DATE '1970-01-05'"


@dataclass(frozen=True)
class Schedule:
    days: frozenset[int]  # ISO week days, 1 = Monday
    start: time
    end: time
    timezone: str
    holidays: tuple[date, ...] = ()

    @property
    def seconds_per_day(self) -> int:
        return (self.end.hour * 3600 + self.end.minute * 60) - (
            self.start.hour * 3600 + self.start.minute * 60
        )


def parse_schedule(days: str, hours: str, timezone: str, holidays: str = "") -> Schedule:
    """``days`` like ``1-5`` or ``1,2,3,4,6``; ``hours`` like ``09:00-17:00``; an IANA zone;
    holidays as comma-separated ISO dates."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidInput(f"Business hours: unknown time zone {timezone!r}.") from error
    match = _HOURS.match(hours.strip())
    if not match:
        raise InvalidInput(f"Business hours: {hours!r} is not like 09:00-17:00.")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if not (0 <= h1 <= 23 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60) or (h2, m2) <= (h1, m1):
        raise InvalidInput(f"Business hours: {hours!r} must start before it ends, within one day.")
    end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
    return Schedule(_days(days), time(h1, m1), end, timezone, _holidays(holidays))


def _days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise InvalidInput(f"Business days: {text!r} is not like 1-5 (1 = Monday).")
        days.update(range(int(first), int(last or first) + 1))
    if not days or not days <= set(range(1, 8)):
        raise InvalidInput(f"Business days: {text!r} must name days 1 (Monday) to 7 (Sunday).")
    return frozenset(days)


def _holidays(text: str) -> tuple[date, ...]:
    try:
        return tuple(sorted(date.fromisoformat(d.strip()) for d in text.split(",") if d.strip()))
    except ValueError as error:
        raise InvalidInput(f"Holidays: {text!r} must be ISO dates separated by commas.") from error


def _cumulative_days(days: frozenset[int], dow: str) -> str:
    """Business days earlier in the week than week day ``dow`` (0 = Monday)."""
    cases = " ".join(f"WHEN {d} THEN {sum(1 for x in days if x - 1 < d)}" for d in range(7))
    return f"CASE {dow} {cases} END"


def _business_clock(schedule: Schedule, ts: str) -> str:
    """B(ts): business seconds from the epoch Monday to ``ts`` (a TIMESTAMPTZ expression). The
    repeated subexpressions are computed once by the engine (common subexpression elimination)."""
    local = f"timezone({quote_literal(schedule.timezone)}, {ts})"
    day = f"CAST({local} AS DATE)"
    days = f"datediff('day', {_EPOCH_MONDAY}, {day})"
    dow = f"({days} % 7)"
    per_day = schedule.seconds_per_day
    start = schedule.start.hour * 3600 + schedule.start.minute * 60
    weekdays = ", ".join(str(d - 1) for d in sorted(schedule.days))
    holidays = ", ".join(
        f"DATE '{d.isoformat()}'" for d in schedule.holidays if d.isoweekday() in schedule.days
    )
    is_holiday, before = "false", "0"
    if holidays:
        is_holiday = f"list_contains([{holidays}], {day})"
        before = f"len(list_filter([{holidays}], lambda h: h < {day}))"
    today = (
        f"CASE WHEN {dow} IN ({weekdays}) AND NOT {is_holiday} THEN "
        f"least(greatest(epoch(CAST({local} AS TIME)) - {start}, 0), {per_day}) ELSE 0 END"
    )
    weeks = f"({days} // 7) * {len(schedule.days)}"
    return f"(({weeks} + {_cumulative_days(schedule.days, dow)} - {before}) * {per_day} + {today})"


def business_hours_sql(schedule: Schedule, start: str, end: str) -> str:
    """Business hours from ``start`` to ``end`` (NULL when either is NULL or end < start)."""
    seconds = f"({_business_clock(schedule, end)} - {_business_clock(schedule, start)})"
    return f"CASE WHEN {end} >= {start} THEN {seconds} / 3600.0 END"
