"""The composition root's wiring of background work: the store hands each committed transaction's
events to the bus, the bus wakes the survey job, and a rolled-back transaction wakes nothing.

The survey job's period is an hour here, so a follow-up case opened within the test can only come
from the wake-up that the recorded response's event caused, not from the catch-up sweep."""

from __future__ import annotations

import time

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import container_for
from tests.live_server import free_port

from cxlens.automation.loop import add_rule
from cxlens.core.events import DomainEvent
from cxlens.ingest.events import ResponsesRecorded
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.jobs.survey_pass import SURVEY_JOB
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.links import create_link
from cxlens.surveys.service import create_survey, template_document
from cxlens.web.app import create_app

AN_HOUR = 3600


@pytest.fixture
def linked(store: DuckDBStore) -> tuple[DuckDBStore, str]:
    """Ana has a personal NPS link, and a loop rule follows detractors up."""
    customers = pa.table({"user_id": ["u1"], "email": ["ana@example.com"], "name": ["Ana"]})
    assert import_table(store, "customers", customers, options=ImportOptions()).imported == 1
    with store.unit_of_work() as uow:
        create_survey(uow, name="nps-q", document=template_document("nps"))
        add_rule(uow, name="detractors", metric="nps", survey="nps-q", team="care")
        token = create_link(uow, survey="nps-q", customer="ana@example.com")["token"]
    return store, token


def serving(store: DuckDBStore) -> TestClient:
    """The app as ``cxlens serve`` builds it, the survey sweep an hour away; no SMTP server is
    needed (nothing is sent: the rule plans no re-survey), the port is closed to be sure."""
    container = container_for(
        store, serving=True, survey_scheduler_seconds=AN_HOUR, smtp_port=free_port(), smtp_timeout_seconds=2
    )
    return TestClient(create_app(container), follow_redirects=False)


def test_a_response_answered_in_the_app_wakes_the_loop_without_waiting_for_the_sweep(
    linked: tuple[DuckDBStore, str],
) -> None:
    store, token = linked
    with serving(store) as client:
        assert client.get("/health").json()["surveys"]["interval_seconds"] == AN_HOUR
        assert _followups(store) == 0
        done = client.post(f"/s/{token}", data={"nps_score": "2", "_action": "submit"})
        assert done.status_code == 200
        deadline = time.monotonic() + 60
        while _followups(store) == 0:  # the pass runs on the job's thread, soon after the commit
            assert time.monotonic() < deadline, "the recorded response did not wake the survey job"
            time.sleep(0.05)
    with store.session() as s:
        case = s.fetch_one("SELECT team, status FROM cases")
    assert case == {"team": "care", "status": "new"}


def _followups(store: DuckDBStore) -> int:
    with store.session() as s:
        return int(s.fetch_value("SELECT count(*) FROM cases"))


def test_events_reach_the_bus_after_commit_and_never_after_a_rollback(store: DuckDBStore) -> None:
    container = container_for(store, serving=True, survey_scheduler_seconds=AN_HOUR)
    seen: list[DomainEvent] = []
    container.bus.subscribe(DomainEvent, seen.append)
    job = container.survey_job
    assert job is not None and container.runner.job(SURVEY_JOB) is job  # not started: wakes stay pending

    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        uow.record(ResponsesRecorded(source="web", count=1))
        raise RuntimeError("the write failed")
    assert seen == [] and not job.woken

    with store.unit_of_work() as uow:
        uow.record(ResponsesRecorded(source="web", count=1))
        assert seen == [] and not job.woken  # nothing before COMMIT
    assert seen == [ResponsesRecorded(source="web", count=1)] and job.woken


def test_only_a_serving_container_has_background_jobs(store: DuckDBStore) -> None:
    quiet = container_for(store)
    assert quiet.live is None and quiet.survey_job is None and quiet.runner.stats() == {}
    busy = container_for(store, serving=True)
    assert set(busy.runner.stats()) == {"tracking", SURVEY_JOB}
