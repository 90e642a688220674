"""The tracking API's contract through the ASGI app with its real spool and processor: every way
of sending a key, every kind of bad input with its status and JSON error, 429 under overload, and
events arriving on the customer's timeline."""

from __future__ import annotations

import base64
import gzip
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import container_for, with_live
from tests.auth_helpers import api_token, bearer

from cxlens.ingest.live import LiveConfig, LiveIngest
from cxlens.sources.service import create_source, revoke_source
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.storage.spool import Spool
from cxlens.web.app import create_app

LIMITS = {
    "tracking_max_event_bytes": 2048,
    "tracking_max_request_bytes": 16 * 1024,
    "tracking_max_batch_events": 20,
}


def basic(key: str, *, colon: bool = True) -> dict[str, str]:
    token = base64.b64encode((key + (":" if colon else "")).encode()).decode()
    return {"Authorization": f"Basic {token}"}


def new_key(store: DuckDBStore, name: str) -> str:
    with store.unit_of_work() as uow:
        return create_source(uow, name).write_key


def client_for(store: DuckDBStore, tmp_path: Path, config: LiveConfig | None = None) -> TestClient:
    live = LiveIngest(store, Spool(tmp_path / "spool"), config or LiveConfig(interval_seconds=0.05))
    app = create_app(with_live(container_for(store, **LIMITS), live))
    return TestClient(app, headers=bearer(api_token(store)))


@pytest.fixture
def key(store: DuckDBStore) -> str:
    return new_key(store, "website")


@pytest.fixture
def client(store: DuckDBStore, tmp_path: Path, key: str) -> Iterator[TestClient]:
    with client_for(store, tmp_path) as test_client:
        yield test_client


def wait_applied(client: TestClient) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stats: dict[str, Any] = client.get("/health").json()["tracking"]
        if stats["backlog_events"] == 0:
            return stats
        time.sleep(0.05)
    raise AssertionError("events were not applied within 30 s")


def track(user: str = "u1", **extra: Any) -> dict[str, Any]:
    return {"userId": user, "event": "Order Completed", "properties": {"total": 12}, **extra}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    # The Python clients read payload["code"] and payload["message"]; our own shape is kept too.
    assert body["code"] == code and body["message"]
    assert body["error"]["code"] == code
    return body


@pytest.mark.parametrize(
    "how",
    ["basic", "basic-no-colon", "x-write-key", "body", "bearer-and-body"],
)
def test_every_way_of_sending_the_write_key_is_accepted(client: TestClient, key: str, how: str) -> None:
    headers, body = {}, {"batch": [{"type": "track", **track()}]}
    if how == "basic":
        headers = basic(key)
    elif how == "basic-no-colon":
        headers = basic(key, colon=False)
    elif how == "x-write-key":
        headers = {"X-Write-Key": key}
    else:
        body["writeKey"] = key
        if how == "bearer-and-body":
            headers = {"Authorization": "Bearer some-oauth-token"}
    response = client.post("/v1/batch", json=body, headers=headers)
    assert response.status_code == 200 and response.json() == {"success": True}


def test_single_calls_and_the_import_alias_land_on_the_timeline(client: TestClient, key: str) -> None:
    auth = basic(key)
    sent_at = datetime.now(UTC) - timedelta(hours=1)  # the client's clock is an hour behind
    happened = sent_at - timedelta(seconds=5)
    calls = {
        "identify": {"userId": "u1", "traits": {"email": "ann@example.com"}},
        "track": track(timestamp=happened.isoformat(), sentAt=sent_at.isoformat()),
        "page": {"userId": "u1", "name": "Pricing"},
        "screen": {"userId": "u1", "name": "Home"},
        "group": {"userId": "u1", "groupId": "acme"},
        "alias": {"userId": "u1", "previousId": "anon-1"},
    }
    for call, body in calls.items():
        assert client.post(f"/v1/{call}", json=body, headers=auth).status_code == 200, call
    assert (
        client.post(
            "/v1/import", json={"batch": [{"type": "track", **track(event="Imported")}]}, headers=auth
        ).status_code
        == 200
    )
    stats = wait_applied(client)
    assert stats["processed_events"] == 7 and stats["rejected"] == 0
    timeline = client.get("/api/customers/ann@example.com/timeline").json()["items"]
    titles = {item["title"] for item in timeline}
    assert titles == {"Order Completed", "Viewed Pricing Page", "Viewed Home Screen", "Imported"}
    order = next(i for i in timeline if i["title"] == "Order Completed")
    corrected = datetime.fromisoformat(order["occurred_at"])
    # Skew-corrected: five seconds before the server received it, not an hour earlier.
    assert timedelta(seconds=3) < datetime.now(UTC) - corrected < timedelta(seconds=25)
    assert client.get("/api/customers/anon-1").status_code == 200  # the alias links the old id


