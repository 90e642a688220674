"""Every error answer is a complete HTTP response, on a real uvicorn server: after an unexpected
exception (a bug) the client gets a whole 500 — JSON under /api, a page for a browser — and its
keep-alive connection keeps working. Before, uvicorn closed the connection after the 500 and the
client's next request on it failed."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import Request
from tests.app_helpers import container_for
from tests.auth_helpers import api_token, bearer
from tests.live_server import serving_app

from cxlens.cli.serve import uvicorn_options
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.web.app import create_app


def test_a_500_is_a_whole_answer_and_the_connection_serves_the_next_request(
    store: DuckDBStore, caplog: pytest.LogCaptureFixture
) -> None:
    container = container_for(store)
    app = create_app(container)

    @app.get("/api/test/boom")
    def boom() -> None:
        raise RuntimeError("a bug in a route")

    @app.get("/api/test/peer")
    def peer(request: Request) -> dict[str, int]:
        return {"port": request.client.port if request.client else 0}  # which connection asked

    options = {k: v for k, v in uvicorn_options(container).items() if k not in ("host", "port")}
    with (
        caplog.at_level(logging.ERROR, logger="cxlens.web"),
        serving_app(app, **options) as base,
        httpx.Client(base_url=base, headers=bearer(api_token(store)), timeout=10) as client,
    ):
        first = client.get("/api/test/peer").json()["port"]
        failed = client.get("/api/test/boom")
        after = client.get("/api/test/peer")
        assert after.status_code == 200 and after.json()["port"] == first  # the same connection
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "internal_error"
    assert failed.headers.get("connection") != "close"
    assert failed.headers["content-security-policy"]  # the security headers are on it too
    assert "a bug in a route" in caplog.text  # the trace is in the log


def test_a_page_that_fails_answers_an_html_500(store: DuckDBStore) -> None:
    container = container_for(store)
    app = create_app(container)

    @app.get("/test/boom")
    def boom() -> None:
        raise RuntimeError("a bug in a page")

    with (
        serving_app(app) as base,
        httpx.Client(base_url=base, headers={**bearer(api_token(store)), "accept": "text/html"}) as client,
    ):
        failed = client.get("/test/boom")
        assert failed.status_code == 500 and failed.headers["content-type"].startswith("text/html")
        assert "Something went wrong on our side." in failed.text
        assert client.get("/health").status_code == 200
