"""The range of instants cxlens accepts, and the checks every way in shares.

A timestamp such as ``0001-01-01T00:00:00+14:00`` is valid ISO-8601, but in UTC it falls before
year 1: Python's ``datetime`` cannot hold it, and every metric or page that later reads it as one
fails, for every user, from then on. So nothing outside [``MIN_INSTANT``, ``MAX_INSTANT``] (after
conversion to UTC) is stored: the wire, file imports and forms reject it with ``RANGE_REASON``.
The bounds are generous (no customer signed up before 1900) and far from any library's limits.

Three forms of the same check: ``check_instant`` for one value (wire, forms), ``sql_out_of_range``
for a column in a set-based statement (imports), ``arrow_out_of_range`` for an Arrow column.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

MIN_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(2200, 1, 1, tzinfo=UTC)
RANGE_TEXT = "1900-01-01 to 2200-01-01 (UTC)"
RANGE_REASON = f"is outside the supported range {RANGE_TEXT}"

_MIN_SQL = "TIMESTAMPTZ '1900-01-01 00:00:00+00'"
_MAX_SQL = "TIMESTAMPTZ '2200-01-01 00:00:00+00'"


def in_range(value: datetime) -> bool:
    """Whether an aware instant (a naive one is read as UTC) lies within the supported range."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    try:
        return MIN_INSTANT <= aware <= MAX_INSTANT
    except OverflowError:  # comparing needs the UTC value, which year 1 minus an offset lacks
        return False


def check_instant(value: datetime) -> str | None:
    """None when ``value`` may be stored, else the reason (to follow the field's name)."""
    return None if in_range(value) else RANGE_REASON


def sql_out_of_range(expr: str) -> str:
    """A SQL condition, true when the TIMESTAMPTZ ``expr`` is set and outside the range."""
    return f"({expr} < {_MIN_SQL} OR {expr} > {_MAX_SQL})"


def arrow_out_of_range(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A boolean mask over an Arrow timestamp column: true where a value is outside the range
    (null stays null). A naive column is read as UTC, like ``in_range``."""
    unit = values.type.unit
    tz = values.type.tz
    low = pa.scalar(MIN_INSTANT.replace(tzinfo=None), pa.timestamp(unit)).cast(pa.timestamp(unit, tz))
    high = pa.scalar(MAX_INSTANT.replace(tzinfo=None), pa.timestamp(unit)).cast(pa.timestamp(unit, tz))
    return pc.or_(pc.less(values, low), pc.greater(values, high))