def test_a_retried_batch_creates_no_duplicate(client: TestClient, key: str) -> None:
    batch = {"batch": [{"type": "track", "messageId": f"m{i}", **track()} for i in range(5)]}
    for _ in range(3):
        assert client.post("/v1/batch", json=batch, headers=basic(key)).status_code == 200
    stats = wait_applied(client)
    assert (stats["processed_events"], stats["duplicates"]) == (5, 10)


def test_missing_and_bad_keys_get_401(client: TestClient) -> None:
    body = {"batch": [{"type": "track", **track()}]}
    assert_error(client.post("/v1/batch", json=body), 401, "missing_write_key")
    assert_error(
        client.post("/v1/batch", json=body, headers=basic("cxk_not-a-key")), 401, "invalid_write_key"
    )


def test_keys_created_or_revoked_while_serving_count_from_the_next_refresh(
    client: TestClient, store: DuckDBStore
) -> None:
    body = {"batch": [{"type": "track", **track()}]}
    sources = client.app.state.live.sources  # type: ignore[attr-defined]
    late = new_key(store, "late-app")
    assert_error(client.post("/v1/batch", json=body, headers=basic(late)), 401, "invalid_write_key")
    sources.refresh()  # what the server does every 5 seconds
    assert client.post("/v1/batch", json=body, headers=basic(late)).status_code == 200
    with store.unit_of_work() as uow:
        revoke_source(uow, "late-app")
    sources.refresh()
    assert_error(client.post("/v1/batch", json=body, headers=basic(late)), 401, "invalid_write_key")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (b'{"batch": {"type": "track"}}', 400, "invalid_batch"),
        (b'{"batch": [{"type": "track", "event": "x"}]}', 400, "missing_user_id"),
        (b'{"batch": [{"type": "teleport", "userId": "u"}]}', 400, "unknown_type"),
        (
            b'{"batch": [{"type": "track", "userId": "u", "event": "x", "properties": [1]}]}',
            400,
            "wrong_type",
        ),
        (b'{"batch": [{"type": "track", "userId": "u"}]}', 400, "missing_event"),
        (
            b'{"batch": [{"type": "track", "userId": "u", "event": "x", "timestamp": "yesterday"}]}',
            400,
            "invalid_timestamp",
        ),
        (b'{"batch": [{"type": "group", "userId": "u"}]}', 400, "missing_group_id"),
        (b'{"batch": [1, {"type": "track", "userId": "u"}]}', 400, "invalid_events"),
    ],
)
def test_bad_input_gets_400_with_a_json_error(
    client: TestClient, key: str, body: bytes, status: int, code: str
) -> None:
    response = client.post(
        "/v1/batch", content=body, headers={**basic(key), "Content-Type": "application/json"}
    )
    assert_error(response, status, code)


def test_event_errors_list_every_bad_event(client: TestClient, key: str) -> None:
    batch = [{"type": "track", **track()}, {"type": "track", "event": "x"}, {"type": "nope", "userId": "u"}]
    body = assert_error(
        client.post("/v1/batch", json={"batch": batch}, headers=basic(key)), 400, "invalid_events"
    )
    assert [e["index"] for e in body["error"]["data"]["errors"]] == [1, 2]
    assert wait_applied(client)["processed_events"] == 0  # all or nothing: the good event was not kept


