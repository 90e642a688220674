"""``/surveys/loop`` through the real app: who may see it and who may change the rules, the funnel
tiles and the follow-ups table, and customer text that stays inert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import app_for

from cxlens.auth.model import Role
from cxlens.auth.service import create_user
from cxlens.automation.loop import add_rule, run_loop
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.service import create_survey, template_document

PASSWORD = "correct horse battery staple"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HTML = {"accept": "text/html"}
FRAGMENT = {"hx-request": "true", "accept": "text/html"}


@pytest.fixture
def app_store(store: DuckDBStore) -> DuckDBStore:
    """A detractor with a hostile comment, followed up by a rule."""
    with store.unit_of_work() as uow:
        create_survey(uow, name="nps-q", document=template_document("nps"))
        created = add_rule(uow, name="detractors", metric="nps", survey="nps-q", team="care").created_at
        for role in Role:
            create_user(uow, email=f"{role}@example.com", name=role.title(), role=role, password=PASSWORD)
    answered = (created + timedelta(seconds=1)).isoformat()
    answer = {
        "user_id": "u1",
        "metric": "nps",
        "score": "4",
        "survey": "nps-q",
        "comment": HOSTILE,
        "answered_at": answered,
    }
    import_table(store, "responses", pa.table({k: [v] for k, v in answer.items()}), options=ImportOptions())
    assert run_loop(store, contact_days=30, now=datetime.now(UTC))["followups_opened"] == 1
    return store


def signed_in(store: DuckDBStore, tmp_path: Path, role: Role) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(app_for(store), follow_redirects=False)
    login = client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD})
    assert login.status_code == 303
    page = client.get("/", headers=HTML).text
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    return client, {"x-csrf-token": token, **FRAGMENT}


def test_a_viewer_may_not_see_the_loop(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, csrf = signed_in(app_store, tmp_path, Role.viewer)
    assert client.get("/surveys/loop", headers=HTML).status_code == 403
    assert (
        client.post(
            "/surveys/loop/rules", data={"name": "x", "metric": "nps", "team": "t"}, headers=csrf
        ).status_code
        == 403
    )


def test_an_agent_sees_the_followups_but_cannot_change_rules(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, csrf = signed_in(app_store, tmp_path, Role.agent)
    page = client.get("/surveys/loop", headers=HTML)
    assert page.status_code == 200
    assert 'data-step="followed_up"' in page.text and "100% of unhappy" in page.text
    with app_store.session() as s:
        customer_id = s.fetch_value("SELECT customer_id FROM customers")
        case_id = s.fetch_value("SELECT case_id FROM cases")
    assert f'href="/customers/{customer_id}"' in page.text and case_id in page.text
    # The follow-up case opens: its entry on the customer's timeline, which carries that anchor.
    assert f'<a href="/customers/{customer_id}#item-{case_id}">{case_id}</a>' in page.text
    assert f'id="item-{case_id}"' in client.get(f"/customers/{customer_id}", headers=HTML).text
    assert "NPS 4" in page.text and "waiting" in page.text
    assert HOSTILE not in page.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "Add rule" not in page.text and "/disable" not in page.text
    refused = client.post(
        "/surveys/loop/rules", data={"name": "x", "metric": "nps", "team": "t"}, headers=csrf
    )
    assert refused.status_code == 403
    assert client.post("/surveys/loop/rules/detractors/disable", headers=csrf).status_code == 403
    assert "<script" not in page.text.split("</head>", 1)[1]  # no inline script in the body either (CSP)


def test_an_analyst_adds_and_disables_rules(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, csrf = signed_in(app_store, tmp_path, Role.analyst)
    page = client.get("/surveys/loop", headers=HTML).text
    assert "Add rule" in page and 'hx-post="/surveys/loop/rules"' in page
    form = {"name": "low-ces", "metric": "ces", "team": HOSTILE, "priority": "urgent", "resurvey": "on"}
    added = client.post("/surveys/loop/rules", data=form, headers=csrf)
    assert added.status_code == 200 and "Rule low-ces added" in added.text
    assert HOSTILE not in added.text and "&lt;img src=x" in added.text  # the team name is inert too
    with app_store.session() as s:
        rule = s.fetch_one(
            "SELECT max_score, priority, resurvey, team FROM loop_rules WHERE name = 'low-ces'"
        )
    assert rule == {"max_score": 3.0, "priority": "urgent", "resurvey": True, "team": HOSTILE}

    again = client.post("/surveys/loop/rules", data={**form, "max_score": "seven"}, headers=csrf)
    assert again.status_code == 200 and "must be a number" in again.text and 'value="low-ces"' in again.text
    duplicate = client.post("/surveys/loop/rules", data=form, headers=csrf)
    assert "exists already" in duplicate.text

    disabled = client.post("/surveys/loop/rules/detractors/disable", headers=csrf)
    assert disabled.status_code == 200 and "Rule detractors disabled" in disabled.text
    with app_store.session() as s:
        assert s.fetch_value("SELECT disabled_at IS NOT NULL FROM loop_rules WHERE name = 'detractors'")
    missing = client.post("/surveys/loop/rules/nope/disable", headers=csrf)
    assert "No follow-up rule named" in missing.text
    without_token = client.post("/surveys/loop/rules", data=form, headers=FRAGMENT)
    assert without_token.status_code == 403  # CSRF


def test_a_bad_period_is_told_plainly(app_store: DuckDBStore, tmp_path: Path) -> None:
    client, _ = signed_in(app_store, tmp_path, Role.analyst)
    page = client.get("/surveys/loop", params={"since": "yesterday"}, headers=HTML)
    assert page.status_code == 200 and "not an ISO date" in page.text
    later = client.get("/surveys/loop", params={"since": "2199-01-01"}, headers=HTML)
    assert "No follow-ups yet" in later.text
    beyond = client.get("/surveys/loop", params={"since": "2999-01-01"}, headers=HTML)
    assert beyond.status_code == 200 and "outside the supported range" in beyond.text
