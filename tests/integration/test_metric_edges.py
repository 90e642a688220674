"""The metrics engine at its edges (issue 12): counts over time include the periods without rows;
an empty previous period is nothing to compare with; a filter matching nothing is no rows; a
question's dates stay on the calendar; a stored time off it is not read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import cxlens
from cxlens.errors import InvalidInput
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore

# Cases on 1, 2, 5 and 6 January 2024 (email), and on 5 January by chat; none before 2024.
CASES = [("2024-01-01", "email"), ("2024-01-01", "email"), ("2024-01-02", "email"), ("2024-01-05", "email")]
CASES += [("2024-01-06", "email"), ("2024-01-05", "chat")]


@pytest.fixture
def ws(store: DuckDBStore, db_path: Path) -> Iterator[Any]:
    cases = pa.table(
        {
            "user_id": [f"u{i}" for i in range(len(CASES))],
            "external_id": [f"c{i}" for i in range(len(CASES))],
            "channel": [channel for _, channel in CASES],
            "team": ["billing"] * len(CASES),
            "status": ["solved"] * len(CASES),
            "created_at": [f"{day}T09:00:00Z" for day, _ in CASES],
            "solved_at": [f"{day}T12:00:00Z" for day, _ in CASES],
        }
    )
    assert import_table(store, "cases", cases, options=ImportOptions()).rejected == []
    store.close()
    with cxlens.open(db_path, memory_limit="1GB") as workspace:
        yield workspace


def test_a_day_without_cases_counts_zero(ws: Any) -> None:
    rows = ws.metric("case_volume", grain="day").rows
    assert [(r["period"].date().isoformat(), r["n"]) for r in rows] == [
        ("2024-01-01", 2),
        ("2024-01-02", 1),
        ("2024-01-03", 0),
        ("2024-01-04", 0),
        ("2024-01-05", 2),
        ("2024-01-06", 1),
    ]
    assert rows[2]["value"] == 0 and rows[2]["ci_low"] == 0  # a zero, with its interval
    # A zero day is nothing to compare the next one with; a day after a busy one is compared.
    assert rows[4]["change"] is None and rows[1]["change"] == -1


def test_every_group_gets_every_period_of_the_answer(ws: Any) -> None:
    rows = ws.metric("case_volume", by=["channel"], grain="day").rows
    chat = [(r["period"].date().isoformat(), r["n"]) for r in rows if r["channel"] == "chat"]
    assert chat == [(f"2024-01-0{d}", 1 if d == 5 else 0) for d in range(1, 7)]
    weekly = ws.metric("case_volume", grain="week").rows  # Monday 1 January: one week holds all
    assert [(r["period"].date().isoformat(), r["n"]) for r in weekly] == [("2024-01-01", 6)]


def test_an_empty_window_before_is_nothing_to_compare_with(ws: Any) -> None:
    row = ws.metric("case_volume", since="2024-01-01", until="2024-01-07").rows[0]
    assert row["n"] == 6 and row["change"] is None and row["p_value"] is None
    assert not row["significant"] and row["previous_value"] is None
    later = ws.metric("case_volume", since="2024-01-04", until="2024-01-07").rows[0]
    assert (later["n"], later["previous_value"], later["change"]) == (3, 3, 0)  # 1–3 Jan had 3


def test_a_filter_matching_nothing_is_no_rows(ws: Any) -> None:
    assert ws.metric("ttr", where={"team": "nosuch"}).rows == []
    assert ws.compare("ttr", by="channel", where={"team": "nosuch"}) == []
    assert ws.metric("case_volume", grain="day", where={"team": "nosuch"}).rows == []


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("0001-01-02", "0001-03-01"),
        ("1899-12-31", None),
        (None, "2200-01-01"),
        ("0001-01-01T00:00:00+14:00", None),
    ],
)
def test_dates_off_the_calendar_are_refused_with_a_reason(
    ws: Any, since: str | None, until: str | None
) -> None:
    with pytest.raises(InvalidInput, match="outside the years 1900–2199"):
        ws.metric("nps", since=since, until=until)


def test_a_stored_time_off_the_calendar_is_not_read(store: DuckDBStore, db_path: Path) -> None:
    cases = pa.table(
        {
            "user_id": ["a", "b"],
            "external_id": ["c1", "c2"],
            "channel": ["email", "email"],
            "status": ["open", "open"],
            "created_at": ["2024-01-01T09:00:00Z", "2024-01-02T09:00:00Z"],
        }
    )
    assert import_table(store, "cases", cases, options=ImportOptions()).rejected == []
    store.close()
    with duckdb.connect(str(db_path)) as con:  # as an unchecked tracking call could have left it
        con.execute(
            "UPDATE cases SET created_at = TIMESTAMPTZ '0001-01-01 00:00:00+14' WHERE external_id = 'c1'"
        )
    with cxlens.open(db_path, memory_limit="1GB") as workspace:
        assert [r["n"] for r in workspace.metric("case_volume", grain="month").rows] == [1]
