"""A survey's name as its responses carry it: "NPS quarterly" (a capital, a space) works in every
survey URL, percent-encoded by the pages and decoded by the routes; imported responses belong to the
survey they name, and a name only imported responses carry is listed as an imported survey."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import app_for

from cxlens.auth.model import Role
from cxlens.auth.service import create_user
from cxlens.errors import InvalidInput
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.language.templates import TEMPLATES
from cxlens.surveys.queries import access_survey
from cxlens.surveys.responses import survey_counts
from cxlens.surveys.service import check_survey_name
from cxlens.web.survey_form import form_fields, form_from_document

PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html"}
NAME, ENCODED = "NPS quarterly", "NPS%20quarterly"
IMPORTED, IMPORTED_ENCODED = "Legacy pulse 2023", "Legacy%20pulse%202023"


@pytest.fixture
def app_store(store: DuckDBStore) -> DuckDBStore:
    with store.unit_of_work() as uow:
        create_user(uow, email="a@example.com", name="Ada", role=Role.analyst, password=PASSWORD)
    people = pa.table({"user_id": ["u1", "u2", "u3"], "email": ["ann@example.com", "ben@example.com", None]})
    assert import_table(store, "customers", people, options=ImportOptions()).imported == 3
    responses = pa.table(
        {
            "user_id": ["u1", "u2", "u3", "u1"],
            "metric": ["nps", "nps", "nps", "csat"],
            "score": ["3", "9", "10", "4"],
            "survey": [NAME, NAME, NAME, IMPORTED],
            "answered_at": ["2024-03-01T09:00:00Z", "2024-03-02T09:00:00Z", "2024-03-03T09:00:00Z", "2023-05-01T09:00:00Z"],
        }
    )  # fmt: skip
    assert import_table(store, "responses", responses, options=ImportOptions()).imported == 4
    return store


def signed_in(store: DuckDBStore, tmp_path: Path) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(app_for(store), follow_redirects=False)
    assert client.post("/login", data={"email": "a@example.com", "password": PASSWORD}).status_code == 303
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/", headers=HTML).text)
    assert token
    return client, {"x-csrf-token": token.group(1), "hx-request": "true"}


def test_imported_responses_belong_to_the_survey_they_name(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, headers = signed_in(app_store, tmp_path)
    created = client.post("/surveys", data={"name": NAME, "template": "nps"}, headers=headers)
    assert created.headers["hx-redirect"] == f"/surveys/{ENCODED}/edit", created.text
    with app_store.session() as s:
        counts = {v["name"]: (v["responses"], v["imported"], v["metric"]) for v in survey_counts(s)}
    assert counts == {NAME: (3, False, "nps"), IMPORTED: (1, True, "csat")}
    listing = client.get("/surveys", headers=HTML).text
    for path in ("responses", "edit", "send"):
        assert f'href="/surveys/{ENCODED}/{path}"' in listing
    assert f'href="/surveys/{IMPORTED_ENCODED}/responses"' in listing  # listed, with its one response
    assert f"/surveys/{IMPORTED_ENCODED}/edit" not in listing and ">imported<" in listing
    assert not re.search(r'href="/surveys/[^"]* ', listing)  # no raw space in any survey URL
    imported = client.get(f"/surveys/{IMPORTED_ENCODED}/responses", headers=HTML)
    assert imported.status_code == 200 and "no questions here" in imported.text
    assert client.get(f"/surveys/{IMPORTED_ENCODED}/edit", headers=HTML).status_code == 404
    assert client.get("/surveys/Nothing%20here/responses", headers=HTML).status_code == 404


def test_every_survey_route_takes_a_name_with_a_space(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, headers = signed_in(app_store, tmp_path)
    client.post("/surveys", data={"name": NAME, "template": "nps"}, headers=headers)
    base = f"/surveys/{ENCODED}"
    page = client.get(f"{base}/responses", headers=HTML)
    assert page.status_code == 200 and "Responses to" in page.text
    assert f'href="{base}/edit"' in page.text and f'href="{base}/responses.csv"' in page.text
    assert f'hx-get="{base}/responses/rows?"' in page.text
    assert client.get(f"{base}/responses/rows", headers=HTML).text.count('data-label="Customer"') == 3
    assert (
        client.get(f"{base}/responses?segment=promoter", headers=HTML).text.count('data-label="Score"') == 2
    )
    paged = client.get(f"{base}/responses?cursor=", headers=HTML)
    assert paged.status_code == 200
    csv_text = client.get(f"{base}/responses.csv").text
    assert csv_text.count("\n") == 4 and NAME in csv_text
    editor = client.get(f"{base}/edit", headers=HTML)
    assert editor.status_code == 200 and f'hx-post="{base}/preview"' in editor.text
    with app_store.session() as s:
        fields = form_fields(form_from_document(access_survey(s, NAME).definition))
    assert client.post(f"{base}/preview", data=fields, headers=headers).status_code == 200
    assert client.post(f"{base}/editor?action=add_question", data=fields, headers=headers).status_code == 200
    saved = client.post(f"{base}/edit", data=fields, headers=headers)
    assert saved.status_code == 200 and "field__error" not in saved.text, saved.text
    exported = client.get(f"{base}/export.json")
    assert exported.status_code == 200 and exported.json()["name"] == NAME
    document = {**TEMPLATES["csat"](), "name": "whatever"}
    imported = client.post(f"{base}/import", data={"json": json.dumps(document)}, headers=headers)
    assert imported.headers.get("hx-redirect") == f"{base}/edit", imported.text
    with app_store.session() as s:
        assert access_survey(s, NAME).metric == "csat"  # imported into the spaced survey, name kept
    send = client.get(f"{base}/send", headers=HTML)
    assert send.status_code == 200 and f'hx-post="{base}/send"' in send.text
    sent = client.post(f"{base}/send", data={"customers": "ann@example.com"}, headers=headers)
    assert "1 invitation planned" in sent.text
    trigger = client.post(
        f"{base}/triggers", data={"trigger_name": "q", "kind": "every", "every_days": "90"}, headers=headers
    )
    assert "Trigger q added" in trigger.text
    widget = client.post(f"{base}/widgets", data={"origins": "https://shop.example"}, headers=headers)
    key = re.search(r"cxw_[A-Za-z0-9_-]+", widget.text)
    assert key, widget.text
    revoked = client.post(f"{base}/widgets/{key.group(0)}/revoke", headers=headers)
    assert revoked.status_code == 200


def test_survey_names_allow_single_spaces_and_capitals_not_dots_or_slashes(
    app_store: DuckDBStore, tmp_path: Path
) -> None:
    client, headers = signed_in(app_store, tmp_path)
    for bad in ("two  spaces", "trailing ", " leading", "dotted.name", "a/b", "x" * 64, "ü-survey"):
        with pytest.raises(InvalidInput, match="is not a valid survey name"):
            check_survey_name(bad)
    for bad in ("two  spaces", "dotted.name", "a/b"):  # the page trims the ends of what is typed
        refused = client.post("/surveys", data={"name": bad, "template": "nps"}, headers=headers)
        assert "is not a valid survey name" in refused.text, bad
    assert (
        client.post("/surveys", data={"name": "Q3 NPS_web-2", "template": "nps"}, headers=headers).headers[
            "hx-redirect"
        ]
        == "/surveys/Q3%20NPS_web-2/edit"
    )
