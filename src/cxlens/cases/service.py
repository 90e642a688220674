"""Writing cases and their events: the only code that inserts into or updates ``cases`` and
``case_events``. The importer, the XES and Twitter adapters (through the importer) and the loop
call these; each records what it did as domain events, published after commit.

Every function is set-based: ``rows`` names a relation (a temp table or view) with one row per case
or event, so a million cases cost one statement, not a million.
"""

from __future__ import annotations

from dataclasses import dataclass

from cxlens.cases.model import CaseEventsRecorded, CasesOpened, CasesSolved, resolved_sql
from cxlens.storage.keys import next_key_base
from cxlens.storage.store import UnitOfWork

# The fields a case's source sets; the rest (keys, public id, customer) are cxlens's own.
CASE_FIELDS = (
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
EVENT_FIELDS = ("occurred_at", "kind", "direction", "author", "channel", "body", "from_value", "to_value")


@dataclass(frozen=True)
class CaseUpdates:
    updated: int
    unchanged: int


def open_cases(uow: UnitOfWork, *, rows: str, source: str) -> int:
    """Store the cases of ``rows`` (columns: ``_row``, ``customer_key``, ``source``, ``external_id``,
    ``reopen_count`` and every field of ``CASE_FIELDS``) that are not stored yet for their source;
    returns how many were opened. Keys follow ``_row`` order."""
    base = next_key_base(uow, "cases", "case_key")
    fields = ", ".join(CASE_FIELDS)
    fresh = (
        f"SELECT * FROM {rows} c WHERE NOT EXISTS (SELECT 1 FROM cases k "
        "WHERE k.source = c.source AND k.external_id = c.external_id)"
    )
    uow.execute(f"CREATE OR REPLACE TEMP TABLE _opening AS {fresh}")
    opened = int(
        uow.fetch_value(
            f"INSERT INTO cases (case_key, case_id, customer_key, source, external_id, reopen_count, {fields}) "
            f"SELECT {base} + row_number() OVER (ORDER BY c._row), 'case_' || {uow.dialect.random_hex(24)}, "
            f"c.customer_key, c.source, c.external_id, coalesce(c.reopen_count, 0), "
            f"{', '.join('c.' + f for f in CASE_FIELDS)} FROM _opening c"
        )
        or 0
    )
    solved = int(uow.fetch_value(f"SELECT count(*) FROM _opening k WHERE {resolved_sql('k')}"))
    uow.drop_temp("_opening")
    _record(uow, source, opened=opened, solved=solved)
    return opened


def update_cases(uow: UnitOfWork, *, rows: str, source: str) -> CaseUpdates:
    """Bring stored cases to the state ``rows`` gives them (matched by source and external id);
    cases whose state did not change are left alone and counted as unchanged."""
    changed = " OR ".join(f"k.{f} IS DISTINCT FROM c.{f}" for f in CASE_FIELDS if f != "properties")
    changed += " OR k.reopen_count IS DISTINCT FROM coalesce(c.reopen_count, 0)"
    uow.execute(
        f"CREATE OR REPLACE TEMP TABLE _existing AS SELECT c._row, k.case_key, ({changed}) AS changed, "
        f"NOT ({resolved_sql('k')}) AND {resolved_sql('c')} AS solving "
        f"FROM {rows} c JOIN cases k ON k.source = c.source AND k.external_id = c.external_id"
    )
    assignments = ", ".join(f"{f} = c.{f}" for f in CASE_FIELDS)
    updated = uow.fetch_value(
        f"UPDATE cases SET {assignments}, reopen_count = coalesce(c.reopen_count, 0) "
        f"FROM {rows} c JOIN _existing e ON e._row = c._row AND e.changed "
        "WHERE cases.case_key = e.case_key"
    )
    counts = uow.fetch_one(
        "SELECT count(*) FILTER (WHERE NOT changed) AS unchanged, count(*) FILTER (WHERE solving) AS solved "
        "FROM _existing"
    )
    uow.drop_temp("_existing")
    assert counts is not None
    _record(uow, source, opened=0, solved=int(counts["solved"]))
    return CaseUpdates(updated=int(updated or 0), unchanged=int(counts["unchanged"]))


def record_case_events(uow: UnitOfWork, *, rows: str, source: str, deduplicated: bool = False) -> int:
    """Add the events of ``rows`` (columns: ``_row``, ``source``, ``case_external_id``,
    ``idempotency_key`` and ``EVENT_FIELDS``) to their cases; an event whose case is unknown, or whose
    (source, idempotency key) is stored already, is left out — the importer, which has left those
    out while taking its chunk, says ``deduplicated`` to spare the second look. Returns how many
    were added."""
    base = next_key_base(uow, "case_events", "event_key")
    fields = ", ".join(EVENT_FIELDS)
    fresh = (
        ""
        if deduplicated
        else (
            "WHERE NOT EXISTS (SELECT 1 FROM case_events e "
            "WHERE e.source = c.source AND e.idempotency_key = c.idempotency_key)"
        )
    )
    added = int(
        uow.fetch_value(
            f"INSERT INTO case_events (event_key, case_key, {fields}, source, idempotency_key) "
            f"SELECT {base} + c._row, k.case_key, {', '.join('c.' + f for f in EVENT_FIELDS)}, c.source, "
            f"c.idempotency_key FROM {rows} c "
            f"JOIN cases k ON k.source = c.source AND k.external_id = c.case_external_id {fresh}"
        )
        or 0
    )
    if added:
        uow.record(CaseEventsRecorded(source=source, count=added))
    return added


def _record(uow: UnitOfWork, source: str, *, opened: int, solved: int) -> None:
    if opened:
        uow.record(CasesOpened(source=source, count=opened))
    if solved:
        uow.record(CasesSolved(source=source, count=solved))
