"""Identity resolution and reversible merges, on a real workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.factories import interaction, write_csv

from cxlens.customers.queries import access_customer
from cxlens.customers.service import merge_customers, unmerge
from cxlens.errors import Conflict, NotFound
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_file
from cxlens.interactions.queries import get_timeline
from cxlens.storage.duckdb_store import DuckDBStore


def load(store: DuckDBStore, tmp_path: Path, rows: list[dict[str, str]], name: str = "i.csv"):  # type: ignore[no-untyped-def]
    return import_file(store, "interactions", write_csv(tmp_path / name, rows), options=ImportOptions())


def customers_of(store: DuckDBStore) -> dict[str, str]:
    """identity value -> customer_id of its canonical customer."""
    with store.session() as s:
        rows = s.fetch_all(
            "SELECT x.value, c2.customer_id FROM identities x JOIN customers c USING (customer_key) "
            "JOIN customers c2 ON c2.customer_key = c.canonical_key"
        )
    return {r["value"]: r["customer_id"] for r in rows}


def test_rows_sharing_identities_become_one_customer(store: DuckDBStore, tmp_path: Path) -> None:
    rows = [
        {**interaction(""), "email": "a@x.com", "phone": "+15550000001"},
        {**interaction(""), "phone": "+15550000001", "anonymous_id": "anon-1"},
        {**interaction(""), "anonymous_id": "anon-1"},
        {**interaction(""), "email": "b@x.com"},
    ]
    report = load(store, tmp_path, rows)
    assert report.customers_created == 2
    owners = customers_of(store)
    assert owners["a@x.com"] == owners["+15550000001"] == owners["anon-1"] != owners["b@x.com"]


def test_two_user_ids_sharing_an_email_stay_apart_and_conflict_is_recorded(
    store: DuckDBStore, tmp_path: Path
) -> None:
    rows = [
        {**interaction("u1"), "email": "shared@x.com"},
        {**interaction("u2"), "email": "shared@x.com"},
    ]
    first = load(store, tmp_path, rows)
    assert (first.customers_created, first.identity_conflicts) == (2, 1)
    owners = customers_of(store)
    assert owners["u1"] != owners["u2"]
    assert owners["shared@x.com"] == owners["u1"]  # the strongest label claims it first
    # The same claim again is not recorded twice; the email stays with u1.
    report = load(store, tmp_path, [{**interaction("u2", name="login"), "email": "shared@x.com"}], "j.csv")
    assert report.identity_conflicts == 0
    with store.session() as s:
        conflict = s.fetch_one("SELECT kind, value, resolution FROM identity_conflicts")
    assert conflict == {"kind": "email", "value": "shared@x.com", "resolution": "kept_holder"}
    assert customers_of(store)["shared@x.com"] == owners["u1"]


def test_anonymous_profile_is_linked_when_a_row_ties_it_to_a_known_identity(
    store: DuckDBStore, tmp_path: Path
) -> None:
    load(store, tmp_path, [interaction("u1"), {**interaction(""), "anonymous_id": "anon-9"}])
    owners = customers_of(store)
    assert owners["u1"] != owners["anon-9"]
    report = load(store, tmp_path, [{**interaction("u1", name="signup"), "anonymous_id": "anon-9"}], "j.csv")
    assert report.merges == 1
    owners = customers_of(store)
    assert owners["u1"] == owners["anon-9"]
    with store.session() as s:
        profile = access_customer(s, "u1")
        items = get_timeline(s, profile.customer_key).items
    assert len(items) == 3  # the anonymous page view now sits on the known customer's timeline


def test_merge_and_unmerge_restore_both_timelines_exactly(store: DuckDBStore, tmp_path: Path) -> None:
    load(
        store,
        tmp_path,
        [interaction("u1", name=f"a{i}", occurred_at=f"2024-01-0{i + 1}T00:00:00Z") for i in range(3)]
        + [interaction("u2", name=f"b{i}", occurred_at=f"2024-02-0{i + 1}T00:00:00Z") for i in range(2)],
    )

    def timeline(ref: str) -> list[str]:
        with store.session() as s:
            return [i.title for i in get_timeline(s, access_customer(s, ref).customer_key).items]

    before_a, before_b = timeline("u1"), timeline("u2")
    with store.unit_of_work() as uow:
        merge = merge_customers(uow, winner_ref="u1", loser_ref="u2", actor="test")
    assert timeline("u2") == timeline("u1") == ["b1", "b0", "a2", "a1", "a0"]
    with store.unit_of_work() as uow, pytest.raises(Conflict, match="already the same"):
        merge_customers(uow, winner_ref="u1", loser_ref="u2", actor="test")
    with store.unit_of_work() as uow:
        unmerge(uow, merge_id=merge["merge_id"], actor="test")
    assert (timeline("u1"), timeline("u2")) == (before_a, before_b)
    with store.unit_of_work() as uow, pytest.raises(Conflict, match="already undone"):
        unmerge(uow, merge_id=merge["merge_id"], actor="test")


def test_unmerge_is_refused_while_a_later_merge_moved_the_profiles(
    store: DuckDBStore, tmp_path: Path
) -> None:
    load(store, tmp_path, [interaction("u1"), interaction("u2"), interaction("u3")])
    with store.unit_of_work() as uow:
        first = merge_customers(uow, winner_ref="u1", loser_ref="u2", actor="t")
        second = merge_customers(uow, winner_ref="u3", loser_ref="u1", actor="t")
    with store.unit_of_work() as uow, pytest.raises(Conflict, match=second["merge_id"]):
        unmerge(uow, merge_id=first["merge_id"], actor="t")


def test_timeline_pages_with_a_cursor(store: DuckDBStore, tmp_path: Path) -> None:
    load(
        store,
        tmp_path,
        [
            interaction("u1", name=f"n{i:02d}", occurred_at=f"2024-01-{i + 1:02d}T00:00:00Z")
            for i in range(25)
        ],
    )
    with store.session() as s:
        key = access_customer(s, "u1").customer_key
        seen: list[str] = []
        cursor = None
        while True:
            page = get_timeline(s, key, before=cursor, limit=10)
            seen += [i.title for i in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == [f"n{i:02d}" for i in range(24, -1, -1)]


def test_unknown_customer_is_not_found(store: DuckDBStore) -> None:
    with store.session() as s, pytest.raises(NotFound):
        access_customer(s, "nobody@x.com")


def test_the_documented_example(store: DuckDBStore, tmp_path: Path) -> None:
    """docs/data-model.md, "Identity resolution", example — step by step."""
    rows = [
        {**interaction("u1"), "email": "ann@x.com", "phone": "", "anonymous_id": ""},
        {**interaction(""), "email": "Ann@X.com ", "phone": "+44 20 7946 0000", "anonymous_id": ""},
        {**interaction(""), "email": "", "phone": "+442079460000", "anonymous_id": "a9"},
        {**interaction("u2"), "email": "ann@x.com", "phone": "", "anonymous_id": ""},
    ]
    report = load(store, tmp_path, rows)
    assert (report.customers_created, report.identity_conflicts) == (2, 1)
    owners = customers_of(store)
    a, b = owners["u1"], owners["u2"]
    assert a != b
    assert owners["ann@x.com"] == owners["+442079460000"] == owners["a9"] == a
    load(store, tmp_path, [{**interaction(""), "anonymous_id": "a7"}], "later.csv")
    c = customers_of(store)["a7"]
    assert c not in (a, b)
    merged = load(store, tmp_path, [{**interaction("u1", name="signup"), "anonymous_id": "a7"}], "link.csv")
    assert (merged.merges, merged.identity_conflicts) == (1, 1)
    assert customers_of(store)["a7"] == a


def test_timeline_joins_responses_cases_and_case_messages(store: DuckDBStore, tmp_path: Path) -> None:
    load(store, tmp_path, [interaction("u1", name="order_placed", occurred_at="2024-01-01T00:00:00Z")])
    case = {
        "user_id": "u1",
        "external_id": "T-9",
        "channel": "chat",
        "status": "solved",
        "subject": "Late parcel",
        "created_at": "2024-01-02T00:00:00Z",
        "team": "Logistics",
    }
    events = [
        {
            "case_external_id": "T-9",
            "occurred_at": "2024-01-02T00:00:00Z",
            "kind": "message",
            "direction": "in",
            "body": "<script>alert(1)</script> where is it?",
        },
        {
            "case_external_id": "T-9",
            "occurred_at": "2024-01-02T01:00:00Z",
            "kind": "handoff",
            "from_value": "Tier 1",
            "to_value": "Logistics",
        },
    ]
    response = {
        "user_id": "u1",
        "metric": "csat",
        "score": "2",
        "answered_at": "2024-01-03T00:00:00Z",
        "case_external_id": "T-9",
        "comment": "slow",
    }
    for entity, rows in (("cases", [case]), ("case_events", events), ("responses", [response])):
        import_file(store, entity, write_csv(tmp_path / f"{entity}.csv", rows), options=ImportOptions())
    with store.session() as s:
        items = get_timeline(s, access_customer(s, "u1").customer_key).items
    assert [(i.type, i.title) for i in items] == [
        ("response", "csat"),
        ("case_handoff", "handoff Tier 1 -> Logistics"),
        ("case_message", "in message"),
        ("case", "Late parcel"),
        ("interaction", "order_placed"),
    ]
    assert items[0].case_id == items[3].case_id
    assert (
        items[2].text == "<script>alert(1)</script> where is it?"
    )  # stored verbatim; rendered inert by each view
