"""Unmodified client libraries written by others — Segment's ``segment-analytics-python`` and
RudderStack's ``rudder-sdk-python`` from PyPI — sending to a real ``cxlens serve`` on loopback,
including across a ``kill -9`` of the server."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import rudderstack.analytics.client as rudder_client
from segment.analytics.client import Client as SegmentClient
from tests.auth_helpers import api_token_for, bearer
from tests.live_server import free_port, running_server, start_server, stop_server, wait_applied

from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.sources.service import create_source


def new_source(db: Path, name: str) -> str:
    store = open_store(Settings(db=db))
    try:
        with store.unit_of_work() as uow:
            return create_source(uow, name).write_key
    finally:
        store.close()


def query(db: Path, sql: str) -> list[dict[str, Any]]:
    store = open_store(Settings(db=db))
    try:
        with store.session() as s:
            return s.fetch_all(sql)
    finally:
        store.close()


class Errors:
    """Collects what a client's ``on_error`` reports (a client that gave up would lose events)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, error: Exception, batch: list[dict[str, Any]]) -> None:
        self.seen.append(f"{error!r} ({len(batch)} events)")


def customer(api: httpx.Client, ref: str) -> dict[str, Any]:
    response = api.get(f"/api/customers/{ref}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def timeline_titles(api: httpx.Client, ref: str) -> list[str]:
    items = api.get(f"/api/customers/{ref}/timeline", params={"limit": 100}).json()["items"]
    return sorted(i["title"] for i in items)


def identities(profile: dict[str, Any]) -> set[tuple[str, str]]:
    return {(i["kind"], i["value"]) for i in profile["identities"]}


def test_segment_and_rudderstack_clients_deliver_to_the_right_customers(tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    web_key, server_key = new_source(db, "website"), new_source(db, "backend")
    token = api_token_for(db)  # the read API needs one; made before the server holds the file
    with running_server(db) as base, httpx.Client(base_url=base, headers=bearer(token), timeout=10) as api:
        errors = Errors()
        segment = SegmentClient(web_key, host=base, sync_mode=True, on_error=errors, gzip=True)
        segment.track(anonymous_id="anon-42", event="Product Viewed", properties={"sku": "TEE-1"})
        segment.page(
            anonymous_id="anon-42", name="Pricing", properties={"url": "https://shop.example/pricing"}
        )
        segment.identify(
            "ann-1", {"email": "Ann@Example.com", "name": "Ann Lee", "plan": "pro"}, anonymous_id="anon-42"
        )
        segment.track("ann-1", "Order Completed", {"order_id": "o-1", "total": 42.0})
        segment.group("ann-1", "acme", {"name": "Acme Inc"})
        segment.flush()

        rudder = rudder_client.Client(server_key, host=base, sync_mode=True, on_error=errors)
        rudder.identify("bob-2", {"email": "bob@example.com", "firstName": "Bob"})
        rudder.track("bob-2", "Order Refunded", {"order_id": "o-9"})
        rudder.screen("bob-2", name="Orders")
        rudder.alias("old-bob", "bob-2")
        rudder.flush()

        stats = wait_applied(base)
        assert errors.seen == []
        assert (stats["processed_events"], stats["rejected"]) == (9, 0)

        ann = customer(api, "ann-1")
        assert ann["email"] == "ann@example.com" and ann["name"] == "Ann Lee"
        assert identities(ann) == {
            ("user_id", "ann-1"),
            ("anonymous_id", "anon-42"),
            ("email", "ann@example.com"),
        }
        assert timeline_titles(api, "ann-1") == ["Order Completed", "Product Viewed", "Viewed Pricing Page"]

        bob = customer(api, "bob@example.com")
        assert bob["name"] == "Bob"
        assert identities(bob) == {
            ("user_id", "bob-2"),
            ("email", "bob@example.com"),
            ("anonymous_id", "old-bob"),
        }
        assert timeline_titles(api, "bob-2") == ["Order Refunded", "Viewed Orders Screen"]
    sources = {r["source"] for r in query(db, "SELECT DISTINCT source FROM interactions")}
    assert sources == {"website", "backend"}
    member = query(db, "SELECT a.name FROM account_members m JOIN accounts a USING (account_id)")
    assert member == [{"name": "Acme Inc"}]


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_event_and_retries_create_no_duplicates(tmp_path: Path) -> None:
    """The Segment client queues events and retries failed batches with backoff; the server is
    killed with SIGKILL while batches are in flight and started again on the same port."""
    db = tmp_path / "ws.duckdb"
    key = new_source(db, "website")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(db, port)
    errors = Errors()
    client = SegmentClient(
        key, host=base, on_error=errors, max_retries=10, upload_size=100, max_queue_size=100_000
    )
    total = 20_000
    producer = threading.Thread(target=_produce, args=(client, total))
    try:
        producer.start()
        _wait_until(lambda: accepted(base) > 2_000)
        assert producer.is_alive()  # mid-stream: events keep coming while the server is down
        server.send_signal(signal.SIGKILL)  # mid-stream: requests in flight get no answer
        server.wait()
        server = start_server(db, port)
        producer.join()
        client.flush()  # blocks until the client's queue is empty (every batch acknowledged)
        assert errors.seen == []
        wait_applied(base)
    finally:
        stop_server(server)
    counts = query(db, "SELECT count(*) AS n, count(DISTINCT idempotency_key) AS keys FROM interactions")[0]
    assert counts == {"n": total, "keys": total}


def _produce(client: SegmentClient, total: int) -> None:
    for i in range(total):
        client.track(f"user-{i % 500}", "Item Viewed", {"n": i}, message_id=f"msg-{i}")
        if i % 100 == 0:
            time.sleep(0.02)  # a steady stream over ~4 s rather than one burst


def accepted(base: str) -> int:
    """Events the server has acknowledged so far (applied, or on disk waiting to be)."""
    try:
        stats = httpx.get(f"{base}/health", timeout=5).json()["tracking"]
    except httpx.TransportError:
        return 0
    return int(stats["processed_events"] + stats["duplicates"] + stats["backlog_events"])


def _wait_until(condition: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
