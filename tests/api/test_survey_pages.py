"""The survey pages through the ASGI client: who may see and edit what; creating from a template;
the editor's preview (branching, problems next to their fields), saving, import and export; the
answers with filters, paging and CSV against a hand-made set of answers; customer text inert."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import app_for

from cxlens.auth.model import Role
from cxlens.auth.service import create_user
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.language.templates import TEMPLATES
from cxlens.surveys.queries import access_survey
from cxlens.surveys.responses import ResponseFilter, latest_responses, list_responses
from cxlens.surveys.service import create_survey
from cxlens.web.survey_form import form_fields, form_from_document

PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html"}
HOSTILE = "<script>alert('x')</script>"
# (user, name, metric, score, comment, channel, touchpoint, survey, answered_at)
ANSWERS = [
    ("u1", "Ann", "nps", "2", "Slow delivery", "email", "delivery", "nps-web", "2024-03-01T09:00:00Z"),
    ("u2", "Ben", "nps", "8", "It was ok", "web", "checkout", "nps-web", "2024-03-02T09:00:00Z"),
    ("u3", "Cem", "nps", "10", "Great SERVICE", "email", "delivery", "nps-web", "2024-03-03T09:00:00Z"),
    ("u4", "Dot", "nps", "5", HOSTILE, "chat", "support", "nps-web", "2024-03-04T09:00:00Z"),
    (
        "u5",
        "Eve",
        "nps",
        "7",
        '=HYPERLINK("http://evil")',
        "web",
        "checkout",
        "nps-web",
        "2024-03-05T09:00:00Z",
    ),
    ("u1", "Ann", "csat", "4", "Nice", "phone", "support", "csat-x", "2024-03-06T09:00:00Z"),
    ("u6", "Fay", "nps", "9", "No survey named", "app", None, None, "2024-03-07T09:00:00Z"),
]


@pytest.fixture
def app_store(store: DuckDBStore) -> DuckDBStore:
    with store.unit_of_work() as uow:
        for role in Role:
            create_user(uow, email=f"{role}@example.com", name=f"The {role}", role=role, password=PASSWORD)
    columns = (
        "user_id",
        "name",
        "metric",
        "score",
        "comment",
        "channel",
        "touchpoint",
        "survey",
        "answered_at",
    )
    rows = {column: [row[i] for row in ANSWERS] for i, column in enumerate(columns)}
    people = pa.table(
        {"user_id": [f"u{i}" for i in range(1, 7)], "name": ["Ann", "Ben", "Cem", "Dot", "Eve", "Fay"]}
    )
    assert import_table(store, "customers", people, options=ImportOptions()).imported == 6
    answers = pa.table({k: v for k, v in rows.items() if k != "name"})
    assert import_table(store, "responses", answers, options=ImportOptions()).imported == len(ANSWERS)
    return store


def add_survey(store: DuckDBStore, name: str = "nps-web") -> None:
    """The survey the answers name (created directly: the test is about reading)."""
    with store.unit_of_work() as uow:
        create_survey(uow, name=name, document=TEMPLATES["nps"]())


def signed_in(store: DuckDBStore, tmp_path: Path, role: Role) -> tuple[TestClient, dict[str, str]]:
    """A browser session and the headers an HTMX request carries (CSRF token as app.js sends it)."""
    client = TestClient(app_for(store), follow_redirects=False)
    response = client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD})
    assert response.status_code == 303
    page = client.get("/", headers=HTML).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert token
    return client, {"x-csrf-token": token.group(1), "hx-request": "true"}


def create(client: TestClient, headers: dict[str, str], name: str, template: str = "nps") -> None:
    response = client.post("/surveys", data={"name": name, "template": template}, headers=headers)
    assert response.status_code == 200 and response.headers["hx-redirect"] == f"/surveys/{name}/edit", (
        response.text
    )


def customers_in(html: str) -> list[str]:
    """The customers of the answers table's rows, in order."""
    return re.findall(r'data-label="Customer"><a href="/customers/cus_[^"]+">([^<]+)</a>', html)


