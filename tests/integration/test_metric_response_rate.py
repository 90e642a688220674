"""``response_rate`` on a hand-made distribution: of the survey invitations sent, the share whose
personal link was answered. Scheduled, held-back and failed invitations, partial saves and links
sent without an invitation must not count.

Ten invitations were sent (customers u1..u10, invitation i to customer ui), four were answered:

| # | sent (UTC)        | channel | survey | trigger     | segment    | plan | answered              |
|---|-------------------|---------|--------|-------------|------------|------|-----------------------|
| 1 | 2024-01-05        | email   | nps-q  | quarterly   | smb        | pro  | yes                   |
| 2 | 2024-01-12        | email   | nps-q  | quarterly   | smb        | pro  | yes                   |
| 3 | 2024-01-20        | email   | nps-q  | manual      | smb        | pro  | no (a partial save)   |
| 4 | 2024-01-25        | sms     | csat-q | case-solved | enterprise | pro  | yes                   |
| 5 | 2024-01-31 23:30  | email   | csat-q | manual      | enterprise | free | no                    |
| 6 | 2024-01-31 12:00  | sms     | csat-q | manual      | enterprise | free | no                    |
| 7 | 2024-02-01 00:00  | email   | nps-q  | quarterly   | enterprise | free | yes (in March)        |
| 8 | 2024-02-10        | email   | nps-q  | quarterly   | enterprise | free | no                    |
| 9 | 2024-02-14        | email   | csat-q | manual      | enterprise | free | no                    |
|10 | 2024-02-20        | email   | csat-q | manual      | enterprise | free | no                    |

Not counted: #11 scheduled (not sent yet), #12 and #13 suppressed (contact frequency, no address),
#14 failed (SMTP error), and an answered link u1 got by hand, without an invitation.

Wilson interval, z = 1.959964 (z² = 3.841459):
    centre = (p + z²/2n) / (1 + z²/n),  half = z/(1 + z²/n) · sqrt(p(1 − p)/n + z²/4n²)
* 4/10: centre = (0.4 + 0.192073)/1.384146 = 0.427753, half = 1.416009 · sqrt(0.024 + 0.009604)
  = 0.259573 → [16.818, 68.733]
* 3/6 (January): centre 0.5, half = 1.194923 · sqrt(0.041667 + 0.026677) = 0.312384 → [18.762, 81.238]
* 1/4 (February): centre = (0.25 + 0.480182)/1.960365 = 0.372472,
  half = 0.999795 · sqrt(0.046875 + 0.060023) = 0.326886 → [4.559, 69.936]
Two-proportion test, February (1/4) against January (3/6): pooled 4/10, SE = sqrt(0.24 · (1/4 + 1/6))
= sqrt(0.1) = 0.316228, z = (0.25 − 0.5)/0.316228 = −0.790569, p = 2Φ(−0.790569) = 0.429195.
nps-q (3/5) against the rest, csat-q (1/5): SE = sqrt(0.24 · 2/5) = 0.309839, z = 0.4/0.309839 =
1.290994, p = 0.196706; chi-square on [[3, 2], [1, 4]] = z² = 1.666667, same p.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import app_for
from tests.auth_helpers import api_token, bearer
from tests.live_server import CXLENS

import cxlens
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.service import create_survey, template_document

FIELDS = (
    "number",
    "status",
    "reason",
    "sent_at",
    "channel",
    "survey",
    "trigger_name",
    "answered_at",
    "answers",
)
INVITATIONS = [
    (1, "sent", None, "2024-01-05T10:00:00Z", "email", "nps-q", "quarterly", "2024-01-06T10:00:00Z", None),
    (2, "sent", None, "2024-01-12T10:00:00Z", "email", "nps-q", "quarterly", "2024-01-12T11:00:00Z", None),
    (3, "sent", None, "2024-01-20T10:00:00Z", "email", "nps-q", None, None, '{"nps_score": 9}'),
    (4, "sent", None, "2024-01-25T10:00:00Z", "sms", "csat-q", "case-solved", "2024-01-26T10:00:00Z", None),
    (5, "sent", None, "2024-01-31T23:30:00Z", "email", "csat-q", None, None, None),
    (6, "sent", None, "2024-01-31T12:00:00Z", "sms", "csat-q", None, None, None),
    (7, "sent", None, "2024-02-01T00:00:00Z", "email", "nps-q", "quarterly", "2024-03-02T10:00:00Z", None),
    (8, "sent", None, "2024-02-10T10:00:00Z", "email", "nps-q", "quarterly", None, None),
    (9, "sent", None, "2024-02-14T10:00:00Z", "email", "csat-q", None, None, None),
    (10, "sent", None, "2024-02-20T10:00:00Z", "email", "csat-q", None, None, None),
    (11, "scheduled", None, None, "email", "nps-q", "quarterly", None, None),
    (12, "suppressed", "contact_frequency", None, "email", "nps-q", "quarterly", None, None),
    (13, "suppressed", "no_address", None, "email", "csat-q", None, None, None),
    (14, "failed", "550 mailbox unavailable", None, "email", "csat-q", "case-solved", None, None),
]


def _customers() -> pa.Table:
    users = [f"u{i}" for i in range(1, 11)]
    return pa.table(
        {
            "user_id": users,
            "segment": ["smb"] * 3 + ["enterprise"] * 7,
            "plan": ["pro"] * 4 + ["free"] * 6,
        }
    )


def _distribute(store: DuckDBStore) -> None:
    """Surveys through the service; triggers, links and invitations as the sender leaves them."""
    with store.unit_of_work() as uow:
        create_survey(uow, name="nps-q", document=template_document("nps"))
        create_survey(uow, name="csat-q", document=template_document("csat"))
        uow.execute(
            "INSERT INTO survey_triggers (trigger_key, name, survey_key, kind, event, every_days, delay_minutes, "
            "sample_rate, touchpoint, remind_after_days, created_at) "
            "SELECT t.key, t.name, s.survey_key, t.kind, NULL, t.every_days, 60, 1, NULL, NULL, "
            "TIMESTAMPTZ '2023-12-01 00:00:00+00' "
            "FROM (VALUES (1, 'quarterly', 'nps-q', 'every', 90.0), (2, 'case-solved', 'csat-q', 'case_solved', NULL)) "
            "t(key, name, survey, kind, every_days) JOIN surveys s ON s.name = t.survey"
        )
        uow.put_arrow("planned", pa.Table.from_pylist([_planned(row) for row in INVITATIONS]))
        planned = (
            "SELECT p.*, x.customer_key, s.survey_key, t.trigger_key FROM planned p "
            "JOIN identities x ON x.value = p.user_id JOIN surveys s ON s.name = p.survey "
            "LEFT JOIN survey_triggers t ON t.name = p.trigger_name"
        )
        uow.execute(
            "INSERT INTO survey_links (link_key, survey_key, customer_key, token_hash, channel, touchpoint, answers, "
            "created_at, expires_at, answered_at) "
            "SELECT number, survey_key, customer_key, 'hash-' || number, channel, NULL, CAST(answers AS JSON), "
            "CAST(sent_at AS TIMESTAMPTZ), CAST(sent_at AS TIMESTAMPTZ) + INTERVAL 60 DAY, "
            f"CAST(answered_at AS TIMESTAMPTZ) FROM ({planned}) WHERE status = 'sent'"
        )
        uow.execute(  # answered, but asked by hand (cxlens surveys link): no invitation, not counted
            "INSERT INTO survey_links (link_key, survey_key, customer_key, token_hash, channel, created_at, "
            "expires_at, answered_at) SELECT 99, s.survey_key, x.customer_key, 'hash-99', 'email', "
            "TIMESTAMPTZ '2024-01-07 10:00:00+00', TIMESTAMPTZ '2024-03-07 10:00:00+00', "
            "TIMESTAMPTZ '2024-01-08 10:00:00+00' FROM surveys s, identities x WHERE s.name = 'nps-q' AND x.value = 'u1'"
        )
        uow.execute(
            "INSERT INTO survey_invitations (invitation_key, survey_key, customer_key, channel, touchpoint, "
            "trigger_key, subject, address, status, reason, send_after, link_key, attempts, sent_at, created_at) "
            "SELECT number, survey_key, customer_key, channel, NULL, trigger_key, 'subject-' || number, "
            "user_id || '@example.com', status, reason, "
            "coalesce(CAST(sent_at AS TIMESTAMPTZ), TIMESTAMPTZ '2024-02-25 10:00:00+00'), "
            "CASE WHEN status = 'sent' THEN number END, CASE WHEN status = 'scheduled' THEN 0 ELSE 1 END, "
            f"CAST(sent_at AS TIMESTAMPTZ), TIMESTAMPTZ '2024-01-01 00:00:00+00' FROM ({planned})"
        )


def _planned(row: tuple[Any, ...]) -> dict[str, Any]:
    """A fixture row, addressed to its customer (#11..#14 go to u1..u4)."""
    number = row[0]
    return {"user_id": f"u{number if number <= 10 else number - 10}", **dict(zip(FIELDS, row, strict=True))}


@pytest.fixture
def workspace(store: DuckDBStore, db_path: Path) -> Iterator[Any]:
    assert import_table(store, "customers", _customers(), options=ImportOptions()).imported == 10
    _distribute(store)
    store.close()
    with cxlens.open(db_path, memory_limit="1GB", metrics_min_n=1) as ws:
        yield ws


def interval(row: dict[str, Any]) -> tuple[float, float]:
    return round(row["ci_low"], 3), round(row["ci_high"], 3)


def by(result: Any, dim: str) -> dict[str, tuple[int, float, int]]:
    return {r[dim]: (r["n"], r["value"], r["components"]["answered"]) for r in result.rows}


def test_the_share_of_sent_invitations_answered(workspace: Any) -> None:
    [row] = workspace.metric("response_rate").rows
    assert (row["n"], row["value"]) == (10, 40.0)
    assert row["components"] == {"sent": 10, "answered": 4}
    assert interval(row) == (16.818, 68.733)
    assert row["previous_value"] is None and row["p_value"] is None


def test_by_survey_channel_trigger_and_customer(workspace: Any) -> None:
    assert by(workspace.metric("response_rate", by=["survey"]), "survey") == {
        "nps-q": (5, 60.0, 3),
        "csat-q": (5, 20.0, 1),
    }
    assert by(workspace.metric("response_rate", by=["channel"]), "channel") == {
        "email": (8, 37.5, 3),
        "sms": (2, 50.0, 1),
    }
    assert by(workspace.metric("response_rate", by=["trigger"]), "trigger") == {
        "quarterly": (4, 75.0, 3),
        "case-solved": (1, 100.0, 1),
        "manual": (5, 0.0, 0),
    }
    segments = by(workspace.metric("response_rate", by=["segment"]), "segment")
    assert segments == {
        "smb": (3, pytest.approx(200 / 3, abs=1e-4), 2),
        "enterprise": (7, pytest.approx(200 / 7, abs=1e-4), 2),
    }
    plans = by(workspace.metric("response_rate", by=["customer:plan"]), "customer:plan")
    assert plans == {"pro": (4, 75.0, 3), "free": (6, pytest.approx(100 / 6, abs=1e-4), 1)}
    quarterly_email = workspace.metric("response_rate", where={"trigger": "quarterly", "channel": "email"})
    assert [(r["n"], r["value"]) for r in quarterly_email.rows] == [(4, 75.0)]


def test_by_month_with_the_change_and_its_two_proportion_test(workspace: Any) -> None:
    january, february = workspace.metric("response_rate", grain="month").rows
    assert (january["period"].isoformat()[:7], january["n"], january["value"]) == ("2024-01", 6, 50.0)
    assert interval(january) == (18.762, 81.238) and january["change"] is None
    # #7 was sent at midnight on 1 February and answered in March: it counts in February.
    assert (february["period"].isoformat()[:7], february["n"], february["value"]) == ("2024-02", 4, 25.0)
    assert interval(february) == (4.559, 69.936)
    assert (february["previous_value"], february["change"]) == (50.0, -25.0)
    assert february["p_value"] == pytest.approx(0.429195, abs=1e-6)
    assert february["significant"] is False
    # A window compares with the equally long window before it (3 Jan – 1 Feb: January's six).
    [window] = workspace.metric("response_rate", since="2024-02-01", until="2024-03-01").rows
    assert (window["n"], window["previous_value"]) == (4, 50.0)
    assert window["p_value"] == pytest.approx(0.429195, abs=1e-6)


def test_against_the_rest_and_consistency(workspace: Any) -> None:
    rows = {r["survey"]: r for r in workspace.compare("response_rate", by="survey", min_n=1)}
    nps = rows["nps-q"]
    assert (nps["n"], nps["value"], nps["rest_n"], nps["rest_value"]) == (5, 60.0, 5, 20.0)
    assert nps["difference"] == 40.0 and nps["p_value"] == pytest.approx(0.196706, abs=1e-6)
    assert nps["q_value"] == pytest.approx(0.196706, abs=1e-6)
    spread = workspace.consistency("response_rate", by="survey")
    assert spread["test"] == "chi-square" and spread["n"] == 10
    assert spread["statistic"] == pytest.approx(5 / 3, abs=1e-6)
    assert spread["p_value"] == pytest.approx(0.196706, abs=1e-6)
    assert (spread["lowest"], spread["highest"], spread["spread"]) == ("csat-q", "nps-q", 40.0)


def test_listed_with_its_definition(workspace: Any) -> None:
    [listed] = [m for m in workspace.metrics() if m["metric"] == "response_rate"]
    assert listed["title"] == "Response rate" and "invitations sent" in listed["definition"]
    assert listed["dimensions"] == ["channel", "touchpoint", "survey", "trigger", "segment", "stage"]
    assert listed["comparison_test"] == "two-proportion z-test"


def test_cli_rest_and_explorer_answer(workspace: Any, db_path: Path) -> None:
    client = TestClient(
        app_for(workspace.store, metrics_min_n=5),
        headers=bearer(api_token(workspace.store)),
    )
    assert "response_rate" in {m["metric"] for m in client.get("/api/metrics").json()["items"]}
    body = client.get("/api/metrics/response_rate", params={"by": "trigger"}).json()
    assert body["test"] == "two-proportion z-test"
    assert {r["trigger"]: r["n"] for r in body["rows"]} == {"quarterly": 4, "case-solved": 1, "manual": 5}
    page = client.get(
        "/explore", params={"metric": "response_rate", "by": "trigger"}, headers={"accept": "text/html"}
    )
    assert page.status_code == 200 and ">Response rate</option>" in page.text and "manual" in page.text
    workspace.close()
    shown = subprocess.run(
        [*CXLENS, "metrics", "response_rate", "--by", "survey", "--format", "json", "--db", str(db_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(shown.stdout)
    assert answer["metric"] == "response_rate" and answer["unit"] == "% of invitations sent"
    assert {r["survey"]: (r["n"], r["value"]) for r in answer["rows"]} == {
        "nps-q": (5, 60.0),
        "csat-q": (5, 20.0),
    }
