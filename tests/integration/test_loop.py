"""Closing the loop on a real workspace: unhappy answers become one follow-up case each (with the
answer and the recent timeline), on the customer's timeline; a solved case re-surveys the customer
past the contact-frequency rule; the answer that follows decides whether they recovered."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from cxlens.automation.loop import (
    add_rule,
    disable_rule,
    list_rules,
    loop_summary,
    recent_followups,
    run_loop,
)
from cxlens.customers.service import merge_customers
from cxlens.errors import Conflict, InvalidInput, NotFound
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.interactions.queries import get_timeline
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.links import create_link
from cxlens.surveys.service import create_survey, template_document

HOSTILE = "Parcel <script>alert(1)</script> was late"


def table(rows: list[dict[str, Any]]) -> pa.Table:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return pa.table(
        {c: pa.array([None if r.get(c) is None else str(r[c]) for r in rows], pa.string()) for c in columns}
    )


def load(store: DuckDBStore, entity: str, rows: list[dict[str, Any]], source: str = "test") -> None:
    report = import_table(store, entity, table(rows), options=ImportOptions(source=source))
    assert report.rejected_count == 0, report.rejected


def at(t0: datetime, minutes: float) -> str:
    return (t0 + timedelta(minutes=minutes)).isoformat()


def answer(
    who: dict[str, str], t0: datetime, minutes: float, metric: str, score: int, **extra: Any
) -> dict[str, Any]:
    return {**who, "metric": metric, "score": score, "answered_at": at(t0, minutes), **extra}


@pytest.fixture
def world(store: DuckDBStore) -> datetime:
    """Surveys, two rules and the customers' history; returns the first rule's creation time."""
    people = [
        {"user_id": "u-ana", "email": "ana@example.com", "name": "Ana"},
        {"anonymous_id": "anon-ana"},
        {"user_id": "u-ben", "email": "ben@example.com", "name": "Ben"},
        {"user_id": "u-cleo", "email": "cleo@example.com"},
        {"user_id": "u-dan", "email": "dan@example.com"},
    ]
    for person in people:
        load(store, "customers", [person])
    with store.unit_of_work() as uow:
        create_survey(uow, name="nps-q", document=template_document("nps"))
        create_survey(uow, name="csat-q", document=template_document("csat"))
        t0 = add_rule(uow, name="detractors", metric="nps", survey="nps-q", team="care").created_at
        add_rule(uow, name="low-csat", metric="csat", team="support", priority="urgent")
        # The answer comes from Ana's anonymous profile, merged into her account: one customer.
        merge_customers(uow, winner_ref="u-ana", loser_ref="anon-ana", actor="tests")
    ana, anon = {"user_id": "u-ana"}, {"anonymous_id": "anon-ana"}
    history = [
        {**ana, "occurred_at": at(t0, m), "channel": "web", "name": f"Viewed page {m:02d}"}
        for m in range(1, 10)
    ]
    history.append({**anon, "occurred_at": at(t0, 10), "channel": "app", "name": "Order Delivered"})
    history.append(
        {**ana, "occurred_at": at(t0, 30), "channel": "web", "name": "Visited help"}
    )  # after the answer
    load(store, "interactions", history)
    load(
        store,
        "cases",
        [
            {
                **ana,
                "external_id": "T-1",
                "channel": "email",
                "status": "open",
                "subject": "Late parcel",
                "created_at": at(t0, 11),
            }
        ],
        "helpdesk",
    )
    load(
        store,
        "case_events",
        [
            {
                "case_external_id": "T-1",
                "occurred_at": at(t0, 12),
                "kind": "message",
                "direction": "in",
                "body": "Where is my parcel?",
            }
        ],
        "helpdesk",
    )
    load(
        store,
        "responses",
        [
            answer(
                anon,
                t0,
                20,
                "nps",
                3,
                survey="nps-q",
                channel="email",
                comment=HOSTILE,
                properties=json.dumps({"answers": {"detractor_comment": HOSTILE, "reason": ["delivery"]}}),
            ),
            answer({"user_id": "u-ben"}, t0, 21, "nps", 7, survey="nps-q"),  # passive
            answer({"user_id": "u-cleo"}, t0, 22, "nps", 10, survey="nps-q"),  # promoter
            answer({"user_id": "u-dan"}, t0, -24 * 60, "nps", 2, survey="nps-q"),  # before the rule
            answer({"user_id": "u-dan"}, t0, 23, "nps", 1, survey="other-nps"),  # another survey
            answer({"user_id": "u-ben"}, t0, 25, "csat", 1, survey="csat-q", channel="chat"),
        ],
        "survey-import",
    )
    return t0


def followup_cases(store: DuckDBStore) -> list[dict[str, Any]]:
    with store.session() as s:
        return s.fetch_all(
            "SELECT k.*, c.customer_id, f.response_key, f.resurvey_invitation_key FROM loop_followups f "
            "JOIN cases k USING (case_key) JOIN customers c ON c.customer_key = k.customer_key ORDER BY f.response_key"
        )


def test_unhappy_answers_become_one_case_each_with_answer_and_timeline(
    store: DuckDBStore, world: datetime
) -> None:
    t0 = world
    assert run_loop(store, contact_days=30, now=t0 + timedelta(hours=1))["followups_opened"] == 2
    assert run_loop(store, contact_days=30, now=t0 + timedelta(hours=1, minutes=5))["followups_opened"] == 0
    cases = followup_cases(store)
    with store.session() as s:
        assert s.fetch_value("SELECT count(*) FROM cases WHERE source = 'cxlens-loop'") == 2
        assert s.fetch_value("SELECT count(*) FROM case_events WHERE source = 'cxlens-loop'") == 2
        ana_id = s.fetch_value("SELECT customer_id FROM customers WHERE name = 'Ana'")
    nps, csat = cases
    assert nps["customer_id"] == ana_id  # the canonical profile, not the anonymous one that answered
    assert (nps["subject"], nps["status"], nps["priority"], nps["team"], nps["category"], nps["channel"]) == (
        "Follow up: NPS 3 — nps-q",
        "new",
        "high",
        "care",
        "survey_followup",
        "email",
    )
    assert (csat["subject"], csat["priority"], csat["team"], csat["channel"]) == (
        "Follow up: CSAT 1 — csat-q",
        "urgent",
        "support",
        "chat",
    )
    props = json.loads(nps["properties"])
    assert props["followup_of"] == f"rsp_{nps['response_key']}" and props["rule"] == "detractors"
    assert (props["metric"], props["score"], props["comment"], props["survey"]) == (
        "nps",
        3,
        HOSTILE,
        "nps-q",
    )
    assert props["answers"] == {"detractor_comment": HOSTILE, "reason": ["delivery"]}
    recent = props["recent_timeline"]
    assert [i["type"] for i in recent[:3]] == ["case_message", "case", "interaction"]
    assert [i["title"] for i in recent[2:]] == ["Order Delivered"] + [
        f"Viewed page {m:02d}" for m in range(9, 2, -1)
    ]
    assert recent[0]["text"] == "Where is my parcel?"
    with store.session() as s:
        note = s.fetch_one(
            "SELECT * FROM case_events e JOIN cases k USING (case_key) WHERE k.case_id = ?", [nps["case_id"]]
        )
        timeline = get_timeline(
            s, int(s.fetch_value("SELECT customer_key FROM customers WHERE name = 'Ana'")), limit=50
        ).items
    assert note is not None and (note["kind"], note["direction"], note["author"]) == (
        "message",
        "internal",
        "cxlens",
    )
    body = note["body"]
    assert "NPS 3 (scale 0–10) on survey nps-q" in body and HOSTILE in body
    assert "Where is my parcel?" in body and "Order Delivered" in body and "Viewed page 03" in body
    assert (
        "Viewed page 02" not in body and "Visited help" not in body
    )  # older than 10 items / after the answer
    followup = [i for i in timeline if i.case_id == nps["case_id"]]
    assert {i.type for i in followup} == {"case", "case_message"}  # on Ana's timeline


def test_a_pass_cut_short_is_completed_without_touching_the_cases(
    store: DuckDBStore, world: datetime
) -> None:
    t0 = world
    run_loop(store, contact_days=30, now=t0 + timedelta(hours=1))
    with store.unit_of_work() as uow:  # as if the pass had stopped after importing; a team took the case
        uow.execute("DELETE FROM loop_followups")
        uow.execute("UPDATE cases SET status = 'open', assignee = 'kim' WHERE source = 'cxlens-loop'")
    assert run_loop(store, contact_days=30, now=t0 + timedelta(hours=2))["followups_opened"] == 2
    assert [(c["status"], c["assignee"]) for c in followup_cases(store)] == [("open", "kim"), ("open", "kim")]
    with store.session() as s:
        assert s.fetch_value("SELECT count(*) FROM case_events WHERE source = 'cxlens-loop'") == 2


def solve(store: DuckDBStore, case: dict[str, Any], status: str, **when: str) -> None:
    """The helpdesk reports the follow-up case solved: same source and external id, new status."""
    row = {
        k: case[k]
        for k in ("external_id", "customer_id", "channel", "subject", "priority", "team", "category")
    }
    load(
        store,
        "cases",
        [{**row, "status": status, "created_at": case["created_at"].isoformat(), **when}],
        "cxlens-loop",
    )


def test_solved_followups_resurvey_and_recovery_is_counted(store: DuckDBStore, world: datetime) -> None:
    t0 = world
    run_loop(store, contact_days=30, now=t0 + timedelta(hours=1))
    nps, csat = followup_cases(store)
    with store.unit_of_work() as uow:  # Ana was asked recently: the contact rule would hold her back
        create_link(uow, survey="nps-q", customer="ana@example.com")
    solve(store, nps, "solved", solved_at=at(t0, 90))
    solve(store, csat, "closed")  # no solved_at: the moment the loop sees it solved counts
    assert followup_cases(store)[0]["status"] == "solved"

    planned = run_loop(store, contact_days=30, now=t0 + timedelta(hours=2))
    assert (planned["followups_opened"], planned["resurveys_planned"]) == (0, 2)
    assert run_loop(store, contact_days=30, now=t0 + timedelta(hours=2, minutes=5))["resurveys_planned"] == 0
    with store.session() as s:
        invitations = s.fetch_all(
            "SELECT i.invitation_key, v.name AS survey, i.status, i.touchpoint, i.subject, i.address, i.trigger_key "
            "FROM survey_invitations i JOIN surveys v USING (survey_key) ORDER BY i.invitation_key"
        )
    assert [
        (i["survey"], i["status"], i["touchpoint"], i["address"], i["trigger_key"]) for i in invitations
    ] == [
        ("nps-q", "scheduled", "followup", "ana@example.com", None),
        ("csat-q", "scheduled", "followup", "ben@example.com", None),
    ]
    assert [i["subject"] for i in invitations] == [
        f"followup-{nps['response_key']}",
        f"followup-{csat['response_key']}",
    ]
    assert [c["resurvey_invitation_key"] for c in followup_cases(store)] == [
        i["invitation_key"] for i in invitations
    ]

    with store.unit_of_work() as uow:  # what the sender does with scheduled invitations
        uow.execute("UPDATE survey_invitations SET status = 'sent', sent_at = ?", [t0 + timedelta(hours=2)])
    load(
        store,
        "responses",
        [
            answer({"user_id": "u-ana"}, t0, 170, "nps", 9, survey="nps-q"),
            answer({"user_id": "u-ben"}, t0, 175, "csat", 2, survey="csat-q"),  # still unhappy
            answer({"user_id": "u-ana"}, t0, 180, "nps", 2, survey="nps-q"),  # only the first answer counts
        ],
        "survey-import",
    )
    with store.session() as s:
        summary = loop_summary(s)
        rows = recent_followups(s, 10)
        late = loop_summary(s, since=t0 + timedelta(minutes=172))
    assert {
        k: summary[k]
        for k in ("unhappy", "followed_up", "solved", "resurveyed", "answered_again", "recovered")
    } == {
        "unhappy": 4,
        "followed_up": 2,
        "solved": 2,
        "resurveyed": 2,
        "answered_again": 2,
        "recovered": 1,
    }
    assert (summary["followed_up_rate"], summary["recovered_rate"]) == (0.5, 0.5)
    by_response = {r["response_id"]: r for r in rows}
    ana, ben = by_response[f"rsp_{nps['response_key']}"], by_response[f"rsp_{csat['response_key']}"]
    assert (ana["recovered"], ana["score_again"], ana["resurvey"], ana["case_status"]) == (
        "yes",
        9,
        "sent",
        "solved",
    )
    assert (ben["recovered"], ben["score_again"], ben["customer_id"]) == ("no", 2, csat["customer_id"])
    assert (late["unhappy"], late["followed_up"], late["followed_up_rate"]) == (2, 0, 0.0)

    # The answers still unhappy after the follow-up are followed up again.
    assert run_loop(store, contact_days=30, now=t0 + timedelta(hours=4))["followups_opened"] == 2


def test_rules_are_validated_and_a_disabled_rule_stops_following_up(
    store: DuckDBStore, world: datetime
) -> None:
    t0 = world
    with store.unit_of_work() as uow:
        assert add_rule(uow, name="ces-low", metric="ces", team="support", resurvey=False).max_score == 3
        disabled = disable_rule(uow, "detractors")
        for bad, message in [
            ({"name": "Bad Name", "metric": "nps"}, "not a valid rule name"),
            ({"name": "x", "metric": "clv"}, "Unknown metric"),
            ({"name": "x", "metric": "nps", "priority": "asap"}, "Unknown priority"),
            ({"name": "x", "metric": "nps", "max_score": 10}, "from 0 to 9"),
            ({"name": "x", "metric": "nps", "survey": "csat-q"}, "feeds csat, not nps"),
        ]:
            with pytest.raises(InvalidInput, match=message):
                add_rule(uow, team="care", **bad)
        with pytest.raises(Conflict, match="exists already"):
            add_rule(uow, name="low-csat", metric="csat", team="care")
        with pytest.raises(Conflict, match="disabled already"):
            disable_rule(uow, "detractors")
        with pytest.raises(NotFound):
            add_rule(uow, name="x", metric="nps", team="care", survey="no-such-survey")
    assert disabled.disabled_at is not None
    with store.session() as s:
        assert [r.name for r in list_rules(s)] == ["ces-low", "low-csat", "detractors"]
        assert loop_summary(s)["unhappy"] == 1  # the CSAT 1; the detractor's rule is off
    assert run_loop(store, contact_days=30, now=t0 + timedelta(hours=1))["followups_opened"] == 1
    assert [c["subject"] for c in followup_cases(store)] == ["Follow up: CSAT 1 — csat-q"]
