"""Domain events reach subscribers after COMMIT only: imports, live writes and the loop record what
they stored, and a rolled-back transaction tells nobody anything."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from cxlens.cases import CaseEventsRecorded, CasesOpened, CasesSolved, access_case, list_customer_cases
from cxlens.core.events import DomainEvent, EventBus
from cxlens.errors import NotFound
from cxlens.ingest.events import InteractionsIngested, ResponsesRecorded
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore


def text_table(rows: list[dict[str, str]]) -> pa.Table:
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in rows[0]})


def listen(store: DuckDBStore) -> list[DomainEvent]:
    bus, seen = EventBus(), []
    bus.subscribe(DomainEvent, seen.append)
    store.on_commit.append(bus.publish)
    return seen


def cases_rows(status: str) -> list[dict[str, str]]:
    return [
        {"email": f"c{i}@example.com", "external_id": f"T-{i}", "channel": "email", "status": status,
         "created_at": "2026-03-01T09:00:00Z"}
        for i in range(3)
    ]  # fmt: skip


def test_an_import_tells_what_it_stored_once_committed(store: DuckDBStore) -> None:
    seen = listen(store)
    options = ImportOptions(source="desk")
    import_table(store, "cases", text_table(cases_rows("open")), options=options)
    assert seen == [CasesOpened(source="desk", count=3)]
    solved = cases_rows("open")[:1] + [{**r, "status": "solved"} for r in cases_rows("open")[1:]]
    import_table(store, "cases", text_table(solved), options=options)
    assert seen[1:] == [CasesSolved(source="desk", count=2)]
    events = [{"case_external_id": "T-0", "occurred_at": "2026-03-01T10:00:00Z", "kind": "message"}]
    import_table(store, "case_events", text_table(events), options=options)
    interactions = [{"email": "c0@example.com", "occurred_at": "2026-03-01T08:00:00Z", "channel": "web",
                     "name": "page_view"}]  # fmt: skip
    import_table(store, "interactions", text_table(interactions), options=options)
    responses = [
        {"email": "c0@example.com", "metric": "nps", "score": "3", "answered_at": "2026-03-02T08:00:00Z"}
    ]
    import_table(store, "responses", text_table(responses), options=options)
    assert seen[2:] == [
        CaseEventsRecorded(source="desk", count=1),
        InteractionsIngested(source="desk", count=1),
        ResponsesRecorded(source="desk", count=1),
    ]
    # A re-run stores nothing new and so tells nothing.
    import_table(store, "responses", text_table(responses), options=options)
    assert len(seen) == 5


def test_a_rolled_back_transaction_publishes_nothing(store: DuckDBStore) -> None:
    seen = listen(store)
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        uow.record(CasesOpened(source="x", count=1))
        raise RuntimeError("crash before commit")
    assert seen == []
    with store.unit_of_work() as uow:
        uow.record(CasesOpened(source="x", count=1))
        assert seen == []  # not before the commit
    assert seen == [CasesOpened(source="x", count=1)]


def test_cases_are_read_as_typed_records(store: DuckDBStore) -> None:
    import_table(store, "cases", text_table(cases_rows("pending")), options=ImportOptions(source="desk"))
    with store.session() as s:
        customer = s.fetch_value("SELECT canonical_key FROM customers WHERE customer_key = 1")
        (case,) = list_customer_cases(s, int(customer))
        assert access_case(s, case.case_id) == case
        assert case.status == "pending" and not case.resolved
        assert case.created_at == datetime(2026, 3, 1, 9, tzinfo=UTC)
        with pytest.raises(NotFound):
            access_case(s, "case_nosuch")
