"""Loading cases (upserted by source + external id) and their events (messages, status changes,
assignments, handoffs)."""

from __future__ import annotations

from cxlens.ingest.load import (
    CHUNK,
    ChunkResult,
    next_key_base,
    resolve,
    touch_customers,
)
from cxlens.storage.store import Session

_CASE_FIELDS = (
    "channel",
    "subject",
    "status",
    "priority",
    "team",
    "assignee",
    "category",
    "created_at",
    "first_response_at",
    "solved_at",
    "closed_at",
    "satisfaction",
    "properties",
)


def load_cases(s: Session, identities: tuple[str, ...]) -> ChunkResult:
    result = ChunkResult()
    # The last row of a case in the file is its latest state; earlier rows are duplicates.
    result.duplicates = int(
        s.fetch_value(
            f"DELETE FROM {CHUNK} WHERE _row IN (SELECT _row FROM (SELECT _row, row_number() OVER "
            f"(PARTITION BY source, external_id ORDER BY _row DESC) AS n FROM {CHUNK}) WHERE n > 1)"
        )
        or 0
    )
    result.updated, unchanged = _update_existing(s)
    result.duplicates += unchanged
    resolve(s, identities, result)
    base = int(s.fetch_value("SELECT coalesce(max(case_key), 0) FROM cases"))
    columns = ", ".join(_CASE_FIELDS)
    result.imported = int(
        s.fetch_value(
            "INSERT INTO cases (case_key, case_id, customer_key, source, external_id, reopen_count, "
            f"{columns}) SELECT {base} + row_number() OVER (ORDER BY c._row), "
            f"'case_' || {s.dialect.random_hex(24)}, rc.customer_key, c.source, c.external_id, "
            f"coalesce(c.reopen_count, 0), {', '.join('c.' + f for f in _CASE_FIELDS)} "
            f"FROM {CHUNK} c JOIN _row_customer rc USING (_row)"
        )
        or 0
    )
    touch_customers(s, "created_at")
    return result


def _update_existing(s: Session) -> tuple[int, int]:
    """Update cases already stored whose state changed; drop them from the chunk either way."""
    changed = " OR ".join(f"k.{f} IS DISTINCT FROM c.{f}" for f in _CASE_FIELDS if f != "properties")
    changed += " OR k.reopen_count IS DISTINCT FROM coalesce(c.reopen_count, 0)"
    s.execute(
        f"CREATE OR REPLACE TEMP TABLE _existing AS SELECT c._row, k.case_key, ({changed}) AS changed "
        f"FROM {CHUNK} c JOIN cases k ON k.source = c.source AND k.external_id = c.external_id"
    )
    assignments = ", ".join(f"{f} = c.{f}" for f in _CASE_FIELDS)
    updated = s.fetch_value(
        f"UPDATE cases SET {assignments}, reopen_count = coalesce(c.reopen_count, 0) "
        f"FROM {CHUNK} c JOIN _existing e ON e._row = c._row AND e.changed "
        "WHERE cases.case_key = e.case_key"
    )
    unchanged = s.fetch_value("SELECT count(*) FROM _existing WHERE NOT changed")
    s.execute(f"DELETE FROM {CHUNK} WHERE _row IN (SELECT _row FROM _existing)")
    s.drop_temp("_existing")
    return int(updated or 0), int(unchanged or 0)


def load_case_events(s: Session, identities: tuple[str, ...]) -> ChunkResult:
    result = ChunkResult()
    base = next_key_base(s, "case_events", "event_key")
    result.imported = int(
        s.fetch_value(
            f"INSERT INTO case_events SELECT {base} + c._row, k.case_key, "
            "c.occurred_at, c.kind, c.direction, c.author, c.channel, c.body, c.from_value, c.to_value, "
            f"c.source, c.idempotency_key FROM {CHUNK} c "
            "JOIN cases k ON k.source = c.source AND k.external_id = c.case_external_id"
        )
        or 0
    )
    return result
