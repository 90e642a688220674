"""The web app's security: deny by default (every route enumerated), the role matrix on every page
and API, sessions and their cookie, CSRF, API tokens, security headers, open redirects, and
customer text rendered inert."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount
from tests.app_helpers import app_for
from tests.auth_helpers import api_token, bearer

from cxlens.auth.model import MATRIX, Permission, Role
from cxlens.auth.service import create_user
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.web.security import PUBLIC_PATHS, SESSION_COOKIE

PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html"}
# Every page and API family, with the permission it needs.
GUARDED = [
    ("/", Permission.view_overview),
    ("/explore", Permission.view_metrics),
    ("/explore.csv?metric=response_count", Permission.view_metrics),
    ("/customers?q=a", Permission.view_customers),
    ("/import", Permission.import_data),
    ("/surveys", Permission.view_responses),
    ("/surveys/latest", Permission.view_responses),
    ("/api/metrics", Permission.view_metrics),
    ("/api/metrics/nps", Permission.view_metrics),
    ("/api/customers?q=a", Permission.view_customers),
]
PAYLOADS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><svg onload=alert(1)>",
    "javascript:alert(1)",
]


@pytest.fixture
def app_store(store: DuckDBStore, tmp_path: Path) -> DuckDBStore:
    with store.unit_of_work() as uow:
        for role in Role:
            create_user(uow, email=f"{role}@example.com", name=f"The {role}", role=role, password=PASSWORD)
    customers = pa.table(
        {"user_id": [f"u{i}" for i in range(len(PAYLOADS))], "name": PAYLOADS, "segment": PAYLOADS}
    )
    assert import_table(store, "customers", customers, options=ImportOptions()).imported == len(PAYLOADS)
    return store


def client_for(store: DuckDBStore, tmp_path: Path) -> TestClient:
    return TestClient(app_for(store), follow_redirects=False)


def signed_in(store: DuckDBStore, tmp_path: Path, role: Role) -> tuple[TestClient, str]:
    """A browser session for ``role`` and its CSRF token (read from the page, as app.js does)."""
    client = client_for(store, tmp_path)
    response = client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD, "next": "/"})
    assert response.status_code == 303, response.text
    page = client.get("/customers", headers=HTML)  # a page, or the 403 page for a role without it
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert found, "every page carries the session's CSRF token"
    return client, found.group(1)


def every_route(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, route) for every route, inside included routers too (FastAPI ≥ 0.165 keeps them
    as ``_IncludedRouter`` entries instead of flattening them into ``app.routes``)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from every_route(included.routes, prefix + getattr(route.include_context, "prefix", ""))
        else:
            yield prefix + route.path, route


def test_every_route_except_the_public_ones_requires_authentication(
    app_store: DuckDBStore, tmp_path: Path
) -> None:
    client = client_for(app_store, tmp_path)
    checked = 0
    for template, route in every_route(client.app.routes):  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            assert template == "/static", f"unexpected mount {template}"
            continue
        assert isinstance(route, APIRoute) or template == "/openapi.json", template
        path = re.sub(r"\{[^}]+\}", "track" if template.startswith("/v1/") else "x", template)
        for method in sorted(getattr(route, "methods", {"GET"}) - {"HEAD"}):
            for headers in (HTML, {"accept": "application/json"}):
                response = client.request(method, path, headers=headers)
                checked += 1
                if path in PUBLIC_PATHS or path.startswith(("/s/", "/w/", "/p/")):  # login, health; surveys
                    assert response.status_code not in (401, 403), (method, path)
                elif path.startswith("/v1/"):  # the tracking API: its own write-key authentication
                    assert response.status_code in (401, 503), (method, path, response.status_code)
                elif headers is HTML and not path.startswith("/api") and path != "/openapi.json":
                    assert response.status_code == 303, (method, path, response.status_code)
                    assert response.headers["location"].startswith("/login?next=")
                else:
                    assert response.status_code == 401, (method, path, response.status_code)
                    assert response.json()["error"]["code"] == "unauthenticated"
    assert checked > 30


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_matrix_allows(
    role: Role, app_store: DuckDBStore, tmp_path: Path
) -> None:
    client, _ = signed_in(app_store, tmp_path, role)
    for path, permission in GUARDED:
        response = client.get(path, headers=HTML if not path.startswith("/api") else {})
        expected = 200 if permission in MATRIX[role] else 403
        assert response.status_code == expected, (role, path, response.status_code)
    # The same matrix holds for API tokens.
    api = client_for(app_store, tmp_path)
    token = bearer(api_token(app_store, role, name=f"{role}-token"))
    for path, permission in GUARDED:
        if path.startswith("/api"):
            assert api.get(path, headers=token).status_code == (200 if permission in MATRIX[role] else 403)


def test_login_sets_a_safe_cookie_and_failures_say_nothing_about_which_part_was_wrong(
    app_store: DuckDBStore, tmp_path: Path
) -> None:
    client = client_for(app_store, tmp_path)
    wrong_password = client.post("/login", data={"email": "admin@example.com", "password": "nope nope nope"})
    unknown_user = client.post("/login", data={"email": "who@example.com", "password": PASSWORD})
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert (
        "Wrong email or password." in wrong_password.text and "Wrong email or password." in unknown_user.text
    )
    ok = client.post(
        "/login", data={"email": "admin@example.com", "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/"  # no open redirect
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/", headers=HTML).status_code == 200


def test_state_changing_requests_need_the_sessions_csrf_token(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, csrf = signed_in(app_store, tmp_path, Role.admin)
    files = {"file": ("x.csv", b"user_id,name\nu9,Zed\n", "text/csv")}
    refused = client.post("/import/preview", data={"entity": "customers"}, files=files)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    forged = client.post("/logout", headers={"x-csrf-token": csrf, "origin": "https://evil.example"})
    assert forged.status_code == 403
    wrong = client.post("/logout", headers={"x-csrf-token": "not-the-token"})
    assert wrong.status_code == 403
    accepted = client.post(
        "/import/preview", data={"entity": "customers"}, files=files, headers={"x-csrf-token": csrf}
    )
    assert accepted.status_code == 200 and "Map the columns of x.csv" in accepted.text
    out = client.post("/logout", headers={"x-csrf-token": csrf})
    assert out.status_code == 303
    assert client.get("/", headers=HTML).status_code == 303  # the session is over


def test_every_answer_carries_the_security_headers(app_store: DuckDBStore, tmp_path: Path) -> None:
    client = client_for(app_store, tmp_path)
    for response in (client.get("/login", headers=HTML), client.get("/health"), client.get("/api/metrics")):
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


def test_customer_text_is_rendered_inert(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, _ = signed_in(app_store, tmp_path, Role.analyst)
    pages = [client.get("/customers?q=u", headers=HTML).text]
    for i in range(len(PAYLOADS)):
        pages.append(client.get(f"/customers/u{i}", headers=HTML).text)
    for page in pages:
        for payload in PAYLOADS[:3]:
            assert payload not in page  # never verbatim: always escaped
        for markup in ("<script>alert", "<img src=x", "<svg onload", 'href="javascript:'):
            assert markup not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in pages[1]
