"""The widget's endpoint and the public link over HTTP: CORS for the widget's origins only (the
preflight too), 403 without CORS headers for any other origin, answer pages framable by the
widget's origins only, the public link's start page and its one link per start, rate limits."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import app_for

from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.links import create_link
from cxlens.surveys.service import archive_survey, create_survey, template_document
from cxlens.surveys.widgets import create_widget, revoke_widget
from cxlens.web.ratelimit import RateLimiter

SHOP = "https://shop.example.com"
PUBLIC = "https://cx.example.com"
HTML = {"accept": "text/html"}


@pytest.fixture
def world(store: DuckDBStore) -> tuple[DuckDBStore, str, str]:
    """A customer, an NPS survey, and a widget for it on the shop: (store, widget key, survey id)."""
    customers = pa.table({"user_id": ["u-1"], "email": ["ana@example.com"]})
    assert import_table(store, "customers", customers, options=ImportOptions()).imported == 1
    with store.unit_of_work() as uow:
        survey = create_survey(uow, name="nps-web", document=template_document("nps"))
        key = create_widget(uow, survey="nps-web", origins=[SHOP], touchpoint="checkout").key
    return store, str(key), str(survey.survey_id)


def client_for(store: DuckDBStore, tmp_path: Path) -> TestClient:
    app = app_for(store, public_url=PUBLIC)
    return TestClient(app, follow_redirects=False)


def open_widget(client: TestClient, key: str, origin: str, **visitor: str) -> httpx.Response:
    return client.post(f"/w/{key}/open", json=visitor, headers={"origin": origin})


def local(url: str) -> str:
    assert url.startswith(PUBLIC + "/s/cxs_"), url
    return url.removeprefix(PUBLIC)


def test_the_preflight_and_the_answer_allow_the_widgets_origin_only(
    world: tuple[DuckDBStore, str, str], tmp_path: Path
) -> None:
    store, key, _ = world
    client = client_for(store, tmp_path)
    asks = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    preflight = client.options(f"/w/{key}/open", headers={"origin": SHOP, **asks})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert preflight.headers["vary"] == "Origin"
    assert preflight.headers["access-control-allow-methods"] == "POST"
    assert preflight.headers["access-control-allow-headers"] == "Content-Type"
    shown = client.post(f"/w/{key}/open", json={"user_id": "u-1"}, headers={"origin": SHOP})
    assert shown.status_code == 200
    assert shown.headers["access-control-allow-origin"] == SHOP and shown.headers["vary"] == "Origin"
    assert shown.json()["show"] is True and shown.json()["url"].endswith("?embed=1")
    assert "set-cookie" not in shown.headers
    again = client.post(f"/w/{key}/open", json={"user_id": "u-1"}, headers={"origin": SHOP})
    assert again.json() == {"show": False}  # the contact rule: once per window
    for origin in ("https://evil.example", "null", "https://shop.example.com.evil.example"):
        for response in (
            client.options(f"/w/{key}/open", headers={"origin": origin, **asks}),
            client.post(f"/w/{key}/open", json={"anonymous_id": "a-9"}, headers={"origin": origin}),
        ):
            assert response.status_code == 403, origin
            assert "access-control-allow-origin" not in response.headers
            assert response.json()["error"]["code"] == "permission_denied"
            assert "may not be shown on" in response.json()["error"]["message"]
    no_origin = client.post(f"/w/{key}/open", json={"anonymous_id": "a-9"})
    assert no_origin.status_code == 403
    unknown = client.post(
        "/w/cxw_nosuchkeynosuchkey00/open", json={"anonymous_id": "a"}, headers={"origin": SHOP}
    )
    assert unknown.status_code == 404 and "access-control-allow-origin" not in unknown.headers
    bad = client.post(f"/w/{key}/open", json={"anonymous_id": "x" * 500}, headers={"origin": SHOP})
    assert bad.status_code == 400 and "at most 200 characters" in bad.json()["error"]["message"]
    with store.session() as s:  # only the one shown link was made
        assert s.fetch_value("SELECT count(*) FROM survey_links") == 1


def test_only_a_widgets_answer_page_may_be_framed_and_only_by_its_origins(
    world: tuple[DuckDBStore, str, str], tmp_path: Path
) -> None:
    store, key, _ = world
    client = client_for(store, tmp_path)
    url = local(
        client.post(f"/w/{key}/open", json={"anonymous_id": "a-1"}, headers={"origin": SHOP}).json()["url"]
    )
    page = client.get(url, headers=HTML)
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert f"frame-ancestors {SHOP};" in policy and "'none'" not in policy.split("frame-ancestors")[1]
    assert "script-src 'self'" in policy  # the rest of the policy is unchanged
    assert "x-frame-options" not in page.headers
    assert "/static/embed.css" in page.text  # the compact layout
    assert re.search(r'action="/s/cxs_[^"]+&amp;embed=1"', page.text)  # the form stays embedded
    branched = client.post(url, data={"nps_score": "2"}, headers={"hx-request": "true", **HTML})
    assert "frame-ancestors " + SHOP in branched.headers["content-security-policy"]
    assert "embed=1" in branched.text and "<textarea" in branched.text
    done = client.post(url, data={"nps_score": "2", "_action": "submit"}, headers=HTML)
    assert done.status_code == 200 and "frame-ancestors " + SHOP in done.headers["content-security-policy"]
    assert "/static/embed.css" in done.text
    with store.unit_of_work() as uow:
        personal = create_link(uow, survey="nps-web", customer="ana@example.com")["token"]
    for path in (f"/s/{personal}", "/login", "/s/cxs_unknown", "/health"):
        response = client.get(path, headers=HTML)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        assert response.headers["x-frame-options"] == "DENY", path
    assert "/static/embed.css" not in client.get(f"/s/{personal}", headers=HTML).text
    with store.unit_of_work() as uow:
        revoke_widget(uow, key)
    after = client.get(url, headers=HTML)
    assert "frame-ancestors 'none'" in after.headers["content-security-policy"]


def test_the_public_link_starts_on_a_post_and_records_an_anonymous_answer(
    world: tuple[DuckDBStore, str, str], tmp_path: Path
) -> None:
    store, _, survey_id = world
    client = client_for(store, tmp_path)
    start = client.get(f"/p/{survey_id}", headers=HTML)
    assert start.status_code == 200 and f'action="/p/{survey_id}"' in start.text
    assert "frame-ancestors 'none'" in start.headers["content-security-policy"]
    with store.session() as s:  # a crawler's GET leaves nothing behind
        assert s.fetch_value("SELECT count(*) FROM survey_links") == 0
    begun = client.post(f"/p/{survey_id}")
    assert begun.status_code == 303 and begun.headers["location"].startswith("/s/cxs_")
    page = client.get(begun.headers["location"], headers=HTML)
    assert page.status_code == 200 and 'name="nps_score"' in page.text
    done = client.post(begun.headers["location"], data={"nps_score": "9", "_action": "submit"}, headers=HTML)
    assert done.status_code == 200
    with store.session() as s:
        row = s.fetch_one(
            "SELECT x.kind, x.value, r.score FROM responses r JOIN identities x USING (customer_key)"
        )
        assert row is not None and row["kind"] == "anonymous_id" and row["value"].startswith("anon_")
        assert row["score"] == 9.0
    for missing in ("nps-web", "srv_0000000000000000"):  # a name is not a public id
        assert client.get(f"/p/{missing}", headers=HTML).status_code == 404
        assert client.post(f"/p/{missing}").status_code == 404
    with store.unit_of_work() as uow:
        archive_survey(uow, "nps-web")
    assert client.get(f"/p/{survey_id}", headers=HTML).status_code == 404


def test_widget_and_public_link_share_the_answer_pages_rate_limit(
    world: tuple[DuckDBStore, str, str], tmp_path: Path
) -> None:
    store, key, survey_id = world
    client = client_for(store, tmp_path)
    client.app.state.survey_limiter = RateLimiter(limit=3, window=60)  # type: ignore[attr-defined]
    answers = [
        client.options(f"/w/{key}/open", headers={"origin": SHOP}).status_code,
        open_widget(client, key, SHOP, anonymous_id="a-1").status_code,
        client.get(f"/p/{survey_id}", headers=HTML).status_code,
        client.post(f"/p/{survey_id}").status_code,
    ]
    assert answers == [204, 200, 200, 429]


def test_the_widget_script_is_served_as_a_static_file(
    world: tuple[DuckDBStore, str, str], tmp_path: Path
) -> None:
    client = client_for(world[0], tmp_path)
    script = client.get("/static/widget.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "/w/" in script.text and "data-key" in script.text
