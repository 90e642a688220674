"""JSON API contract, through the ASGI client on a real workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import app_for
from tests.auth_helpers import api_token, bearer
from tests.factories import interaction, write_csv

from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_file
from cxlens.storage.duckdb_store import DuckDBStore


@pytest.fixture
def client(store: DuckDBStore, tmp_path: Path) -> TestClient:
    rows = [
        {**interaction("u1", name=f"n{i}", occurred_at=f"2024-01-0{i + 1}T00:00:00Z"), "email": "ana@x.com"}
        for i in range(5)
    ]
    import_file(store, "interactions", write_csv(tmp_path / "i.csv", rows), options=ImportOptions())
    return TestClient(app_for(store), headers=bearer(api_token(store)))


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["schema_version"] >= 1


def test_search_show_and_timeline(client: TestClient) -> None:
    hits = client.get("/api/customers", params={"q": "ANA@x.com"}).json()["items"]
    assert len(hits) == 1
    customer_id = hits[0]["customer_id"]
    profile = client.get(f"/api/customers/{customer_id}").json()
    assert {i["kind"] for i in profile["identities"]} == {"user_id", "email"}
    assert profile["counts"]["interactions"] == 5
    page = client.get(f"/api/customers/{customer_id}/timeline", params={"limit": 3}).json()
    assert [i["title"] for i in page["items"]] == ["n4", "n3", "n2"]
    rest = client.get(f"/api/customers/{customer_id}/timeline", params={"before": page["next_cursor"]}).json()
    assert [i["title"] for i in rest["items"]] == ["n1", "n0"] and rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/customers/cus_nope", 404, "not_found"),
        ("/api/customers", 400, "invalid_input"),
        ("/api/customers/u1/timeline?before=%%%", 400, "invalid_input"),
        ("/api/customers/u1/timeline?limit=0", 400, "invalid_input"),
        ("/no/such/route", 404, "not_found"),
    ],
)
def test_errors_have_one_shape(client: TestClient, path: str, status: int, code: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and isinstance(error["data"], dict)


def test_openapi_lists_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/health",
        "/api/customers",
        "/api/customers/{customer_id}",
        "/api/customers/{customer_id}/timeline",
    } <= set(paths)


def test_no_page_pulls_scripts_from_a_cdn(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
