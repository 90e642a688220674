"""The supported range of instants: the scalar, SQL and Arrow forms agree, edges included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import duckdb
import pyarrow as pa

from cxlens.core.instants import (
    MAX_INSTANT,
    MIN_INSTANT,
    arrow_out_of_range,
    check_instant,
    in_range,
    sql_out_of_range,
)

PLUS_14 = timezone(timedelta(hours=14))
CASES = [
    (datetime(1, 1, 1, tzinfo=PLUS_14), False),  # year 0 in UTC: Python cannot even convert it
    (MIN_INSTANT - timedelta(microseconds=1), False),
    (MIN_INSTANT, True),
    (datetime(2024, 5, 1, 12, tzinfo=UTC), True),
    (MAX_INSTANT, True),
    (MAX_INSTANT + timedelta(seconds=1), False),
    (datetime(9999, 12, 31, tzinfo=UTC), False),
]


def test_scalar_check() -> None:
    assert [in_range(value) for value, _ in CASES] == [ok for _, ok in CASES]
    assert check_instant(CASES[0][0]) == "is outside the supported range 1900-01-01 to 2200-01-01 (UTC)"
    assert check_instant(MIN_INSTANT) is None
    assert in_range(datetime(2024, 1, 1))  # noqa: DTZ001 - naive means UTC


def test_sql_check_agrees() -> None:
    texts = ["0001-01-01T00:00:00+14:00", "1899-12-31 23:59:59.999999+00", "1900-01-01 00:00:00+00"]
    texts += [
        "2024-05-01 12:00:00+00",
        "2200-01-01 00:00:00+00",
        "2200-01-01 00:00:01+00",
        "9999-12-31 00:00:00+00",
    ]
    con = duckdb.connect()
    found = [
        con.execute(
            f"SELECT {sql_out_of_range('t')} FROM (SELECT CAST(? AS TIMESTAMPTZ) AS t)", [text]
        ).fetchone()[0]  # type: ignore[index]
        for text in texts
    ]
    assert found == [not ok for _, ok in CASES]
    assert con.execute(f"SELECT {sql_out_of_range('CAST(NULL AS TIMESTAMPTZ)')}").fetchone() == (None,)


def test_arrow_check_agrees_for_aware_and_naive_columns() -> None:
    values = [value.astimezone(UTC) for value, _ in CASES[1:]]
    aware = pa.array([*values, None], pa.timestamp("us", "UTC"))
    naive = pa.array([v.replace(tzinfo=None) for v in values] + [None], pa.timestamp("us"))
    expected = [not ok for _, ok in CASES[1:]] + [None]
    assert arrow_out_of_range(aware).to_pylist() == expected
    assert arrow_out_of_range(naive).to_pylist() == expected


def test_a_forged_timeline_cursor_with_an_absurd_instant_is_invalid_input() -> None:
    from cxlens.customers.queries import decode_cursor, encode_cursor
    from cxlens.errors import InvalidInput

    good = datetime(2024, 5, 1, tzinfo=UTC)
    assert decode_cursor(encode_cursor(good, "i1")) == (good, "i1")
    try:
        decode_cursor(encode_cursor(CASES[0][0], "i1"))
    except InvalidInput as error:
        assert "cursor is not valid" in error.message
    else:
        raise AssertionError("an out-of-range cursor was accepted")
