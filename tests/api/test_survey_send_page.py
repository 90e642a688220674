"""The Send page of a survey: who may use it, planning invitations under the contact rule (the
scheduler, when there is one, is woken to send them), clear messages for bad input, triggers added
from the page, and customer text rendered inert."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import container_for
from tests.auth_helpers import api_token, bearer

from cxlens.auth.model import Role
from cxlens.automation.triggers import list_triggers
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.jobs.runner import JobRunner, PeriodicJob
from cxlens.jobs.survey_pass import SURVEY_JOB
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.service import create_survey, template_document
from cxlens.web.app import create_app

HTML = {"accept": "text/html"}


@pytest.fixture
def app_store(store: DuckDBStore) -> DuckDBStore:
    people = pa.table(
        {
            "user_id": ["u1", "u2", "u3"],
            "email": ["ana@example.com", "ben@example.com", None],
            "name": ["Ana", "Ben", "<img src=x onerror=alert(1)>"],
            "segment": ["vip", "vip", "vip"],
        }
    )
    assert import_table(store, "customers", people, options=ImportOptions()).imported == 3
    with store.unit_of_work() as uow:
        create_survey(uow, name="nps-q", document=template_document("nps"))
    return store


class CountingPass:
    """A stand-in survey pass that counts calls (sending itself is covered with a real SMTP server)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, int]:
        self.calls += 1
        return {}


def client_for(store: DuckDBStore, tmp_path: Path, role: Role, job: PeriodicJob | None = None) -> TestClient:
    container = container_for(store)
    if job is not None:  # the survey job, as bootstrap wires it when serving, with a stand-in pass
        container = replace(container, survey_job=job, runner=JobRunner([job]))
    app = create_app(container)
    return TestClient(app, headers={**bearer(api_token(store, role, name=f"{role}-t")), **HTML})


def test_only_roles_that_manage_surveys_may_send(app_store: DuckDBStore, tmp_path: Path) -> None:
    for role, status in ((Role.admin, 200), (Role.analyst, 200), (Role.agent, 403), (Role.viewer, 403)):
        client = client_for(app_store, tmp_path, role)
        assert client.get("/surveys/nps-q/send").status_code == status, role
        posted = client.post("/surveys/nps-q/send", data={"customers": "ana@example.com"})
        assert posted.status_code == status, role


def test_sending_plans_invitations_under_the_contact_rule_and_wakes_the_scheduler(
    app_store: DuckDBStore, tmp_path: Path
) -> None:
    counting = CountingPass()
    job = PeriodicJob(SURVEY_JOB, counting, interval=3600)
    with client_for(app_store, tmp_path, Role.analyst, job) as client:
        first = client.post("/surveys/nps-q/send", data={"customers": "ana@example.com\nu3"})
        assert "1 invitation planned, 1 held back" in first.text and "leave within seconds" in first.text
        again = client.post("/surveys/nps-q/send", data={"segment": "vip"})
        assert "1 invitation planned, 2 held back" in again.text  # Ana was just asked; u3 has no email
        page = client.get("/surveys/nps-q/send")
        assert page.text.count("contact frequency") == 1 and page.text.count("no address") == 2
        assert "<img src=x" not in page.text
        for _ in range(100):  # the page woke the survey job: a pass ran without the hour's wait
            if counting.calls:
                break
            time.sleep(0.05)
        assert counting.calls >= 1


def test_bad_input_gets_a_clear_message_and_plans_nothing(app_store: DuckDBStore, tmp_path: Path) -> None:
    client = client_for(app_store, tmp_path, Role.analyst)
    unknown = client.post("/surveys/nps-q/send", data={"customers": "nobody@example.com"})
    assert unknown.status_code == 200 and "0 invitations planned, 1 skipped" in unknown.text
    assert "no customer has this id or email" in unknown.text and "nobody@example.com" in unknown.text
    neither = client.post("/surveys/nps-q/send", data={})
    assert "Name customers" in neither.text
    bad_number = client.post("/surveys/nps-q/send", data={"customers": "u1", "remind_after_days": "soon"})
    assert "Remind after days must be a number" in bad_number.text
    with app_store.session() as s:
        assert s.fetch_value("SELECT count(*) FROM survey_invitations") == 0
    assert client.get("/surveys/nope/send").status_code == 404


def test_an_unknown_email_is_skipped_and_listed_while_the_others_are_invited(
    app_store: DuckDBStore, tmp_path: Path
) -> None:
    client = client_for(app_store, tmp_path, Role.analyst)
    sent = client.post(
        "/surveys/nps-q/send",
        data={"customers": "ana@example.com\nnobody@example.com\n<b>typo</b>@example\nben@example.com"},
    )
    assert "2 invitations planned, 2 skipped" in sent.text
    skipped = sent.text[sent.text.index("Skipped") :]
    assert skipped.count("<li>") == 2 and "nobody@example.com" in skipped
    assert "&lt;b&gt;typo&lt;/b&gt;@example" in skipped  # what was typed, escaped
    with app_store.session() as s:
        addresses = s.fetch_all(
            "SELECT address FROM survey_invitations WHERE status = 'scheduled' ORDER BY 1"
        )
    assert [a["address"] for a in addresses] == ["ana@example.com", "ben@example.com"]


def test_a_trigger_is_added_from_the_page(app_store: DuckDBStore, tmp_path: Path) -> None:
    client = client_for(app_store, tmp_path, Role.analyst)
    added = client.post(
        "/surveys/nps-q/triggers",
        data={"trigger_name": "nps-90", "kind": "every", "every_days": "90", "sample_rate": "0.5"},
    )
    assert "Trigger nps-90 added" in added.text
    refused = client.post("/surveys/nps-q/triggers", data={"trigger_name": "x", "kind": "interaction"})
    assert "needs --event" in refused.text
    with app_store.session() as s:
        assert [(t["name"], t["sample_rate"]) for t in list_triggers(s)] == [("nps-90", 0.5)]
    assert "nps-90" in client.get("/surveys/nps-q/send").text


def test_widgets_are_made_and_revoked_from_the_page_and_the_public_link_is_shown(
    app_store: DuckDBStore, tmp_path: Path
) -> None:
    client = client_for(app_store, tmp_path, Role.analyst)
    refused = client.post("/surveys/nps-q/widgets", data={"origins": "https://shop.example.com/path"})
    assert refused.status_code == 200 and "message error" in refused.text
    made = client.post(
        "/surveys/nps-q/widgets", data={"origins": "https://shop.example.com\nhttp://localhost:3000"}
    )
    key = re.search(r"data-key=&#34;(cxw_[\w-]+)&#34;", made.text) or re.search(
        r'data-key="(cxw_[\w-]+)"', made.text
    )
    assert key is not None, made.text
    assert "&lt;script src=" in made.text  # the tag is shown as text to copy, never run
    page = client.get("/surveys/nps-q/send").text
    assert key.group(1) in page and "https://shop.example.com, http://localhost:3000" in page
    assert re.search(r'href="http://127\.0\.0\.1:8000/p/srv_[0-9a-f]+"', page)  # the public link
    revoked = client.post(f"/surveys/nps-q/widgets/{key.group(1)}/revoke")
    assert "revoked" in revoked.text and key.group(1) not in client.get("/surveys/nps-q/send").text
    agent = client_for(app_store, tmp_path, Role.agent)
    assert agent.post("/surveys/nps-q/widgets", data={"origins": "https://a.example"}).status_code == 403
