"""Triggers driven by real traffic: events arrive through the Segment-compatible tracking API (real
spool and processor), cases through the import pipeline; the survey pass plans and sends over a
real SMTP server. Checks who is invited, who is protected by the contact-frequency rule, the delay,
deterministic sampling, and the every-N-days relationship survey."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import container_for, with_live
from tests.smtp_server import PASSWORD, USER, SmtpServer, smtp_server

from cxlens.automation.triggers import add_trigger, list_triggers, run_triggers
from cxlens.bootstrap import send_config, smtp_settings
from cxlens.config import Settings
from cxlens.errors import InvalidInput
from cxlens.ingest.live import LiveConfig, LiveIngest
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.jobs.survey_pass import SchedulerConfig, run_pass
from cxlens.sources.service import create_source
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.storage.spool import Spool
from cxlens.surveys.invitations import invite_customers
from cxlens.surveys.service import create_survey, template_document
from cxlens.web.app import create_app


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def workspace(store: DuckDBStore) -> DuckDBStore:
    with store.unit_of_work() as uow:
        for name, template in (
            ("ces-delivery", "ces"),
            ("csat-support", "csat"),
            ("nps-relationship", "nps"),
        ):
            create_survey(uow, name=name, document=template_document(template))
    return store


def config_for(smtp: SmtpServer, contact_days: float = 30) -> SchedulerConfig:
    return SchedulerConfig(
        smtp=replace(
            smtp_settings(Settings()),
            host=smtp.host,
            port=smtp.port,
            username=USER,
            password=PASSWORD,
            tls_context=smtp.client_tls(),
        ),
        send=replace(send_config(Settings()), public_url="http://cx.test", sender="feedback@acme.test"),
        contact_days=contact_days,
    )


def track_through_the_api(store: DuckDBStore, tmp_path: Path, events: list[dict[str, Any]]) -> None:
    """POST the events to /v1/batch with a source's write key and wait until they are applied."""
    with store.unit_of_work() as uow:
        key = create_source(uow, "shop").write_key
    live = LiveIngest(store, Spool(tmp_path / "spool"), LiveConfig(interval_seconds=0.05))
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    with TestClient(create_app(with_live(container_for(store), live))) as client:
        for start in range(0, len(events), 500):
            batch = events[start : start + 500]
            assert client.post("/v1/batch", json={"batch": batch}, headers=auth).status_code == 200
        deadline = time.monotonic() + 60
        while client.get("/health").json()["tracking"]["backlog_events"]:
            assert time.monotonic() < deadline, "events were not applied within 60 s"
            time.sleep(0.05)


def delivered(user: str, at: datetime, event: str = "Order Delivered") -> dict[str, Any]:
    return {"type": "track", "userId": user, "event": event, "timestamp": at.isoformat()}


def identified(user: str) -> dict[str, Any]:
    return {"type": "identify", "userId": user, "traits": {"email": f"{user}@example.com"}}


def invited(store: DuckDBStore) -> dict[str, tuple[str, str | None]]:
    with store.session() as s:
        rows = s.fetch_all(
            "SELECT x.value AS user_id, i.status, i.reason FROM survey_invitations i "
            "JOIN customers c ON c.canonical_key = i.customer_key "
            "JOIN identities x ON x.customer_key = c.customer_key AND x.kind = 'user_id' ORDER BY i.invitation_key"
        )
    return {r["user_id"]: (r["status"], r["reason"]) for r in rows}


def test_deliveries_invite_once_and_the_contact_rule_protects_customers_asked_recently(
    workspace: DuckDBStore, smtp: SmtpServer, tmp_path: Path
) -> None:
    start = datetime.now(UTC)
    with workspace.unit_of_work() as uow:
        add_trigger(
            uow, name="ces-after-delivery", survey="ces-delivery", kind="interaction", event="Order Delivered"
        )
    moment = start + timedelta(seconds=1)
    events = [
        *(identified(u) for u in ("u1", "u2", "u3", "u4")),
        delivered("u1", moment),
        delivered("u1", moment + timedelta(seconds=1)),  # a second parcel the same day: asked once
        delivered("u2", moment),
        delivered("u3", moment),
        delivered("u4", moment, event="Order Completed"),  # not the trigger's moment
    ]
    track_through_the_api(workspace, tmp_path, events)
    # u2 answered an NPS survey sent by hand yesterday: protected for 30 days.
    with workspace.unit_of_work() as uow:
        nps = int(uow.fetch_value("SELECT survey_key FROM surveys WHERE name = 'nps-relationship'"))
        invite_customers(
            uow, survey_key=nps, refs=["u2@example.com"], contact_days=30, now=start - timedelta(days=1)
        )
    config = config_for(smtp)
    after = moment + timedelta(seconds=5)  # the deliveries are due (sent with no delay)
    outcome = run_pass(workspace, config, after)
    assert (outcome["planned"], outcome["held_back"], outcome["sent"]) == (2, 2, 3)  # u2's NPS is due too
    assert invited(workspace) == {
        "u1": ("suppressed", "contact_frequency"),  # the second delivery; the first one was sent
        "u2": ("suppressed", "contact_frequency"),
        "u3": ("sent", None),
    }
    with workspace.session() as s:
        per_user = s.fetch_all(
            "SELECT x.value AS user_id, count(*) FILTER (WHERE i.status = 'sent') AS sent, v.name AS survey "
            "FROM survey_invitations i JOIN surveys v USING (survey_key) JOIN customers c ON c.canonical_key = "
            "i.customer_key JOIN identities x ON x.customer_key = c.customer_key AND x.kind = 'user_id' "
            "GROUP BY ALL HAVING count(*) FILTER (WHERE i.status = 'sent') > 0 ORDER BY user_id"
        )
    assert per_user == [
        {"user_id": "u1", "sent": 1, "survey": "ces-delivery"},
        {"user_id": "u2", "sent": 1, "survey": "nps-relationship"},
        {"user_id": "u3", "sent": 1, "survey": "ces-delivery"},
    ]
    assert sorted(m["To"] for m in smtp.inbox.wait_for(3)) == [
        "u1@example.com",
        "u2@example.com",
        "u3@example.com",
    ]
    # Passes repeat without planning anything twice.
    assert run_pass(workspace, config, after)["planned"] == 0
    with workspace.session() as s:
        row = next(r for r in list_triggers(s) if r["name"] == "ces-after-delivery")
    assert (row["sent"], row["held_back"]) == (2, 2)