def test_sizes_over_the_limits_get_413(client: TestClient, key: str) -> None:
    big = {"type": "track", **track(properties={"blob": "x" * 4000})}
    assert_error(client.post("/v1/batch", json={"batch": [big]}, headers=basic(key)), 413, "event_too_large")
    many = {"batch": [{"type": "track", **track()} for _ in range(21)]}
    assert_error(client.post("/v1/batch", json=many, headers=basic(key)), 413, "too_many_events")
    huge = b'{"batch": [], "pad": "' + b"x" * 20_000 + b'"}'
    assert_error(client.post("/v1/batch", content=huge, headers=basic(key)), 413, "request_too_large")
    bomb = gzip.compress(b'{"batch": [], "pad": "' + b"x" * 1_000_000 + b'"}')
    response = client.post("/v1/batch", content=bomb, headers={**basic(key), "Content-Encoding": "gzip"})
    assert_error(response, 413, "request_too_large")


def test_gzip_bodies_are_accepted_and_corrupt_ones_refused(client: TestClient, key: str) -> None:
    packed = gzip.compress(b'{"batch": [{"type": "track", "userId": "u1", "event": "Zipped"}]}')
    headers = {**basic(key), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    assert client.post("/v1/batch", content=packed, headers=headers).status_code == 200
    assert_error(
        client.post("/v1/batch", content=packed[:-8] + b"garbage!", headers=headers), 400, "invalid_gzip"
    )
    assert wait_applied(client)["processed_events"] == 1


def test_unknown_calls_and_methods_answer_in_json(client: TestClient, key: str) -> None:
    assert_error(client.post("/v1/teleport", json=track(), headers=basic(key)), 404, "unknown_type")
    assert_error(client.get("/v1/batch"), 405, "method_not_allowed")


def test_overload_gets_429_with_retry_after(store: DuckDBStore, tmp_path: Path, key: str) -> None:
    with client_for(store, tmp_path, LiveConfig(max_pending_events=0)) as full:
        response = full.post("/v1/batch", json={"batch": [{"type": "track", **track()}]}, headers=basic(key))
    assert_error(response, 429, "overloaded")
    assert response.headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b'"text"',
        b"{}",
        b'{"batch": null}',
        b'{"userId": {"a": 1}}',
        b"\xff\xfe",
        b'{"batch": [null]}',
    ],
)
def test_garbage_never_gets_a_500(client: TestClient, key: str, body: bytes) -> None:
    for path in ("/v1/batch", "/v1/track", "/v1/identify"):
        response = client.post(path, content=body, headers=basic(key))
        assert 400 <= response.status_code < 500, (path, body, response.text)
        assert response.json()["code"]


def test_browser_sites_may_post_events_but_nothing_else_cross_origin(client: TestClient, key: str) -> None:
    preflight = client.options(
        "/v1/batch", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "X-Write-Key" in preflight.headers["access-control-allow-headers"]
    # analytics.js sends text/plain with the key in the body, to avoid the preflight altogether.
    posted = client.post(
        "/v1/track",
        content=b'{"writeKey": "' + key.encode() + b'", "userId": "u1", "event": "Clicked"}',
        headers={"Content-Type": "text/plain", "Origin": "https://shop.example"},
    )
    assert posted.status_code == 200 and posted.headers["access-control-allow-origin"] == "*"
    other = client.get("/health", headers={"Origin": "https://shop.example"})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("event", "code", "words"),
    [
        (
            {"type": "identify", "userId": "u1", "traits": {"createdAt": "0001-01-01T00:00:00+14:00"}},
            "invalid_trait",
            "traits.createdAt '0001-01-01T00:00:00+14:00' is outside the supported range",
        ),
        (
            {"type": "track", **track(timestamp="0001-01-01T00:00:00+14:00")},
            "invalid_timestamp",
            "is outside the supported range 1900-01-01 to 2200-01-01 (UTC)",
        ),
        (
            {"type": "identify", "userId": "u1", "traits": {"email": "a" * 1_000 + "@example.com"}},
            "invalid_trait",
            "traits.email is longer than 254 characters",
        ),
        (
            {"type": "identify", "userId": "u1", "traits": {"email": "ann\u0000@example.com"}},
            "invalid_trait",
            "traits.email contains a control character",
        ),
    ],
)
def test_absurd_dates_and_unbounded_identities_are_refused_with_their_reason(
    client: TestClient, key: str, event: dict[str, Any], code: str, words: str
) -> None:
    body = assert_error(client.post("/v1/batch", json={"batch": [event]}, headers=basic(key)), 400, code)
    assert words in body["message"]
    assert wait_applied(client)["processed_events"] == 0
