"""The client address cannot be forged with ``X-Forwarded-For``: a real ``cxlens serve`` believes
forwarded headers only from the proxies named in CXLENS_TRUSTED_PROXIES (none by default).

Before, uvicorn trusted them from any loopback client, so one client with a new forged address per
request went through the survey answer pages' rate limit (75 of 75), and could pin failed sign-ins
on an address of its choosing, locking that address out."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.live_server import running_server

from cxlens.bootstrap import open_store
from cxlens.config import Settings

LIMIT = 5
TRIES = 3 * LIMIT
VICTIM = "198.51.100.7"


def answer_pages_and_a_sign_in(db: Path, env: dict[str, str]) -> tuple[list[int], set[str]]:
    """``TRIES`` requests to an answer page, each claiming another address, and one failed sign-in
    claiming the victim's; returns the status codes and the addresses sign-in recorded."""
    open_store(Settings(db=db)).close()  # the workspace exists before the server opens it
    limit = {"CXLENS_SURVEY_ANSWERS_PER_MINUTE": str(LIMIT), **env}
    with (
        running_server(db, env=limit) as base,
        httpx.Client(base_url=base, headers={"accept": "text/html"}, timeout=30) as client,
    ):
        codes = [
            client.get("/s/cxs_no-such-link", headers={"x-forwarded-for": f"203.0.113.{i}"}).status_code
            for i in range(TRIES)
        ]
        client.post(
            "/login",
            data={"email": "ana@example.com", "password": "not the password"},
            headers={"x-forwarded-for": VICTIM},
        )
    store = open_store(Settings(db=db))
    try:
        with store.session() as s:
            clients = {r["client"] for r in s.fetch_all("SELECT client FROM login_attempts")}
    finally:
        store.close()
    return codes, clients


def test_without_a_trusted_proxy_a_forged_address_changes_nothing(tmp_path: Path) -> None:
    codes, clients = answer_pages_and_a_sign_in(tmp_path / "ws.duckdb", {"CXLENS_TRUSTED_PROXIES": ""})
    assert codes == [404] * LIMIT + [429] * (TRIES - LIMIT)  # the limit holds: one client, one address
    assert clients == {"127.0.0.1"}  # the failure counts against the real peer, not the victim


def test_a_trusted_proxy_tells_the_client_address(tmp_path: Path) -> None:
    codes, clients = answer_pages_and_a_sign_in(
        tmp_path / "ws.duckdb", {"CXLENS_TRUSTED_PROXIES": "127.0.0.1"}
    )
    assert codes == [404] * TRIES  # every forwarded address is a client of its own
    assert clients == {VICTIM}
