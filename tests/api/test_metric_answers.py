"""Metric answers never fail on what a question or the data holds (issue 12): a filter that matches
nothing is an empty answer, dates off the calendar are a 400 with a reason, a stored time Python
cannot hold breaks no page; the explorer charts any customer attribute and names its columns for
a reader; the overview compares only with a window that has data, and says so in the tile."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import app_for
from tests.auth_helpers import api_token, bearer

from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.duckdb_store import DuckDBStore

DAYS = [1, 2, 5, 9, 10, 20, 33, 34, 40, 61]  # days of 2024 with cases: the others have none


def _fill(store: DuckDBStore) -> None:
    """Customers with a plan, cases on a few days of early 2024, NPS answers: nothing before 2024."""
    customers = pa.table(
        {
            "user_id": [f"u{i}" for i in range(40)],
            "segment": ["smb", "enterprise"] * 20,
            "plan": ["pro", "free", "basic", "pro"] * 10,
            "signed_up_at": [f"2024-0{1 + i % 3}-0{1 + i % 9}T00:00:00Z" for i in range(40)],
            "churned_at": [None if i % 4 else f"2024-0{4 + i % 2}-15T00:00:00Z" for i in range(40)],
        }
    )
    assert import_table(store, "customers", customers, options=ImportOptions()).rejected == []
    days = [_month_day(day) for day in DAYS for _ in range(3)]
    cases = pa.table(
        {
            "user_id": [f"u{i % 40}" for i in range(len(days))],
            "external_id": [f"c{i}" for i in range(len(days))],
            "channel": ["email", "chat", "phone"] * len(DAYS),
            "team": ["billing"] * len(days),
            "status": ["solved"] * len(days),
            "created_at": [f"2024-{day}T09:00:00Z" for day in days],
            "solved_at": [f"2024-{day}T15:00:00Z" for day in days],
        }
    )
    assert import_table(store, "cases", cases, options=ImportOptions()).rejected == []
    answers = pa.table(
        {
            "user_id": [f"u{i}" for i in range(40)],
            "metric": ["nps"] * 40,
            "channel": ["web", "app"] * 20,
            "score": [str(i % 11) for i in range(40)],
            "answered_at": [f"2024-0{1 + i % 3}-1{i % 9}T10:00:00Z" for i in range(40)],
        }
    )
    assert import_table(store, "responses", answers, options=ImportOptions()).rejected == []


def _month_day(day_of_year: int) -> str:
    """MM-DD of a day of 2024 (a leap year) in its first quarter."""
    moment = date(2024, 1, 1) + timedelta(days=day_of_year - 1)
    return moment.strftime("%m-%d")


@pytest.fixture
def client(store: DuckDBStore) -> Iterator[TestClient]:
    _fill(store)
    yield TestClient(app_for(store), headers=bearer(api_token(store)))


@pytest.mark.parametrize(
    "path",
    [
        "/api/metrics/ttr/against-rest?by=channel&where=team=nosuch",
        "/api/metrics/nps/against-rest?by=channel&where=channel=nosuch",
        "/api/metrics/case_volume/against-rest?by=channel&where=team=nosuch",
        "/api/metrics/nps?where=channel=nosuch",
        "/api/metrics/ttr?where=team=nosuch&since=2024-01-01&until=2024-02-01",
        "/api/metrics/nps?by=channel&grain=month&where=channel=nosuch",
    ],
)
def test_a_filter_that_matches_nothing_is_an_empty_answer(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/metrics/nps?since=0001-01-02&until=0001-03-01",
        "/api/metrics/nps?since=1899-12-31",
        "/api/metrics/nps?until=2200-01-01",
        "/api/metrics/nps?since=0001-01-01T00:00:00%2B14:00",
        "/api/metrics/ttr/against-rest?by=channel&since=0001-01-02&until=0001-03-01",
        "/api/metrics/nps/consistency?since=0001-01-02&until=0001-03-01",
        "/explore.csv?metric=nps&since=0001-01-02&until=0001-03-01",
        "/explore.csv?metric=nps&since=0001-01-02&until=0001-03-01&grain=",
    ],
)
def test_dates_off_the_calendar_are_a_400_with_a_reason(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and "1900–2199" in error["message"]


def test_the_explorer_page_says_why_it_cannot_answer_such_dates(client: TestClient) -> None:
    page = client.get("/explore", params={"metric": "nps", "since": "0001-01-02", "until": "0001-03-01"})
    assert page.status_code == 200
    assert re.search(r'role="alert">since: 0001-01-02 is outside the years 1900–2199', page.text)


def test_a_stored_time_python_cannot_hold_breaks_no_answer(store: DuckDBStore, db_path: Path) -> None:
    """0001-01-01T00:00:00+14:00 is in year 0 in UTC: DuckDB keeps it, Python cannot hold it.
    It got in before entry checks existed; reads must treat it as missing, not fail."""
    _fill(store)
    store.close()
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "UPDATE customers SET created_at = TIMESTAMPTZ '0001-01-01 00:00:00+14', "
            "signed_up_at = TIMESTAMPTZ '0001-01-01 00:00:00+14', churned_at = TIMESTAMPTZ '0001-02-01 00:00:00+14' "
            "WHERE customer_key = (SELECT customer_key FROM identities WHERE kind = 'user_id' AND value = 'u1')"
        )
        con.execute(
            "UPDATE responses SET answered_at = TIMESTAMPTZ '0001-01-01 00:00:00+14' "
            "WHERE response_key = (SELECT min(response_key) FROM responses)"
        )
    reopened = open_store(Settings(db=db_path, memory_limit="1GB"))
    try:
        client = TestClient(app_for(reopened), headers=bearer(api_token(reopened)))
        for path in (
            "/api/metrics/retention",
            "/api/metrics/churn_rate",
            "/api/metrics/nps?grain=month",
            "/overview/tiles/churn",
            "/overview/tiles/nps",
            "/explore?metric=retention",
            "/customers/u1",
        ):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:300])
        retention = client.get("/api/metrics/retention").json()["rows"]
        assert {row["cohort"] for row in retention} == {"2024-01", "2024-02", "2024-03"}
        assert sum(row["n"] for row in client.get("/api/metrics/nps").json()["rows"]) == 39  # one not read
        assert "0001-12-31 (BC)" in client.get("/customers/u1").text  # shown as DuckDB holds it
    finally:
        reopened.close()


def _chart_spec(page: str) -> dict[str, Any]:
    block = page.split('<script type="application/json" id="explore-chart">', 1)[1].split("</script>", 1)[0]
    spec: dict[str, Any] = json.loads(block)
    return spec


@pytest.mark.parametrize("grain", ["", "month"])
def test_the_explorer_charts_a_customer_attribute(client: TestClient, grain: str) -> None:
    page = client.get("/explore", params={"metric": "nps", "by": "customer:plan", "grain": grain})
    assert page.status_code == 200, page.text[:300]
    spec = json.dumps(_chart_spec(page.text))
    assert '"title": "customer:plan"' in spec  # the attribute names the axis or legend
    assert '"field": "customer:plan"' not in spec  # its name is not a field path or type code
    assert {"pro", "free", "basic"} <= {v["g0"] for v in _chart_spec(page.text)["datasets"].popitem()[1]}


def test_the_dimension_list_offers_customer_attributes_and_shows_the_one_asked(client: TestClient) -> None:
    page = client.get("/explore", params={"metric": "nps", "by": "customer:plan"}).text
    select = page.split('<select id="by" name="by">', 1)[1].split("</select>", 1)[0]
    assert '<option value="customer:plan" selected>plan</option>' in select
    assert '<option value="">(none)</option>' in select and "(none)</option>" not in select.replace(
        '<option value="">(none)</option>', ""
    )
    unknown = client.get("/explore", params={"metric": "nps", "by": "customer:nosuch"}).text
    assert '<option value="customer:nosuch" selected>nosuch</option>' in unknown


def test_the_retention_chart_draws_the_cohort_grid(client: TestClient) -> None:
    page = client.get("/explore", params={"metric": "retention", "grain": "month"})
    spec = _chart_spec(page.text)
    values = next(iter(spec["datasets"].values()))
    assert spec["mark"]["type"] == "rect" and spec["encoding"]["x"]["field"] == "age"
    assert len(values) == page.text.count("<tr>") - 1 > 0  # a cell for every row of the table
    assert {v["cohort"] for v in values} == {"2024-01", "2024-02", "2024-03"}
    assert '<th scope="col">cohort</th>' in page.text and '<th scope="col">age</th>' in page.text


def test_explorer_tables_name_their_columns_for_a_reader(client: TestClient) -> None:
    page = client.get("/explore", params={"metric": "nps", "by": "channel", "grain": "month"}).text
    table = page.split("<table>", 1)[1]
    for raw in ("ci_low", "ci_high", "small_n", "True", "False"):
        assert raw not in table, raw
    assert ">95% interval</th>" in table and ">significant</th>" in table and "small sample" in table
    # The first month of each channel has nothing before it: no test ran, so no verdict either way.
    first = table.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert re.search(r"<td>\s*</td>", first) and ">no<" not in first
    csv = client.get("/explore.csv", params={"metric": "nps", "by": "channel", "grain": "month"}).text
    assert csv.splitlines()[0].endswith("n,value,ci_low,ci_high,change,p_value,significant,flags")


def _tile_change(client: TestClient, key: str, days: int) -> str:
    page = client.get(f"/overview/tiles/{key}", params={"days": days}).text
    found = re.search(r'change__text">([^<]*)<', page)
    assert found, page
    return found.group(1)


@pytest.mark.parametrize("key", ["cases", "responses", "nps", "ttr", "fcr"])
def test_the_overview_compares_with_nothing_when_the_window_before_is_empty(
    client: TestClient, key: str
) -> None:
    assert _tile_change(client, key, 365) == "nothing to compare with in the 365 days before"


def test_a_tile_with_nothing_to_compare_with_gives_no_verdict(client: TestClient) -> None:
    page = client.get("/overview/tiles/cases", params={"days": 365}).text
    assert "nothing to compare with" in page
    assert "n.s." not in page and "significant" not in page and "change__arrow" not in page
