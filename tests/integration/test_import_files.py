"""Bulk import through the real pipeline on a real DuckDB workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.factories import interaction, write_csv, write_jsonl

from cxlens.errors import ImportFailed, MappingError, UnknownFormat
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_file
from cxlens.storage.duckdb_store import DuckDBStore


def count(store: DuckDBStore, table: str) -> int:
    with store.session() as s:
        return int(s.fetch_value(f"SELECT count(*) FROM {table}"))


@pytest.mark.parametrize("gz", [False, True])
def test_csv_with_field_names_imports_without_mapping(store: DuckDBStore, tmp_path: Path, gz: bool) -> None:
    rows = [interaction("u1"), interaction("u2", channel="app", occurred_at="2024-03-02T09:00:00+01:00")]
    path = write_csv(tmp_path / ("i.csv.gz" if gz else "i.csv"), rows, gz=gz)
    report = import_file(store, "interactions", path, options=ImportOptions())
    assert (report.rows_read, report.imported, report.rejected_count) == (2, 2, 0)
    assert report.customers_created == 2
    with store.session() as s:
        stored = s.fetch_value("SELECT occurred_at FROM interactions WHERE channel = 'app'")
    assert stored.isoformat() == "2024-03-02T08:00:00+00:00"


def test_jsonl_keeps_unknown_keys_as_properties(store: DuckDBStore, tmp_path: Path) -> None:
    rows = [interaction("u1", order={"id": 7, "total": 12.5}, coupon="SPRING")]
    path = write_jsonl(tmp_path / "i.jsonl", rows)
    assert import_file(store, "interactions", path, options=ImportOptions()).imported == 1
    with store.session() as s:
        props = s.fetch_value(
            "SELECT properties->>'$.coupon' || ':' || (properties->'$.order'->>'$.id') FROM interactions"
        )
    assert props == "SPRING:7"


def test_parquet_with_naive_timestamps_needs_tz(store: DuckDBStore, tmp_path: Path) -> None:
    from datetime import datetime

    table = pa.table(
        {
            "email": ["A@Example.com"],
            "occurred_at": [datetime(2024, 1, 1, 12, 0)],  # noqa: DTZ001 - a naive timestamp is the point
            "channel": ["store"],
            "name": ["visit"],
        }
    )
    path = tmp_path / "i.parquet"
    pq.write_table(table, path)
    rejected = import_file(store, "interactions", path, options=ImportOptions())
    assert rejected.imported == 0
    assert "has no time zone" in rejected.rejected[0].reason
    report = import_file(store, "interactions", path, options=ImportOptions(tz="Europe/Paris"))
    assert report.imported == 1
    with store.session() as s:
        row = s.fetch_one(
            "SELECT occurred_at, x.value FROM interactions JOIN identities x USING (customer_key)"
        )
    assert row is not None
    assert row["occurred_at"].isoformat() == "2024-01-01T11:00:00+00:00"
    assert row["value"] == "a@example.com"


def test_mapping_and_constants(store: DuckDBStore, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "orders.csv",
        [{"Customer": "c-1", "When": "2024-05-01 10:00", "What": "order_placed"}],
    )
    options = ImportOptions(
        mapping={"Customer": "external:shop", "When": "occurred_at", "What": "name"},
        constants={"channel": "web", "stage": "purchase"},
        tz="UTC",
    )
    report = import_file(store, "interactions", path, options=options)
    assert report.imported == 1
    with store.session() as s:
        assert s.fetch_value("SELECT kind || '=' || value FROM identities") == "external:shop=c-1"


def test_bad_rows_are_reported_and_good_rows_kept(store: DuckDBStore, tmp_path: Path) -> None:
    rows = [
        interaction("u1"),
        interaction("u2", occurred_at="yesterday"),
        interaction("u3", channel="fax"),
        interaction("", email="not-an-email"),
        interaction(""),
        interaction("u6", name=""),
    ]
    report = import_file(store, "interactions", write_csv(tmp_path / "i.csv", rows), options=ImportOptions())
    assert report.imported == 1
    assert report.rejected_count == 5
    by_line = {r.line: (r.column, r.reason) for r in report.rejected}
    assert by_line[3] == ("occurred_at", "occurred_at: yesterday is not a date/time")
    assert by_line[4][0] == "channel" and "fax is not one of web" in by_line[4][1]
    assert by_line[5] == ("email", "email: not-an-email is not an email address")
    assert by_line[6][1].startswith("no identity")
    assert by_line[7] == ("name", "missing name")


def test_reimport_is_a_noop(store: DuckDBStore, tmp_path: Path) -> None:
    rows = [interaction(f"u{i}", occurred_at=f"2024-03-01T10:{i:02d}:00Z") for i in range(30)]
    path = write_csv(tmp_path / "i.csv", rows + rows[:5])  # five exact repeats inside the file
    first = import_file(store, "interactions", path, options=ImportOptions())
    assert (first.imported, first.duplicates) == (30, 5)
    second = import_file(store, "interactions", path, options=ImportOptions(chunk_rows=7))
    assert (second.imported, second.duplicates) == (0, 35)
    assert count(store, "interactions") == 30
    assert count(store, "customers") == 30


def test_strict_writes_nothing_when_a_row_is_bad(store: DuckDBStore, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "i.csv", [interaction("u1"), interaction("u2", channel="fax")])
    with pytest.raises(ImportFailed, match="--strict"):
        import_file(store, "interactions", path, options=ImportOptions(strict=True))
    assert count(store, "interactions") == 0
    assert count(store, "customers") == 0


def test_responses_scores_are_checked_against_the_scale(store: DuckDBStore, tmp_path: Path) -> None:
    base = {"user_id": "u1", "answered_at": "2024-01-01T00:00:00Z"}
    rows = [
        {**base, "metric": "nps", "score": "9", "comment": "great"},
        {**base, "metric": "nps", "score": "11"},
        {**base, "metric": "csat", "score": "five"},
        {**base, "metric": "ces", "score": "0"},
        {**base, "metric": "other", "score": "3"},
        {**base, "metric": "other", "score": "3", "scale_min": "1", "scale_max": "3"},
    ]
    report = import_file(store, "responses", write_csv(tmp_path / "r.csv", rows), options=ImportOptions())
    reasons = {r.line: r.reason for r in report.rejected}
    assert report.imported == 2
    assert reasons[3] == "score: 11.0 is outside the nps scale 0-10"
    assert reasons[4] == "score: five is not a number"
    assert reasons[5] == "score: 0.0 is outside the ces scale 1-7"
    assert "needs its scale" in reasons[6]


def test_cases_are_upserted_by_external_id(store: DuckDBStore, tmp_path: Path) -> None:
    case = {
        "email": "a@x.com",
        "external_id": "T-1",
        "channel": "email",
        "status": "open",
        "created_at": "2024-01-01T09:00:00Z",
        "team": "Tier 1",
    }
    path = write_csv(tmp_path / "c.csv", [case])
    assert import_file(store, "cases", path, options=ImportOptions()).imported == 1
    assert import_file(store, "cases", path, options=ImportOptions()).duplicates == 1
    solved = {**case, "status": "resolved", "solved_at": "2024-01-02T09:00:00Z"}
    report = import_file(store, "cases", write_csv(tmp_path / "c2.csv", [solved]), options=ImportOptions())
    assert (report.imported, report.updated) == (0, 1)
    with store.session() as s:
        assert s.fetch_value("SELECT status FROM cases") == "solved"


def test_case_events_need_a_known_case(store: DuckDBStore, tmp_path: Path) -> None:
    case = {
        "user_id": "u1",
        "external_id": "T-1",
        "channel": "chat",
        "status": "new",
        "created_at": "2024-01-01T09:00:00Z",
    }
    import_file(store, "cases", write_csv(tmp_path / "c.csv", [case]), options=ImportOptions())
    events = [
        {
            "case_external_id": "T-1",
            "occurred_at": "2024-01-01T09:00:00Z",
            "kind": "message",
            "direction": "inbound",
            "body": "hi",
        },
        {"case_external_id": "T-404", "occurred_at": "2024-01-01T09:00:00Z", "kind": "message", "body": "?"},
    ]
    report = import_file(store, "case_events", write_csv(tmp_path / "e.csv", events), options=ImportOptions())
    assert (report.imported, report.rejected_count) == (1, 1)
    assert report.rejected[0].reason == "case_external_id: no case T-404 from source import"
    with store.session() as s:
        assert s.fetch_value("SELECT direction FROM case_events") == "in"


def test_customers_import_fills_profiles_and_is_idempotent(store: DuckDBStore, tmp_path: Path) -> None:
    rows = [
        {"email": "ana@x.com", "phone": "+1 (415) 555-0101", "name": "Ana", "segment": "smb", "plan": "pro"},
        {"email": "bo@x.com", "phone": "020 7946 0018", "name": "Bo", "segment": "consumer"},
    ]
    path = write_csv(tmp_path / "c.csv", rows)
    report = import_file(store, "customers", path, options=ImportOptions(phone_region="GB"))
    assert (report.imported, report.rejected_count) == (2, 0)
    again = import_file(store, "customers", path, options=ImportOptions(phone_region="GB"))
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 2)
    with store.session() as s:
        phones = sorted(r["value"] for r in s.fetch_all("SELECT value FROM identities WHERE kind = 'phone'"))
        plan = s.fetch_value("SELECT attributes->>'$.plan' FROM customers WHERE name = 'Ana'")
    assert phones == ["+14155550101", "+442079460018"]
    assert plan == "pro"


def test_national_phone_without_region_is_rejected(store: DuckDBStore, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [{"phone": "020 7946 0018", "name": "Bo"}])
    report = import_file(store, "customers", path, options=ImportOptions())
    assert report.rejected_count == 1
    assert "is not a phone number" in report.rejected[0].reason


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("empty.csv", b"", ImportFailed, "is empty"),
        ("data.xlsx", b"x", UnknownFormat, "Cannot tell the format"),
        (
            "latin.csv",
            "user_id,name,occurred_at,channel\nu1,Caf\xe9,2024-01-01T00:00:00Z,web\n".encode("latin-1"),
            ImportFailed,
            "not valid UTF-8",
        ),
        ("cols.csv", b"foo,bar\n1,2\n", ImportFailed, "lacks required column"),
    ],
)
def test_malformed_files_give_clear_errors(
    store: DuckDBStore, tmp_path: Path, name: str, content: bytes, error: type[Exception], message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error, match=message):
        import_file(store, "interactions", path, options=ImportOptions())


def test_a_ten_megabyte_line_is_handled(store: DuckDBStore, tmp_path: Path) -> None:
    huge = interaction("u1", note="x" * (10 * 1024 * 1024))
    path = write_jsonl(tmp_path / "big.jsonl", [interaction("u0"), huge])
    report = import_file(store, "interactions", path, options=ImportOptions())
    assert report.imported == 2


def test_invalid_json_lines_are_rejected_with_line_numbers(store: DuckDBStore, tmp_path: Path) -> None:
    path = tmp_path / "i.jsonl"
    good = '{"user_id":"u1","occurred_at":"2024-01-01T00:00:00Z","channel":"web","name":"x"}'
    path.write_text(f"{good}\n{{not json\n[1,2]\n\n{good.replace('u1', 'u2')}\n")
    report = import_file(store, "interactions", path, options=ImportOptions())
    assert report.imported == 2
    assert [(r.line, r.reason) for r in report.rejected] == [(2, "not valid JSON"), (3, "not a JSON object")]


def test_unknown_mapping_column_is_explained(store: DuckDBStore, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "i.csv", [interaction()])
    with pytest.raises(MappingError, match="does not have"):
        import_file(store, "interactions", path, options=ImportOptions(mapping={"Nope": "name"}))


def test_unknown_customer_id_is_rejected_not_created(store: DuckDBStore, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "i.csv", [interaction("", customer_id="cus_nope")])
    report = import_file(store, "interactions", path, options=ImportOptions())
    assert report.rejected[0].reason == "customer_id: cus_nope is not a known customer"
    assert count(store, "customers") == 0


def test_own_properties_merge_with_unmapped_columns(store: DuckDBStore, tmp_path: Path) -> None:
    rows = [interaction("u1", properties='{"plan": "pro", "coupon": "OWN"}', coupon="COLUMN", device="ios")]
    import_file(store, "interactions", write_csv(tmp_path / "i.csv", rows), options=ImportOptions())
    with store.session() as s:
        merged = s.fetch_value("SELECT properties FROM interactions")
    assert json.loads(merged) == {"plan": "pro", "coupon": "OWN", "device": "ios"}
