"""The brand on the pages customers see (CXLENS_BRAND_*): validated settings, the brand's name and
colour on the survey, thank-you, public-link and expired-link pages through /brand.css (no inline
style: the CSP stays ``style-src 'self'``), an https logo allowed by that page's CSP alone, and the
widget's panel named after the brand. Never "cxlens" on a customer's page."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from tests.app_helpers import app_for

from cxlens.config import Settings
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.links import insert_link
from cxlens.surveys.service import create_survey, template_document

HTML = {"accept": "text/html"}


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("brand_color", "blue", "#rrggbb"),
        ("brand_color", "#1d4ed", "#rrggbb"),
        ("brand_color", "#ffd700", "too light"),  # white text on gold: 1.4:1
        ("brand_logo_url", "http://cdn.example/logo.png", "https://"),
        ("brand_logo_url", "javascript:alert(1)", "https://"),
        ("brand_logo_url", "//cdn.example/logo.png", "https://"),
        ("brand_logo_url", "https://cdn.example/a.png; script-src *", "may not contain"),
        ("brand_logo_url", 'https://cdn.example/"onerror=x', "may not contain"),
        ("brand_name", "", "at least 1"),
    ],
)
def test_brand_settings_are_validated(field: str, value: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        Settings(**{field: value})  # type: ignore[arg-type]


def test_good_brand_settings_are_kept() -> None:
    settings = Settings(
        brand_name="Acme", brand_color="#0F5132", brand_logo_url="https://cdn.acme.example/l.svg"
    )
    assert (settings.brand_color, Settings(brand_logo_url="/static/logo.svg").brand_logo_url) == (
        "#0f5132",
        "/static/logo.svg",
    )


@pytest.fixture
def client_and_token(store: DuckDBStore, tmp_path: Path) -> tuple[TestClient, str, str]:
    assert (
        import_table(store, "customers", pa.table({"user_id": ["u1"]}), options=ImportOptions()).imported == 1
    )
    with store.unit_of_work() as uow:
        survey = create_survey(uow, name="csat-q", document=template_document("csat"))
        customer = int(uow.fetch_value("SELECT customer_key FROM customers"))
        token, _ = insert_link(
            uow,
            survey_key=survey.survey_key,
            customer_key=customer,
            channel="email",
            touchpoint=None,
            days=3,
        )
    app = app_for(
        store,
        brand_name="Acme <Home>",
        brand_logo_url="https://cdn.acme.example/logo.svg",
        brand_color="#0f5132",
    )
    return TestClient(app, follow_redirects=False), token, survey.survey_id


def test_customer_pages_show_the_brand_with_no_inline_style(
    client_and_token: tuple[TestClient, str, str],
) -> None:
    client, token, survey_id = client_and_token
    pages = {
        "survey": client.get(f"/s/{token}", headers=HTML),
        "public link": client.get(f"/p/{survey_id}", headers=HTML),
        "expired link": client.get("/s/cxs_nope", headers=HTML),
    }
    pages["thank-you"] = client.post(
        f"/s/{token}", data={"csat_score": "4", "_action": "submit"}, headers=HTML
    )
    for name, page in pages.items():
        html = page.text
        assert "Acme &lt;Home&gt;" in html and "cxlens" not in html.lower(), name
        assert 'href="/brand.css?c=0f5132"' in html and "style=" not in html and "<style" not in html, name
        assert '<img class="customer-brand__logo" src="https://cdn.acme.example/logo.svg"' in html, name
        policy = page.headers["content-security-policy"]
        assert "style-src 'self';" in policy and "img-src 'self' data: https://cdn.acme.example;" in policy, (
            name
        )
    assert (
        pages["expired link"].status_code == 404 and "Back to the overview" not in pages["expired link"].text
    )
    css = client.get("/brand.css?c=0f5132")  # public: a customer is not signed in
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.text == "body.customer { --accent: #0f5132; --accent-hover: #0c4128; }\n"
    staff = client.get("/login", headers=HTML).headers["content-security-policy"]
    assert "cdn.acme.example" not in staff  # the logo's host is allowed on customer pages only
