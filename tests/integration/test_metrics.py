"""Metrics on a real workspace against hand-computed fixtures: slicing, grains, filters, windows,
comparisons, flags, conversions; and the CLI."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats as sps
from tests.auth_helpers import api_token, bearer
from tests.live_server import CXLENS

import cxlens
from cxlens.errors import InvalidInput
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore


def responses(rows: list[tuple[str, str, float, str]]) -> pa.Table:
    """(metric, channel, score, answered_at) rows, one customer each."""
    return pa.table(
        {
            "user_id": [f"u{i}" for i in range(len(rows))],
            "metric": [r[0] for r in rows],
            "channel": [r[1] for r in rows],
            "score": [str(r[2]) for r in rows],
            "answered_at": [r[3] for r in rows],
        }
    )


def nps_rows(
    channel: str, month: str, promoters: int, passives: int, detractors: int
) -> list[tuple[str, str, float, str]]:
    scores = [10.0] * promoters + [8.0] * passives + [3.0] * detractors
    return [("nps", channel, s, f"{month}-15T12:00:00Z") for s in scores]


@pytest.fixture
def workspace(store: DuckDBStore, db_path: Path) -> Any:
    rows = (
        nps_rows("web", "2024-01", 50, 30, 20)  # NPS 30, CI 14.05..44.20
        + nps_rows("web", "2024-02", 9, 1, 1)
        + nps_rows("app", "2024-02", 3, 4, 3)
        + [("csat", "email", s, "2024-02-10T09:00:00Z") for s in (5, 5, 4, 4, 4, 4, 4, 4, 2, 1)]  # 8/10
        + [("ces", "phone", s, "2024-02-11T09:00:00Z") for s in (3, 5, 5, 7)]  # mean 5
    )
    report = import_table(store, "responses", responses(rows), options=ImportOptions())
    assert report.imported == len(rows)
    store.close()
    with cxlens.open(db_path, memory_limit="1GB") as ws:
        yield ws


def only(result: Any, **match: Any) -> dict[str, Any]:
    found = [r for r in result.rows if all(str(r[k])[: len(str(v))] == str(v) for k, v in match.items())]
    assert len(found) == 1, (match, result.rows)
    return found[0]


def test_nps_by_channel_and_month_with_intervals_and_change(workspace: Any) -> None:
    result = workspace.metric("nps", by=["channel"], grain="month", min_n=5)
    january = only(result, channel="web", period="2024-01")
    assert (january["n"], january["value"]) == (100, 30.0)
    assert (round(january["ci_low"], 2), round(january["ci_high"], 2)) == (14.05, 44.20)
    assert january["components"]["promoters"] == 50 and january["change"] is None
    february = only(result, channel="web", period="2024-02")
    assert february["value"] == pytest.approx(72.727, abs=1e-3)
    assert february["previous_value"] == 30.0 and february["change"] == pytest.approx(42.727, abs=1e-3)
    assert 0 < february["p_value"] < 1
    app = only(result, channel="app", period="2024-02")
    assert app["previous_value"] is None  # no January for app: nothing to compare with


def test_small_groups_are_flagged_and_never_significant(workspace: Any) -> None:
    result = workspace.metric("nps", by=["channel"], grain="month")  # default minimum n = 30
    february = only(result, channel="web", period="2024-02")
    assert february["flags"] == ["small_n"] and february["significant"] is False


def test_csat_ces_and_counts(workspace: Any) -> None:
    csat = workspace.metric("csat").rows[0]
    assert (csat["n"], csat["value"]) == (10, 80.0)
    assert (round(csat["ci_low"], 2), round(csat["ci_high"], 2)) == (49.02, 94.33)
    assert csat["components"]["score_4"] == 6 and csat["components"]["score_3"] == 0
    ces = workspace.metric("ces").rows[0]
    assert ces["value"] == 5.0 and (round(ces["ci_low"], 3), round(ces["ci_high"], 3)) == (2.402, 7.598)
    assert ces["components"]["agree_pct"] == 75.0
    counts = {r["metric"]: r["n"] for r in workspace.metric("response_count", by=["metric"]).rows}
    assert counts == {"ces": 4, "csat": 10, "nps": 121}


def test_filters_and_windows(workspace: Any) -> None:
    web = workspace.metric("nps", where={"channel": "web"}, since="2024-02-01", until=date(2024, 3, 1)).rows[
        0
    ]
    assert web["n"] == 11
    # Without a grain, the comparison is with the equally long window before --since.
    assert web["previous_value"] == 30.0


def test_results_convert_to_arrow_pandas_and_polars(workspace: Any) -> None:
    result = workspace.metric("nps", by=["channel"])
    assert result.to_arrow().num_rows == 2
    assert sorted(result.to_pandas()["channel"]) == ["app", "web"]
    assert result.to_polars().shape[0] == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "happiness"}, "Unknown metric"),
        ({"name": "nps", "by": ["colour"]}, "cannot be sliced by 'colour'"),
        ({"name": "nps", "grain": "fortnight"}, "Unknown grain"),
        ({"name": "nps", "since": "last tuesday"}, "not an ISO date"),
        ({"name": "nps", "since": "2024-03-01", "until": "2024-01-01"}, "before"),
    ],
)
def test_bad_questions_get_clear_errors(workspace: Any, kwargs: dict[str, Any], message: str) -> None:
    name = kwargs.pop("name")
    with pytest.raises(InvalidInput, match=message):
        workspace.metric(name, **kwargs)


def test_cli_metrics_json_and_listing(workspace: Any, db_path: Path) -> None:
    workspace.close()
    shown = subprocess.run(
        [
            *CXLENS,
            "metrics",
            "nps",
            "--by",
            "channel",
            "--where",
            "channel=web",
            "--format",
            "json",
            "--db",
            str(db_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    body = json.loads(shown.stdout)
    assert body["unit"].startswith("points") and [r["n"] for r in body["rows"]] == [111]
    listing = subprocess.run(
        [*CXLENS, "metrics", "--format", "json", "--db", str(db_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert {m["metric"] for m in json.loads(listing.stdout)} >= {"nps", "csat", "ces", "response_count"}
    bad = subprocess.run(
        [*CXLENS, "metrics", "nps", "--by", "colour", "--db", str(db_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "cannot be sliced" in bad.stderr and "Traceback" not in bad.stderr


def test_rest_metrics_list_and_query(workspace: Any) -> None:
    from fastapi.testclient import TestClient
    from tests.app_helpers import app_for

    client = TestClient(
        app_for(workspace.store, metrics_min_n=5),
        headers=bearer(api_token(workspace.store)),
    )
    listed = client.get("/api/metrics").json()["items"]
    assert {m["metric"] for m in listed} >= {"nps", "csat", "ces"}
    body = client.get(
        "/api/metrics/nps", params={"by": "channel", "grain": "month", "where": "channel=web"}
    ).json()
    assert [(r["period"][:7], r["n"], r["value"]) for r in body["rows"]] == [
        ("2024-01", 100, 30.0),
        ("2024-02", 11, 72.727273),
    ]
    bad = client.get("/api/metrics/nps", params={"by": "colour"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"
    assert client.get("/api/metrics/happiness").status_code == 400


def test_case_metrics_on_a_hand_made_helpdesk(store: DuckDBStore, db_path: Path) -> None:
    cases = pa.table(
        {
            "user_id": ["u1", "u2", "u3", "u4"],
            "external_id": ["c1", "c2", "c3", "c4"],
            "channel": ["email"] * 4,
            "team": ["billing"] * 4,
            "status": ["solved", "solved", "closed", "open"],
            "created_at": ["2024-02-01T09:00:00Z"] * 4,
            "reopen_count": ["0", "1", "0", "0"],
        }
    )
    import_table(store, "cases", cases, options=ImportOptions())

    def message(case: str, n: int) -> list[dict[str, str]]:
        return [
            {
                "case_external_id": case,
                "kind": "message",
                "direction": "in",
                "occurred_at": f"2024-02-01T1{i}:00:00Z",
            }
            for i in range(n)
        ]

    def handoff(case: str, n: int) -> list[dict[str, str]]:
        return [
            {
                "case_external_id": case,
                "kind": "handoff",
                "direction": "internal",
                "occurred_at": f"2024-02-02T1{i}:00:00Z",
            }
            for i in range(n)
        ]

    # c1: wrote once (first contact resolved); c2: wrote 3 times, one handoff, reopened;
    # c3: never wrote (agent-opened), two handoffs; c4: still open (not in FCR or reopen rate).
    events = message("c1", 1) + message("c2", 3) + handoff("c2", 1) + handoff("c3", 2) + message("c4", 2)
    import_table(store, "case_events", pa.Table.from_pylist(events), options=ImportOptions())
    store.close()
    with cxlens.open(db_path, memory_limit="1GB") as ws:
        assert ws.metric("case_volume", by=["team"]).rows[0]["n"] == 4
        fcr = ws.metric("fcr").rows[0]
        assert (fcr["n"], fcr["components"]["cases"]) == (3, 2) and fcr["value"] == pytest.approx(
            66.667, abs=1e-3
        )
        reopen = ws.metric("reopen_rate").rows[0]
        assert reopen["value"] == pytest.approx(33.333, abs=1e-3)
        handoffs = ws.metric("handoffs").rows[0]
        assert (handoffs["value"], handoffs["components"]["handed_off"]) == (0.75, 2)


def test_service_times_median_interval_and_p90(store: DuckDBStore, db_path: Path) -> None:
    hours = [1, 2, 3, 4, 10]  # resolution times; one case is still open
    cases = pa.table(
        {
            "user_id": [f"u{i}" for i in range(6)],
            "external_id": [f"c{i}" for i in range(6)],
            "channel": ["chat"] * 6,
            "status": ["solved"] * 5 + ["open"],
            "created_at": ["2024-03-01T08:00:00Z"] * 6,
            "first_response_at": ["2024-03-01T08:30:00Z"] * 6,
            "solved_at": [f"2024-03-01T{8 + h:02d}:00:00Z" for h in hours] + [None],
        }
    )
    import_table(store, "cases", cases, options=ImportOptions())
    store.close()
    with cxlens.open(db_path, memory_limit="1GB") as ws:
        ttr = ws.metric("ttr").rows[0]
        # n = 5: median x(3) = 3; interval ranks j = max(1, ⌊2.5 − 1.96·√5/2⌋) = 1 and
        # k = min(5, ⌈1 + 2.5 + 1.96·√5/2⌉) = 5, so [1, 10]; p90 = x(⌈4.5⌉) = 10; mean 4.
        assert (ttr["n"], ttr["value"], ttr["ci_low"], ttr["ci_high"]) == (5, 3.0, 1.0, 10.0)
        assert ttr["components"] == {"mean": 4.0, "p90": 10.0}
        windowed = ws.metric("ttr", where={"channel": "chat"}, since="2024-03-01", until="2024-03-02")
        assert windowed.rows[0]["value"] == 3.0
        frt = ws.metric("frt").rows[0]
        assert (frt["n"], frt["value"], frt["components"]["p90"]) == (6, 0.5, 0.5)


def test_each_value_against_the_rest_with_fdr(workspace: Any) -> None:
    rows = {r["channel"]: r for r in workspace.compare("nps", by="channel", min_n=5)}
    app, web = rows["app"], rows["web"]
    assert (app["n"], app["value"], app["rest_n"]) == (10, 0.0, 111)
    assert app["rest_value"] == pytest.approx(100 * (59 - 21) / 111, abs=1e-6)
    assert app["difference"] == pytest.approx(-app["rest_value"], abs=1e-6)
    # Two values: both tests are the same comparison, so both p-values (and q-values) agree.
    assert app["p_value"] == pytest.approx(web["p_value"]) and app["q_value"] == pytest.approx(app["p_value"])


def test_consistency_uses_the_omnibus_test_of_each_family(workspace: Any) -> None:
    nps = workspace.consistency("nps", by="channel")
    # promoters/passives/detractors by channel: web 59/31/21, app 3/4/3
    expected = sps.chi2_contingency(np.array([[59, 3], [31, 4], [21, 3]]), correction=False)
    assert nps["test"].startswith("chi-square")
    assert nps["statistic"] == pytest.approx(expected.statistic, abs=1e-6)
    assert nps["p_value"] == pytest.approx(expected.pvalue, abs=1e-6)
    assert (nps["groups"], nps["lowest"], nps["highest"]) == (2, "app", "web")


def test_consistency_of_means_and_times_matches_the_reference_tests(
    store: DuckDBStore, db_path: Path
) -> None:
    phone, chat = [3, 5, 5, 7, 6, 6], [2, 3, 4, 4, 5]
    rows = [("ces", "phone", float(s), "2024-02-11T09:00:00Z") for s in phone]
    rows += [("ces", "chat", float(s), "2024-02-11T09:00:00Z") for s in chat]
    import_table(store, "responses", responses(rows), options=ImportOptions())
    email_hours, chat_hours = [1, 2, 2, 9, 30], [1, 1, 3]
    hours = email_hours + chat_hours
    cases = pa.table(
        {
            "user_id": [f"c{i}" for i in range(len(hours))],
            "external_id": [f"k{i}" for i in range(len(hours))],
            "channel": ["email"] * len(email_hours) + ["chat"] * len(chat_hours),
            "status": ["solved"] * len(hours),
            "created_at": ["2024-03-01T00:00:00Z"] * len(hours),
            "solved_at": [
                f"2024-03-02T{h - 24:02d}:00:00Z" if h >= 24 else f"2024-03-01T{h:02d}:00:00Z" for h in hours
            ],
        }
    )
    import_table(store, "cases", cases, options=ImportOptions())
    store.close()
    with cxlens.open(db_path, memory_limit="1GB") as ws:
        ces = ws.consistency("ces", by="channel")
        welch = sps.ttest_ind(phone, chat, equal_var=False)
        # With two groups, Welch's ANOVA is Welch's t-test: F = t² and the same p-value.
        assert ces["statistic"] == pytest.approx(welch.statistic**2, abs=1e-5)
        assert ces["p_value"] == pytest.approx(welch.pvalue, abs=1e-5)
        ttr = ws.consistency("ttr", by="channel")
        kruskal = sps.kruskal(email_hours, chat_hours)
        assert ttr["test"] == "Kruskal–Wallis"
        assert ttr["statistic"] == pytest.approx(kruskal.statistic, abs=1e-5)
        assert ttr["p_value"] == pytest.approx(kruskal.pvalue, abs=1e-5)


def test_churn_rate_and_retention_by_cohort(store: DuckDBStore, db_path: Path) -> None:
    customers = pa.table(
        {
            "user_id": ["A", "B", "C", "D", "E"],
            "segment": ["smb"] * 5,
            "signed_up_at": [
                "2024-01-10T00:00:00Z",
                "2024-01-20T00:00:00Z",
                "2024-01-05T00:00:00Z",
                "2024-02-03T00:00:00Z",
                "2024-02-10T00:00:00Z",
            ],
            "churned_at": [
                None,
                "2024-02-15T00:00:00Z",
                "2024-03-10T00:00:00Z",
                "2024-02-20T00:00:00Z",
                None,
            ],
        }
    )
    import_table(store, "customers", customers, options=ImportOptions())
    store.close()
    with cxlens.open(db_path, memory_limit="1GB") as ws:
        churn = {r["period"].date().isoformat()[:7]: r for r in ws.metric("churn_rate", by=["segment"]).rows}
        # February: 3 active at its start (A, B, C), B churns -> 1/3 (D starts and churns within it).
        # March: 3 active (A, C, E), C churns -> 1/3; January had nobody active at its start.
        assert set(churn) == {"2024-02", "2024-03"}
        assert (churn["2024-02"]["n"], churn["2024-02"]["components"]["churned"]) == (3, 1)
        assert churn["2024-02"]["value"] == pytest.approx(33.333, abs=1e-3)
        assert (churn["2024-03"]["n"], churn["2024-03"]["change"]) == (3, 0.0)
        assert churn["2024-03"]["components"]["retention"] == pytest.approx(66.667, abs=1e-3)
        curve = {(r["cohort"], r["age"]): r["value"] for r in ws.metric("retention").rows}
        assert curve == pytest.approx(
            {
                ("2024-01", 0): 100.0,
                ("2024-01", 1): 100.0,
                ("2024-01", 2): 66.666667,
                ("2024-02", 0): 100.0,
                ("2024-02", 1): 50.0,
            }
        )


def test_business_hours_follow_the_configured_schedule(store: DuckDBStore, db_path: Path) -> None:
    # Created Friday 16:00 (Paris), answered Monday 09:30, solved Wednesday 10:00; Tuesday is a holiday.
    cases = pa.table(
        {
            "user_id": ["u1"],
            "external_id": ["c1"],
            "channel": ["email"],
            "status": ["solved"],
            "created_at": ["2024-03-08T16:00:00+01:00"],
            "first_response_at": ["2024-03-11T09:30:00+01:00"],
            "solved_at": ["2024-03-13T10:00:00+01:00"],
        }
    )
    import_table(store, "cases", cases, options=ImportOptions())
    store.close()
    schedule = {"business_timezone": "Europe/Paris", "business_holidays": "2024-03-12", "memory_limit": "1GB"}
    with cxlens.open(db_path, **schedule) as ws:
        # first response: Friday 16-17 (1 h) + Monday 9-9:30 (0.5 h) = 1.5 business hours (65.5 calendar)
        assert ws.metric("frt_business").rows[0]["value"] == 1.5
        assert ws.metric("frt").rows[0]["value"] == 65.5
        # resolution: Friday 1 h + Monday 8 h + Tuesday (holiday) 0 + Wednesday 9-10 (1 h) = 10
        assert ws.metric("ttr_business").rows[0]["value"] == 10.0


def test_unknown_schedules_are_refused_clearly(db_path: Path, store: DuckDBStore) -> None:
    store.close()
    with pytest.raises(InvalidInput, match="not like 09:00-17:00"):
        cxlens.open(db_path, business_hours="9 to 5")


def test_times_are_compared_with_the_mann_whitney_test(store: DuckDBStore, db_path: Path) -> None:
    january, february = [1, 2, 3, 3], [4, 5, 3, 7, 9]
    chat = [1, 1, 2]
    rows = [("email", "01", h) for h in january] + [("email", "02", h) for h in february]
    rows += [("chat", "02", h) for h in chat]
    cases = pa.table(
        {
            "user_id": [f"u{i}" for i in range(len(rows))],
            "external_id": [f"c{i}" for i in range(len(rows))],
            "channel": [r[0] for r in rows],
            "status": ["solved"] * len(rows),
            "created_at": [f"2024-{r[1]}-10T00:00:00Z" for r in rows],
            "solved_at": [f"2024-{r[1]}-10T{r[2]:02d}:00:00Z" for r in rows],
        }
    )
    import_table(store, "cases", cases, options=ImportOptions())
    store.close()
    with cxlens.open(db_path, memory_limit="1GB") as ws:
        feb = only(
            ws.metric("ttr", by=["channel"], grain="month", min_n=1), channel="email", period="2024-02"
        )
        reference = sps.mannwhitneyu(february, january, method="asymptotic", use_continuity=True)
        assert feb["p_value"] == pytest.approx(reference.pvalue, abs=1e-6)
        against = {r["channel"]: r for r in ws.compare("ttr", by="channel", min_n=1)}
        reference = sps.mannwhitneyu(chat, january + february, method="asymptotic", use_continuity=True)
        assert against["chat"]["p_value"] == pytest.approx(reference.pvalue, abs=1e-6)
        windowed = ws.metric("ttr", since="2024-02-01", until="2024-03-01", where={"channel": "email"}).rows[
            0
        ]
        assert (
            windowed["p_value"]
            == pytest.approx(sps.mannwhitneyu(february, january, method="asymptotic").pvalue, abs=1e-6)
            or windowed["previous_value"] is None
        )


def test_fcr_counts_a_new_case_within_the_repeat_window_as_not_resolved(
    store: DuckDBStore, db_path: Path
) -> None:
    cases = pa.table(
        {
            "user_id": ["u1", "u1"],
            "external_id": ["first", "again"],
            "channel": ["email", "email"],
            "status": ["solved", "solved"],
            "created_at": ["2024-02-01T09:00:00Z", "2024-02-05T10:00:00Z"],  # back 4 days after solving
            "solved_at": ["2024-02-01T10:00:00Z", "2024-02-05T11:00:00Z"],
        }
    )
    import_table(store, "cases", cases, options=ImportOptions())
    store.close()
    with cxlens.open(db_path, memory_limit="1GB") as ws:
        assert ws.metric("fcr").rows[0]["components"]["cases"] == 1  # default window 7 days
        assert ws.metric("fcr", options={"fcr_repeat_days": 3}).rows[0]["components"]["cases"] == 2
    with cxlens.open(db_path, memory_limit="1GB", fcr_repeat_days=2) as ws:
        assert ws.metric("fcr").rows[0]["value"] == 100.0


def test_journey_stage_and_customer_attributes_slice_every_metric(store: DuckDBStore, db_path: Path) -> None:
    """stage: the stage of the customer's latest staged interaction at or before the answer;
    customer:<key>: an attribute of the (canonical) profile."""
    users = [f"u{i}" for i in range(6)]
    customers = pa.table(
        {
            "user_id": users,
            "plan": ["pro", "pro", "pro", "free", "free", "free"],
            "signed_up_at": ["2024-01-05T00:00:00Z"] * 6,
            "churned_at": [None, None, None, "2024-04-10T00:00:00Z", None, None],
        }
    )
    interactions = pa.table(
        {
            "user_id": users + users,
            "occurred_at": ["2024-03-01T00:00:00Z"] * 6 + ["2024-03-20T00:00:00Z"] * 6,
            "channel": ["web"] * 12,
            "name": ["Viewed"] * 12,
            "stage": ["onboarding"] * 6 + ["support"] * 6,
        }
    )
    answers = pa.table(  # u0..u2 answer before their support contact, u3..u5 after it
        {
            "user_id": users,
            "metric": ["nps"] * 6,
            "score": ["10", "9", "3", "2", "8", "10"],
            "answered_at": ["2024-03-10T00:00:00Z"] * 3 + ["2024-03-25T00:00:00Z"] * 3,
        }
    )
    for entity, table in (("customers", customers), ("interactions", interactions), ("responses", answers)):
        assert import_table(store, entity, table, options=ImportOptions()).imported == table.num_rows
    store.close()
    with cxlens.open(db_path) as ws:
        by_stage = {r["stage"]: (r["n"], r["value"]) for r in ws.metric("nps", by=["stage"], min_n=1).rows}
        assert by_stage == {
            "onboarding": (3, pytest.approx(100 * (2 - 1) / 3, abs=1e-4)),
            "support": (3, 0.0),
        }
        by_plan = {r["customer:plan"]: r["n"] for r in ws.metric("nps", by=["customer:plan"], min_n=1).rows}
        assert by_plan == {"pro": 3, "free": 3}
        pro_support = ws.metric("nps", where={"customer:plan": "free", "stage": "support"}, min_n=1).rows
        assert [(r["n"], r["value"]) for r in pro_support] == [(3, 0.0)]
        churn = ws.metric("churn_rate", by=["customer:plan"], since="2024-04-01", until="2024-05-01", min_n=1)
        assert {r["customer:plan"]: (r["n"], r["value"]) for r in churn.rows} == {
            "free": (3, pytest.approx(100 / 3, abs=1e-4)),
            "pro": (3, 0.0),
        }
        for bad in ("customer:", "customer:plan'); DROP TABLE customers; --", "customer:1plan"):
            with pytest.raises(InvalidInput, match="not a customer attribute"):
                ws.metric("nps", by=[bad])
