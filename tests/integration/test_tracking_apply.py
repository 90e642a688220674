"""Applying spooled tracking events to a real workspace: mapping, identities, deduplication,
rejects and crash safety (apply_segments on a real DuckDB file and a real spool)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from cxlens.ingest.segment_wire import WireLimits, normalize_events
from cxlens.ingest.tracking import apply_segments
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.storage.spool import Spool

RECEIVED = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
_ids = itertools.count(1)


def spool_batch(
    spool: Spool, events: list[dict[str, Any]], *, source: str = "website"
) -> list[dict[str, Any]]:
    """What the tracking route does: normalise a batch and append it, as one request."""
    normalized = normalize_events(
        {"batch": events},
        call_type=None,
        received_at=RECEIVED,
        limits=WireLimits(),
        new_message_id=lambda: f"srv-{next(_ids)}",
    )
    spool.append(
        b"".join(orjson.dumps({**e, "_source": source}) + b"\n" for e in normalized), len(normalized)
    )
    return normalized


def apply_all(store: DuckDBStore, spool: Spool) -> Any:
    segments = spool.seal()
    result = apply_segments(store, segments)
    spool.discard(segments)
    return result


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool")


def rows(store: DuckDBStore, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with store.session() as s:
        return s.fetch_all(sql, params)


def customer_of(store: DuckDBStore, kind: str, value: str) -> int:
    found = rows(
        store,
        "SELECT c.canonical_key FROM identities i JOIN customers c USING (customer_key) WHERE i.kind = ? AND i.value = ?",
        [kind, value],
    )
    assert found, f"no customer holds {kind}={value}"
    return int(found[0]["canonical_key"])


def test_identify_track_page_screen_land_on_one_customer(store: DuckDBStore, spool: Spool) -> None:
    spool_batch(
        spool,
        [
            {
                "type": "identify",
                "userId": "u1",
                "anonymousId": "a1",
                "traits": {"email": "Ann@Example.com", "firstName": "Ann", "lastName": "Lee", "plan": "pro"},
            },
            {
                "type": "track",
                "userId": "u1",
                "event": "Order Completed",
                "messageId": "m-order",
                "properties": {"total": 30.5},
                "timestamp": "2026-03-01T11:00:00Z",
                "context": {"library": {"name": "analytics-python"}, "ip": "10.0.0.1"},
            },
            {
                "type": "page",
                "anonymousId": "a1",
                "name": "Pricing",
                "properties": {"url": "https://x/pricing"},
            },
            {"type": "screen", "userId": "u1", "name": "Home"},
        ],
    )
    result = apply_all(store, spool)
    assert (result.events, result.applied, result.duplicates, result.rejected) == (4, 4, 0, 0)
    ann = customer_of(store, "user_id", "u1")
    assert customer_of(store, "anonymous_id", "a1") == ann
    assert customer_of(store, "email", "ann@example.com") == ann
    profile = rows(store, "SELECT name, email, attributes FROM customers WHERE customer_key = ?", [ann])[0]
    assert profile["name"] == "Ann Lee" and profile["email"] == "ann@example.com"
    assert orjson.loads(profile["attributes"]) == {"firstName": "Ann", "lastName": "Lee", "plan": "pro"}
    got = rows(
        store,
        "SELECT name, channel, stage, source, idempotency_key, properties, occurred_at FROM interactions "
        "ORDER BY interaction_key",
    )
    assert [(r["name"], r["channel"], r["stage"]) for r in got] == [
        ("Order Completed", "other", "purchase"),
        ("Viewed Pricing Page", "web", None),
        ("Viewed Home Screen", "app", None),
    ]
    order = got[0]
    assert order["source"] == "website" and order["idempotency_key"] == "m-order"
    assert orjson.loads(order["properties"]) == {"total": 30.5, "$context": {"ip": "10.0.0.1"}}
    assert order["occurred_at"] == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)


def test_channel_rules(store: DuckDBStore, spool: Spool) -> None:
    base = {"type": "track", "userId": "u1"}
    spool_batch(
        spool,
        [
            {**base, "event": "A", "properties": {"channel": "WhatsApp"}},  # a synonym, explicit
            {**base, "event": "B", "channel": "mobile"},  # RudderStack-style top-level channel
            {**base, "event": "C", "channel": "server", "context": {"os": {"name": "iOS"}}},
            {**base, "event": "D", "context": {"userAgent": "Mozilla/5.0"}},
            {**base, "event": "E", "properties": {"channel": "carrier pigeon"}},  # unknown word: next rule
            {**base, "event": "F", "properties": {"stage": "Support"}},
        ],
    )
    apply_all(store, spool)
    got = {
        r["name"]: (r["channel"], r["stage"])
        for r in rows(store, "SELECT name, channel, stage FROM interactions")
    }
    assert got == {
        "A": ("chat", None),
        "B": ("app", None),
        "C": ("app", None),
        "D": ("web", None),
        "E": ("other", None),
        "F": ("other", "support"),
    }


def test_retries_are_absorbed_within_a_batch_and_across_batches(store: DuckDBStore, spool: Spool) -> None:
    event = {"type": "track", "userId": "u1", "event": "Clicked", "messageId": "same-id"}
    spool_batch(spool, [event, event])
    first = apply_all(store, spool)
    spool_batch(spool, [event, {**event, "messageId": "other-id"}])
    spool_batch(spool, [event], source="ios-app")  # another source: its own message-id space
    second = apply_all(store, spool)
    assert (first.applied, first.duplicates) == (1, 1)
    assert (second.applied, second.duplicates) == (2, 1)
    counted = rows(
        store, "SELECT source, idempotency_key, count(*) AS n FROM interactions GROUP BY ALL ORDER BY ALL"
    )
    assert [(r["source"], r["idempotency_key"], r["n"]) for r in counted] == [
        ("ios-app", "same-id", 1),
        ("website", "other-id", 1),
        ("website", "same-id", 1),
    ]


def test_a_segment_applied_before_a_crash_is_not_applied_again(
    store: DuckDBStore, spool: Spool, tmp_path: Path
) -> None:
    spool_batch(spool, [{"type": "track", "userId": "u1", "event": "Once"}])
    segments = spool.seal()
    apply_segments(store, segments)
    # The process died before deleting the segment: a new spool finds it again on start.
    reopened = Spool(tmp_path / "spool")
    again = reopened.seal()
    assert [s.name for s in again] == [s.name for s in segments]
    assert apply_segments(store, again).events == 0
    assert rows(store, "SELECT count(*) AS n FROM interactions")[0]["n"] == 1


def test_torn_last_line_is_cut_when_the_spool_reopens(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append(b'{"a":1}\n{"b":2}\n', 2)
    segment = spool.seal()[0]
    with segment.path.open("ab") as handle:
        handle.write(b'{"half": ')  # killed mid-append: never acknowledged
    reopened = Spool(tmp_path / "spool")
    assert reopened.pending_events == 2
    assert segment.path.read_bytes() == b'{"a":1}\n{"b":2}\n'


def test_alias_links_anonymous_history_and_merges_two_user_ids(store: DuckDBStore, spool: Spool) -> None:
    spool_batch(
        spool,
        [
            {"type": "track", "anonymousId": "anon-7", "event": "Product Viewed"},
            {"type": "track", "userId": "old-login", "event": "Signed In"},
            {"type": "track", "userId": "new-login", "event": "Signed In"},
        ],
    )
    apply_all(store, spool)
    assert customer_of(store, "anonymous_id", "anon-7") != customer_of(store, "user_id", "new-login")
    spool_batch(
        spool,
        [
            {"type": "alias", "previousId": "anon-7", "userId": "new-login"},
            {"type": "alias", "previousId": "old-login", "userId": "new-login"},
        ],
    )
    result = apply_all(store, spool)
    person = customer_of(store, "user_id", "new-login")
    assert customer_of(store, "anonymous_id", "anon-7") == person
    assert customer_of(store, "user_id", "old-login") == person
    assert result.merges == 2  # the anonymous profile, and the old login's profile
    reasons = sorted(r["reason"] for r in rows(store, "SELECT reason FROM merges"))
    assert reasons == ["alias", "anonymous id linked to a known identity"]


def test_group_creates_the_account_and_links_the_member(store: DuckDBStore, spool: Spool) -> None:
    spool_batch(
        spool,
        [
            {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"name": "Acme", "plan": "gold"}},
            {"type": "group", "anonymousId": "a2", "groupId": "acme", "traits": {"employees": 40}},
        ],
    )
    apply_all(store, spool)
    spool_batch(spool, [{"type": "group", "userId": "u1", "groupId": "acme", "traits": {"plan": "platinum"}}])
    apply_all(store, spool)
    account = rows(store, "SELECT name, traits FROM accounts WHERE account_id = 'acme'")[0]
    assert account["name"] == "Acme"
    assert orjson.loads(account["traits"]) == {"name": "Acme", "plan": "platinum", "employees": 40}
    members = {r["customer_key"] for r in rows(store, "SELECT customer_key FROM account_members")}
    assert members == {customer_of(store, "user_id", "u1"), customer_of(store, "anonymous_id", "a2")}


def test_events_the_model_cannot_take_are_kept_with_their_reason(store: DuckDBStore, spool: Spool) -> None:
    spool_batch(
        spool,
        [
            {
                "type": "identify",
                "userId": "u9",
                "messageId": "bad-phone",
                # The wire checks shapes and bounds; whether a phone is a number needs the processor.
                "traits": {"phone": "12"},
            },
            {"type": "track", "userId": "u9", "event": "Fine"},
        ],
    )
    result = apply_all(store, spool)
    assert (result.applied, result.rejected) == (1, 1)
    reject = rows(store, "SELECT message_id, type, field, reason, payload FROM tracking_rejects")[0]
    assert (reject["message_id"], reject["type"], reject["field"]) == ("bad-phone", "identify", "phone")
    assert "12 is not a phone number" in reject["reason"]
    assert orjson.loads(reject["payload"])["traits"] == {"phone": "12"}
