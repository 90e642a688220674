"""Server and browser sources through a real ``cxlens serve``: a browser (public) write key can
link anonymous ids and add traits, but cannot rename a customer an import or a server source
named, nor merge identified customers; a server key can. Also the CLI that makes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from tests.factories import write_csv
from tests.live_server import run_cxlens, running_server, wait_applied

from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_file
from cxlens.sources.service import create_source


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    store = open_store(Settings(db=db))
    try:
        with store.session() as s:
            return s.fetch_all(sql, params)
    finally:
        store.close()


def prepare(db: Path, tmp_path: Path) -> tuple[str, str]:
    """Two imported customers, a browser source and a server source (before the server holds the file)."""
    people = [
        {"user_id": "u-ann", "email": "ann@example.com", "name": "Ann Lee", "segment": "gold"},
        {"user_id": "u-bob", "email": "bob@example.com", "name": "Bob Roe", "segment": "silver"},
    ]
    store = open_store(Settings(db=db))
    try:
        report = import_file(
            store, "customers", write_csv(tmp_path / "people.csv", people), options=ImportOptions()
        )
        assert report.imported == 2
        with store.unit_of_work() as uow:
            browser = create_source(uow, "website", kind="browser").write_key
            server = create_source(uow, "backend", kind="server").write_key
    finally:
        store.close()
    return browser, server


def send(base: str, key: str, batch: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(f"{base}/v1/batch", json={"batch": batch}, auth=(key, ""), timeout=10)


def profile(db: Path, user_id: str) -> dict[str, Any]:
    found = query(
        db,
        "SELECT c.canonical_key, k.name, k.email, k.segment, CAST(k.attributes AS VARCHAR) AS attributes "
        "FROM identities i JOIN customers c USING (customer_key) "
        "JOIN customers k ON k.customer_key = c.canonical_key WHERE i.kind = 'user_id' AND i.value = ?",
        [user_id],
    )
    assert found, f"no profile holds user id {user_id}"
    row = found[0]
    row["attributes"] = json.loads(row["attributes"] or "{}")
    return row


def test_a_browser_key_cannot_rename_or_merge_identified_customers_but_a_server_key_can(
    tmp_path: Path,
) -> None:
    db = tmp_path / "ws.duckdb"
    browser, server = prepare(db, tmp_path)
    with running_server(db) as base:
        # What an attacker holding the page's key tries, and what a browser legitimately does.
        answer = send(
            base,
            browser,
            [
                {
                    "type": "identify",
                    "userId": "u-ann",
                    "traits": {"name": "Mallory", "segment": "x", "plan": "free"},
                },
                {"type": "alias", "previousId": "u-bob", "userId": "u-ann", "messageId": "merge-attempt"},
                {"type": "track", "anonymousId": "anon-1", "event": "Product Viewed"},
                {"type": "identify", "userId": "u-ann", "anonymousId": "anon-1"},
                {"type": "identify", "userId": "u-new", "traits": {"name": "Newcomer"}},
            ],
        )
        assert answer.status_code == 200, answer.text
        wait_applied(base)
        # A browser may still rename a profile only browsers have written.
        assert (
            send(
                base, browser, [{"type": "identify", "userId": "u-new", "traits": {"name": "Newer"}}]
            ).status_code
            == 200
        )
        wait_applied(base)
    # The workspace is read once the server has stopped (it holds the file while it runs).
    ann, bob, new = profile(db, "u-ann"), profile(db, "u-bob"), profile(db, "u-new")
    assert (ann["name"], ann["segment"], ann["email"]) == ("Ann Lee", "gold", "ann@example.com")
    assert ann["attributes"] == {"plan": "free"}  # a new trait is added
    assert ann["canonical_key"] != bob["canonical_key"]  # no merge
    assert new["name"] == "Newer"
    linked = query(
        db,
        "SELECT c.canonical_key FROM identities i JOIN customers c USING (customer_key) "
        "WHERE i.kind = 'anonymous_id' AND i.value = 'anon-1'",
    )
    assert [r["canonical_key"] for r in linked] == [ann["canonical_key"]]  # anonymous history linked
    reject = query(db, "SELECT source, message_id, field, reason FROM tracking_rejects")
    assert [(r["source"], r["message_id"], r["field"]) for r in reject] == [
        ("website", "merge-attempt", "previousId")
    ]
    assert "browser source may not merge profiles that have a user id" in reject[0]["reason"]

    # The same calls with the server key are trusted.
    with running_server(db) as base:
        assert (
            send(
                base,
                server,
                [
                    {"type": "identify", "userId": "u-bob", "traits": {"name": "Robert Roe"}},
                    {"type": "alias", "previousId": "u-new", "userId": "u-bob"},
                ],
            ).status_code
            == 200
        )
        wait_applied(base)
    bob, new = profile(db, "u-bob"), profile(db, "u-new")
    assert bob["name"] == "Robert Roe"
    assert new["canonical_key"] == bob["canonical_key"]


def test_sources_are_made_with_a_kind_and_listed_with_it(tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    made = run_cxlens("sources", "create", "website", "--kind", "browser", "--format", "json", db=db)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["kind"] == "browser"
    assert run_cxlens("sources", "add", "backend", db=db).returncode == 0  # server by default
    listed = run_cxlens("sources", "list", "--format", "json", db=db)
    kinds = {r["name"]: r["kind"] for r in json.loads(listed.stdout)}
    assert kinds == {"website": "browser", "backend": "server"}
    wrong = run_cxlens("sources", "create", "app", "--kind", "mobile", db=db)
    assert wrong.returncode != 0 and "mobile" in wrong.stdout + wrong.stderr