def test_roles_viewer_sees_no_surveys_agent_reads_answers_analyst_edits(
    app_store: DuckDBStore, tmp_path: Path
) -> None:
    analyst, headers = signed_in(app_store, tmp_path, Role.analyst)
    create(analyst, headers, "nps-web")
    viewer, _ = signed_in(app_store, tmp_path, Role.viewer)
    for path in ("/surveys", "/surveys/latest", "/surveys/nps-web/responses", "/surveys/nps-web/edit"):
        assert viewer.get(path, headers=HTML).status_code == 403, path
    assert "Latest responses" not in viewer.get("/", headers=HTML).text  # no fragment it may not load

    agent, agent_headers = signed_in(app_store, tmp_path, Role.agent)
    for path in (
        "/surveys",
        "/surveys/latest",
        "/surveys/nps-web/responses",
        "/surveys/nps-web/responses.csv",
    ):
        assert agent.get(path, headers=HTML).status_code == 200, path
    listing = agent.get("/surveys", headers=HTML).text
    assert "/surveys/nps-web/responses" in listing
    assert "/surveys/nps-web/edit" not in listing and "New survey" not in listing
    assert "Latest responses" in agent.get("/", headers=HTML).text
    for path in ("/surveys/nps-web/edit", "/surveys/nps-web/export.json"):
        assert agent.get(path, headers=HTML).status_code == 403, path
    for path in ("/surveys", "/surveys/nps-web/preview", "/surveys/nps-web/edit", "/surveys/nps-web/import"):
        assert agent.post(path, data={"name": "x"}, headers=agent_headers).status_code == 403, path

    assert analyst.get("/surveys/nps-web/edit", headers=HTML).status_code == 200
    assert "/surveys/nps-web/edit" in analyst.get("/surveys", headers=HTML).text
    no_token = {"hx-request": "true"}
    assert analyst.post("/surveys", data={"name": "y"}, headers=no_token).status_code == 403  # CSRF