def test_a_solved_case_asks_for_csat_after_the_delay_but_not_for_cases_solved_before_the_trigger(
    workspace: DuckDBStore, smtp: SmtpServer
) -> None:
    now = datetime.now(UTC)
    with workspace.unit_of_work() as uow:
        add_trigger(
            uow,
            name="csat-after-solve",
            survey="csat-support",
            kind="case_solved",
            delay_minutes=120,
            now=now - timedelta(hours=1),
        )
    cases = pa.table(
        {
            "email": ["old@example.com", "new@example.com", "open@example.com"],
            "external_id": ["T-1", "T-2", "T-3"],
            "channel": ["email", "chat", "chat"],
            "status": ["solved", "solved", "open"],
            "created_at": [(now - timedelta(hours=h)).isoformat() for h in (5, 2, 1)],
            "solved_at": [(now - timedelta(hours=2)).isoformat(), now.isoformat(), None],
        }
    )
    assert import_table(workspace, "cases", cases, options=ImportOptions(source="helpdesk")).imported == 3
    config = config_for(smtp)
    first = run_pass(workspace, config, now)
    assert (first["planned"], first["sent"]) == (1, 0)  # new@ only, and not before two hours
    with workspace.session() as s:
        planned = s.fetch_one("SELECT address, touchpoint, send_after FROM survey_invitations")
    assert planned == {
        "address": "new@example.com",
        "touchpoint": "case_solved",
        "send_after": planned["send_after"],
    }
    assert abs(planned["send_after"] - (now + timedelta(hours=2))) < timedelta(seconds=1)
    assert run_pass(workspace, config, now + timedelta(hours=2, seconds=1))["sent"] == 1
    message = smtp.inbox.wait_for(1)[0]
    assert message["To"] == "new@example.com"


def test_sampling_is_deterministic_and_close_to_the_rate(workspace: DuckDBStore) -> None:
    now = datetime.now(UTC)
    with workspace.unit_of_work() as uow:
        add_trigger(
            uow,
            name="ces-sampled",
            survey="ces-delivery",
            kind="interaction",
            event="Order Delivered",
            sample_rate=0.25,
            now=now - timedelta(hours=1),
        )
    people = [f"p{i}" for i in range(800)]
    rows = pa.table(
        {
            "user_id": people,
            "email": [f"{p}@example.com" for p in people],
            "occurred_at": [now.isoformat()] * len(people),
            "channel": ["web"] * len(people),
            "name": ["Order Delivered"] * len(people),
        }
    )
    import_table(workspace, "interactions", rows, options=ImportOptions(source="shop"))
    with workspace.unit_of_work() as uow:
        planned = run_triggers(uow, contact_days=30, now=now).scheduled
    # 25% of 800 = 200; a binomial's 99.9% range is about ±40.
    assert 160 <= planned <= 240
    with workspace.unit_of_work() as uow:
        assert run_triggers(uow, contact_days=30, now=now).scheduled == 0  # the others stay out


def test_every_n_days_asks_each_active_customer_once_per_period(workspace: DuckDBStore) -> None:
    now = datetime.now(UTC)
    with workspace.unit_of_work() as uow:
        add_trigger(
            uow,
            name="nps-every",
            survey="nps-relationship",
            kind="every",
            every_days=2,
            now=now - timedelta(days=2),
        )
    active = pa.table(
        {
            "user_id": ["a1", "a2", "a3"],
            "email": ["a1@example.com", "a2@example.com", "a3@example.com"],
            "occurred_at": [now.isoformat()] * 3,
            "channel": ["app"] * 3,
            "name": ["Opened App"] * 3,
        }
    )
    import_table(workspace, "interactions", active, options=ImportOptions(source="app"))
    with workspace.unit_of_work() as uow:
        assert run_triggers(uow, contact_days=1, now=now).scheduled == 3
        assert run_triggers(uow, contact_days=1, now=now + timedelta(hours=1)).scheduled == 0  # same period
    # Two days on, a new period: those still active (a1, a2 came back) are asked again, as the
    # 1-day contact rule allows; a3, last seen before the period, is not.
    later = now + timedelta(days=2, hours=1)
    back = active.slice(0, 2).set_column(2, "occurred_at", pa.array([later.isoformat()] * 2))
    import_table(workspace, "interactions", back, options=ImportOptions(source="app"))
    with workspace.unit_of_work() as uow:
        assert run_triggers(uow, contact_days=1, now=later).scheduled == 2


def test_bad_trigger_settings_are_refused_with_every_problem(workspace: DuckDBStore) -> None:
    with workspace.unit_of_work() as uow, pytest.raises(InvalidInput) as refused:
        add_trigger(uow, name="x", survey="ces-delivery", kind="interaction", sample_rate=0, every_days=3)
    messages = [p["message"] for p in refused.value.data["problems"]]
    assert (
        len(messages) == 3
        and any("--event" in m for m in messages)
        and any("--sample" in m for m in messages)
    )
