"""What enters is bounded: instants outside 1900–2200 (UTC) and unbounded or control-character
identities are rejected with their reason, from files, Arrow tables and the tracking spool."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from tests.factories import write_csv

from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_file, import_table
from cxlens.ingest.tracking import apply_segments
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.storage.spool import Spool


def reasons(report: object) -> dict[int | None, str]:
    return {r.line: r.reason for r in report.rejected}  # type: ignore[attr-defined]


def test_file_instants_outside_the_range_are_rejected_with_the_reason(
    store: DuckDBStore, tmp_path: Path
) -> None:
    rows = [
        {"user_id": "u1", "signed_up_at": "0001-01-01T00:00:00+14:00"},
        {"user_id": "u2", "signed_up_at": "2200-01-01T00:00:01Z"},
        {"user_id": "u3", "signed_up_at": "1899-12-31T23:00:00-02:00"},  # 1900-01-01 01:00 UTC
        {"user_id": "u4", "signed_up_at": "2024-05-01T10:00:00Z"},
    ]
    report = import_file(store, "customers", write_csv(tmp_path / "c.csv", rows), options=ImportOptions())
    assert (report.imported, report.rejected_count) == (2, 2)
    found = reasons(report)
    assert found[2] == (
        "signed_up_at: 0001-01-01T00:00:00+14:00 is outside the supported range 1900-01-01 to 2200-01-01 (UTC)"
    )
    assert "outside the supported range" in found[3]
    assert {r.column for r in report.rejected} == {"signed_up_at"}


def test_naive_instants_are_checked_after_the_time_zone_is_applied(store: DuckDBStore) -> None:
    table = pa.table(
        {
            "email": ["a@example.com", "b@example.com"],
            "occurred_at": ["1900-01-01 05:00:00", "2024-01-01 00:00:00"],
            "channel": ["web", "web"],
            "name": ["visit", "visit"],
        }
    )
    # 05:00 in Tokyo (UTC+9 since 1888) on 1900-01-01 is still 1899 in UTC.
    report = import_table(store, "interactions", table, options=ImportOptions(tz="Asia/Tokyo"))
    assert (report.imported, report.rejected_count) == (1, 1)
    assert "occurred_at: 1900-01-01 05:00:00 is outside the supported range" in report.rejected[0].reason


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("email", "a" * 10_000 + "@x.com", "email: the value has 10006 characters; at most 254 are allowed"),
        ("email", "a\x00b@example.com", "email: the value contains a control character"),
        ("user_id", "u" * 256, "user_id: the value has 256 characters; at most 255 are allowed"),
        ("anonymous_id", "anon\x1b[31m", "anonymous_id: the value contains a control character"),
        ("phone", "+1 " + "5" * 70, "phone: the value has 73 characters; at most 64 are allowed"),
        ("external:crm", "x" * 300, "external:crm: the value has 300 characters; at most 255 are allowed"),
    ],
)
def test_identity_values_are_bounded_and_free_of_control_characters(
    store: DuckDBStore, column: str, value: str, reason: str
) -> None:
    table = pa.table(
        {
            column: [
                value,
                "ok@example.com" if column == "email" else "+14155550123" if column == "phone" else "fine-1",
            ]
        }
    )
    report = import_table(store, "customers", table, options=ImportOptions())
    assert (report.imported, report.rejected_count) == (1, 1)
    assert (report.rejected[0].column, report.rejected[0].reason) == (column, reason)


def test_a_spooled_identify_with_an_absurd_created_at_is_kept_out_with_its_reason(
    store: DuckDBStore, tmp_path: Path
) -> None:
    """Events spooled before the wire checked dates (or by an older server) are still refused."""
    spool = Spool(tmp_path / "spool")
    now = datetime(2026, 3, 1, tzinfo=UTC).isoformat()
    event = {
        "type": "identify",
        "userId": "u1",
        "messageId": "m-1",
        "receivedAt": now,
        "timestamp": now,
        "traits": {"createdAt": "0001-01-01T00:00:00+14:00", "email": "u1@example.com"},
        "_source": "website",
    }
    spool.append(orjson.dumps(event) + b"\n", 1)
    segments = spool.seal()
    result = apply_segments(store, segments)
    assert result.rejected == 1
    with store.session() as s:
        reject = s.fetch_one("SELECT field, reason FROM tracking_rejects")
        assert s.fetch_value("SELECT count(*) FROM customers WHERE signed_up_at IS NOT NULL") == 0
    assert reject is not None and reject["field"] == "signed_up_at"
    assert "outside the supported range" in reject["reason"]
