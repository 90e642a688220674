"""Answering a survey from a personal link: branching, partial saves, one recorded response on the
customer's timeline and in the metrics, replays recorded once, expiry, bad answers, rate limit."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import app_for

from cxlens.errors import InvalidInput, NotFound
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.interactions.queries import get_timeline
from cxlens.metrics.queries import run_metric
from cxlens.metrics.spec import make_query
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.links import create_link, open_link
from cxlens.surveys.service import create_survey, template_document

FRAGMENT = {"hx-request": "true", "accept": "text/html"}


@pytest.fixture
def linked(store: DuckDBStore) -> tuple[DuckDBStore, str]:
    customers = pa.table({"user_id": ["u1"], "email": ["ana@example.com"], "name": ["Ana"]})
    assert import_table(store, "customers", customers, options=ImportOptions()).imported == 1
    with store.unit_of_work() as uow:
        create_survey(uow, name="nps-q", document=template_document("nps"))
        token = create_link(uow, survey="nps-q", customer="ana@example.com", touchpoint="quarterly")["token"]
    return store, token


def client_for(store: DuckDBStore, tmp_path: Path) -> TestClient:
    return TestClient(app_for(store), follow_redirects=False)


def test_a_customer_answers_once_and_the_answer_lands_everywhere(
    linked: tuple[DuckDBStore, str], tmp_path: Path
) -> None:
    store, token = linked
    assert token.startswith("cxs_") and len(token) >= 4 + 32  # ≥ 192 bits, URL-safe
    client = client_for(store, tmp_path)
    page = client.get(f"/s/{token}", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.text.count('type="radio"') == 11  # 0..10
    assert "<textarea" not in page.text  # the follow-up waits for the score
    branched = client.post(f"/s/{token}", data={"nps_score": "3"}, headers=FRAGMENT)
    assert branched.status_code == 200 and "<textarea" in branched.text  # the detractor's "why?"
    with store.session() as s:
        assert open_link(s, token).answers == {"nps_score": 3}  # saved as given
    done = client.post(
        f"/s/{token}",
        data={"nps_score": "3", "_action": "submit", **_comment(branched.text, "Too slow <b>!</b>")},
    )
    assert done.status_code == 200 and "Too slow" not in done.text
    again = client.post(f"/s/{token}", data={"nps_score": "10", "_action": "submit"})  # replay
    assert again.status_code == 200
    with store.session() as s:
        rows = s.fetch_all("SELECT metric, score, comment, survey, touchpoint, channel FROM responses")
        assert rows == [
            {
                "metric": "nps",
                "score": 3.0,
                "comment": "Too slow <b>!</b>",
                "survey": "nps-q",
                "touchpoint": "quarterly",
                "channel": "email",
            }
        ]
        ana = s.fetch_value("SELECT customer_key FROM identities WHERE value = 'ana@example.com'")
        assert any(item.type == "response" for item in get_timeline(s, int(ana)).items)
        assert run_metric(s, make_query("nps", min_n=1)).rows[0]["n"] == 1


def _comment(form_html: str, text: str) -> dict[str, str]:
    """The visible comment question's field name, read from the rendered form."""
    name = form_html.split("<textarea", 1)[1].split('name="', 1)[1].split('"', 1)[0]
    return {name: text}


def test_bad_answers_unknown_and_expired_links(linked: tuple[DuckDBStore, str], tmp_path: Path) -> None:
    store, token = linked
    client = client_for(store, tmp_path)
    bad = client.post(
        f"/s/{token}", data={"nps_score": "11", "_action": "submit"}, headers={"accept": "text/html"}
    )
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    missing = client.post(f"/s/{token}", data={"_action": "submit"}, headers={"accept": "text/html"})
    assert missing.status_code == 400
    unknown = client.get("/s/cxs_not-a-real-token", headers={"accept": "text/html"})
    assert unknown.status_code == 404 and "expired or does not exist" in unknown.text
    with store.unit_of_work() as uow:
        short = create_link(uow, survey="nps-q", customer="ana@example.com", days=1 / 86400)["token"]
    time.sleep(1.2)
    assert client.get(f"/s/{short}", headers={"accept": "text/html"}).status_code == 404
    with store.session() as s, pytest.raises(NotFound):
        open_link(s, short)
    with store.session() as s:
        assert s.fetch_value("SELECT count(*) FROM responses") == 0


def test_public_answer_pages_are_rate_limited(linked: tuple[DuckDBStore, str], tmp_path: Path) -> None:
    store, token = linked
    client = TestClient(app_for(store, survey_answers_per_minute=3), follow_redirects=False)
    answers = [client.get(f"/s/{token}", headers={"accept": "text/html"}).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_a_link_on_a_channel_a_response_cannot_hold_is_refused_before_it_exists(
    linked: tuple[DuckDBStore, str],
) -> None:
    store, _ = linked
    with store.unit_of_work() as uow, pytest.raises(InvalidInput, match="Unknown channel 'pigeon'"):
        create_link(uow, survey="nps-q", customer="ana@example.com", channel="pigeon")