def test_create_from_a_template_or_blank_and_refusals(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, headers = signed_in(app_store, tmp_path, Role.analyst)
    create(client, headers, "nps-web")
    create(client, headers, "open-questions", "blank")
    with app_store.session() as s:
        assert access_survey(s, "nps-web").definition == {**TEMPLATES["nps"](), "name": "nps-web"}
        assert access_survey(s, "nps-web").metric == "nps"
        assert access_survey(s, "open-questions").definition["pages"][0]["elements"][0]["name"] == "q1"
    again = client.post("/surveys", data={"name": "nps-web", "template": "csat"}, headers=headers)
    assert again.status_code == 200 and "exists already" in again.text and "hx-redirect" not in again.headers
    bad = client.post("/surveys", data={"name": "Bad Name!", "template": "nps"}, headers=headers)
    assert "is not a valid survey name" in bad.text
    unknown = client.post("/surveys", data={"name": "z", "template": "matrix"}, headers=headers)
    assert "Unknown template" in unknown.text
    plain = client.post(
        "/surveys", data={"name": "z2", "template": "ces"}, headers={"x-csrf-token": headers["x-csrf-token"]}
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/surveys/z2/edit"
    listing = client.get("/surveys", headers=HTML).text
    assert all(name in listing for name in ("nps-web", "open-questions", "z2"))
    assert re.search(
        r"nps-web</a></th>\s*<td>Your opinion of us</td>\s*<td>NPS</td>\s*<td class=\"num\">5</td>", listing
    )


def test_the_editor_page_shows_the_fields_and_the_preview(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, headers = signed_in(app_store, tmp_path, Role.analyst)
    create(client, headers, "nps-web")
    page = client.get("/surveys/nps-web/edit", headers=HTML).text
    for field in (
        'name="q:0:title:en"',
        'name="q:0:title:de"',
        'name="q:3:visibleIf"',
        'name="c:1:expression"',
    ):
        assert field in page, field
    assert 'value="{nps_score} &lt;= 6"' in page  # the condition, escaped in its attribute
    assert 'name="answer:nps_score"' in page and 'name="answer:detractor_comment"' not in page
    assert 'hx-trigger="input delay:400ms, submit"' in page


def test_the_preview_branches_and_shows_problems_next_to_their_fields(
    app_store: DuckDBStore, tmp_path: Path
) -> None:
    client, headers = signed_in(app_store, tmp_path, Role.analyst)
    create(client, headers, "nps-web")
    fields = form_fields(form_from_document(TEMPLATES["nps"]()))
    fields["q:0:title:en"] = "Would you recommend ACME?"
    shown = client.post("/surveys/nps-web/preview", data={**fields, "answer:nps_score": "3"}, headers=headers)
    assert shown.status_code == 200
    assert "Would you recommend ACME?" in shown.text
    assert (
        'name="answer:detractor_comment"' in shown.text and 'name="answer:promoter_comment"' not in shown.text
    )
    assert 'value="3" checked' in shown.text
    assert "Thank you for your honest feedback." in shown.text
    german = client.post("/surveys/nps-web/preview", data={**fields, "preview_locale": "de"}, headers=headers)
    assert "Ihre Meinung über uns" in german.text

    fields["q:2:visibleIf"] = "{nps_score} >>= 7"
    broken = client.post("/surveys/nps-web/preview", data=fields, headers=headers)
    assert broken.status_code == 200 and "cannot be shown" in broken.text
    slot = re.search(
        r'<div id="problems-q-2" class="editor__problems" hx-swap-oob="true">(.*?)</div>', broken.text, re.S
    )
    assert slot and "Show if: Cannot read the expression" in slot.group(1)
    empty = re.search(
        r'<div id="problems-q-1" class="editor__problems" hx-swap-oob="true">\s*</div>', broken.text
    )
    assert empty  # every other slot is cleared


def test_add_remove_save_and_refuse(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, headers = signed_in(app_store, tmp_path, Role.analyst)
    create(client, headers, "csat-x", "csat")
    fields = form_fields(form_from_document(TEMPLATES["csat"]()))
    added = client.post("/surveys/csat-x/editor?action=add_question", data=fields, headers=headers)
    assert added.status_code == 200 and 'name="q:2:name" value="q3"' in added.text
    removed = client.post("/surveys/csat-x/editor?action=remove_question:1", data=fields, headers=headers)
    assert 'name="q:1:name"' not in removed.text
    retyped = client.post(
        "/surveys/csat-x/editor", data={**fields, "q:1:type": "radiogroup"}, headers=headers
    )
    assert 'name="q:1:choices"' in retyped.text and 'name="q:1:maxLength"' not in retyped.text

    fields |= {
        "q:1:title:en": "Why that score?",
        "q:2:name": "extra",
        "q:2:type": "boolean",
        "q:2:title:en": "Again?",
    }
    saved = client.post("/surveys/csat-x/edit", data=fields, headers=headers)
    assert saved.status_code == 200 and "Saved." in saved.text
    with app_store.session() as s:
        definition = access_survey(s, "csat-x").definition
    elements = definition["pages"][0]["elements"]
    assert elements[1]["title"] == {
        "default": "Why that score?",
        "de": TEMPLATES["csat"]()["pages"][0]["elements"][1]["title"]["de"],
    }
    assert elements[2] == {"type": "boolean", "name": "extra", "title": "Again?"}
    assert "Why that score?" in client.get("/surveys/csat-x/edit", headers=HTML).text  # after a reload

    fields["metric_question"] = "extra"
    refused = client.post("/surveys/csat-x/edit", data=fields, headers=headers)
    assert "Not saved" in refused.text and "Metric question: csat needs a 1–5 rating question" in refused.text
    with app_store.session() as s:
        assert access_survey(s, "csat-x").definition == definition  # unchanged
    plain = client.post(
        "/surveys/csat-x/edit", data=fields, headers={"x-csrf-token": headers["x-csrf-token"]}
    )
    assert plain.status_code == 400
    assert client.post("/surveys/nope/edit", data=fields, headers=headers).status_code == 404


def test_import_and_export_json(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, headers = signed_in(app_store, tmp_path, Role.admin)
    create(client, headers, "nps-web")
    exported = client.get("/surveys/nps-web/export.json")
    assert (
        exported.status_code == 200 and 'filename="nps-web.json"' in exported.headers["content-disposition"]
    )
    assert exported.json() == {**TEMPLATES["nps"](), "name": "nps-web"}

    ces = TEMPLATES["ces"]()  # named "ces": the survey keeps its own name
    imported = client.post("/surveys/nps-web/import", data={"json": json.dumps(ces)}, headers=headers)
    assert imported.headers["hx-redirect"] == "/surveys/nps-web/edit"
    assert client.get("/surveys/nps-web/export.json").json() == {**ces, "name": "nps-web"}

    upload = {"file": ("survey.json", json.dumps(TEMPLATES["csat"]()).encode(), "application/json")}
    assert client.post("/surveys/nps-web/import", files=upload, headers=headers).headers["hx-redirect"]
    assert client.get("/surveys/nps-web/export.json").json()["cxlensMetric"]["metric"] == "csat"

    bad = {
        "pages": [
            {"elements": [{"type": "matrix", "name": "m"}, {"type": "rating", "name": "r", "rateMax": 9}]}
        ]
    }
    refused = client.post("/surveys/nps-web/import", data={"json": json.dumps(bad)}, headers=headers)
    assert refused.status_code == 200 and "hx-redirect" not in refused.headers
    assert (
        "<code>pages[0].elements[0].type</code>" in refused.text
        and "pages[0].elements[1].rateMax" in refused.text
    )
    assert (
        "This is not JSON"
        in client.post("/surveys/nps-web/import", data={"json": "{nope"}, headers=headers).text
    )
    assert client.get("/surveys/nps-web/export.json").json()["cxlensMetric"]["metric"] == "csat"  # unchanged


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Eve", "Dot", "Cem", "Ben", "Ann"]),  # newest first, only this survey's answers
        ("segment=detractor", ["Dot", "Ann"]),
        ("segment=passive", ["Eve", "Ben"]),
        ("segment=promoter", ["Cem"]),
        ("channel=email", ["Cem", "Ann"]),
        ("touchpoint=checkout", ["Eve", "Ben"]),
        ("score_min=5&score_max=8", ["Eve", "Dot", "Ben"]),
        ("since=2024-03-02&until=2024-03-03", ["Cem", "Ben"]),  # until is a whole day
        ("q=service", ["Cem"]),  # the comment, case-insensitive
        ("metric=csat", []),
        ("metric=nps&channel=web&q=ok", ["Ben"]),
    ],
)
def test_filters_select_the_right_answers(
    app_store: DuckDBStore, tmp_path: Path, query: str, expected: list[str]
) -> None:
    client, _ = signed_in(app_store, tmp_path, Role.agent)
    add_survey(app_store)
    page = client.get(f"/surveys/nps-web/responses?{query}", headers=HTML)
    assert page.status_code == 200 and customers_in(page.text) == expected
    rows = client.get(f"/surveys/nps-web/responses/rows?{query}", headers={**HTML, "hx-request": "true"})
    assert customers_in(rows.text) == expected
    assert (
        'hx-trigger="every 5s"' in rows.text
        and f'/responses/rows?{query.replace("&", "&amp;")}"' in rows.text
    )
    listed = list(csv.DictReader(io.StringIO(client.get(f"/surveys/nps-web/responses.csv?{query}").text)))
    assert [row["customer_name"] for row in listed] == expected


def test_bad_filters_say_what_is_wrong(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, _ = signed_in(app_store, tmp_path, Role.agent)
    add_survey(app_store)
    page = client.get("/surveys/nps-web/responses?segment=fans&score_min=high", headers=HTML)
    assert (
        page.status_code == 200 and "segment: Choose a segment" in page.text and customers_in(page.text) == []
    )
    assert client.get("/surveys/nps-web/responses.csv?since=yesterday").status_code == 400
    assert client.get("/surveys/missing/responses", headers=HTML).status_code == 404


def test_csv_is_the_filtered_view_and_defuses_formulas(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, _ = signed_in(app_store, tmp_path, Role.analyst)
    add_survey(app_store)
    response = client.get("/surveys/nps-web/responses.csv?channel=web")
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="nps-web-responses.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["customer_name"], r["score"], r["segment"], r["touchpoint"]) for r in rows] == [
        ("Eve", "7.0", "passive", "checkout"),
        ("Ben", "8.0", "passive", "checkout"),
    ]
    assert rows[0]["comment"] == '\'=HYPERLINK("http://evil")'  # never a live formula
    assert rows[0]["customer_id"].startswith("cus_") and rows[0]["answered_at"] == "2024-03-05T09:00:00+00:00"


def test_customer_text_is_inert_and_customers_are_linked(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, _ = signed_in(app_store, tmp_path, Role.agent)
    add_survey(app_store)
    for path in ("/surveys/nps-web/responses", "/surveys/latest", "/surveys/nps-web/responses/rows"):
        text = client.get(path, headers=HTML).text
        assert HOSTILE not in text and "<script>alert" not in text, path
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text, path
    with app_store.session() as s:
        dot = s.fetch_value(
            "SELECT c.customer_id FROM identities x JOIN customers c USING (customer_key) WHERE x.value = 'u4'"
        )
    page = client.get("/surveys/nps-web/responses?segment=detractor", headers=HTML).text
    assert f'<a href="/customers/{dot}">Dot</a>' in page
    assert client.get(f"/customers/{dot}", headers=HTML).status_code == 200


def test_latest_answers_and_paging(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, _ = signed_in(app_store, tmp_path, Role.agent)
    add_survey(app_store)
    feed = client.get("/surveys/latest", headers=HTML).text
    assert 'hx-trigger="every 10s"' in feed
    assert feed.index("No survey named") < feed.index("Nice") < feed.index("Slow delivery")  # newest first
    assert '<a href="/surveys/nps-web/responses">nps-web</a>' in feed
    # Every response belongs to the survey it names, defined here or only imported (a spaced name too).
    assert '<a href="/surveys/csat-x/responses">csat-x</a>' in feed
    with app_store.session() as s:
        newest = latest_responses(s, limit=3)
        assert [r["customer_name"] for r in newest] == ["Fay", "Ann", "Eve"]
        assert latest_responses(s, after_key=newest[1]["response_key"]) == newest[:1]
        first = list_responses(s, ResponseFilter(survey="nps-web"), limit=2)
        second = list_responses(s, ResponseFilter(survey="nps-web"), cursor=first.next_cursor, limit=2)
        third = list_responses(s, ResponseFilter(survey="nps-web"), cursor=second.next_cursor, limit=2)
    names = [[r["customer_name"] for r in p.items] for p in (first, second, third)]
    assert names == [["Eve", "Dot"], ["Cem", "Ben"], ["Ann"]] and third.next_cursor is None
