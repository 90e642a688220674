"""Engine parity: every metric, in several query shapes, gives identical rows on the embedded
DuckDB workspace and on Apache Spark (local mode) from the same base rows — one narwhals code
path (metrics/runner.py), no branch on the engine.

Marked ``spark`` (deselect with ``-m 'not spark'``). Needs pyspark (dev group) and Java 17+;
without them its Spark tests are skipped, except under CI, where they must run (``.ci/run`` installs Java).
"""

from __future__ import annotations

import math
import os
import random
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import narwhals as nw
import pyarrow as pa
import pytest

from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.errors import InvalidInput
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.metrics.compare import compare_segments, consistency
from cxlens.metrics.frames import base_frame, frame_sql
from cxlens.metrics.library import LIFECYCLE, METRICS
from cxlens.metrics.runner import compute_metric
from cxlens.metrics.spec import make_query
from cxlens.storage.duckdb_store import DuckDBStore

pytestmark = pytest.mark.spark


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):  # CI installs both: a skip there would hide a parity test that never ran
        pytest.fail(f"the Spark parity test cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)  # the DuckDB-only fixture check still runs


# --- the same base rows on both engines -------------------------------------------------------

START = datetime(2023, 10, 1, tzinfo=UTC)  # nine months: months, quarters and previous periods
SPAN_SECONDS = int((datetime(2024, 7, 1, tzinfo=UTC) - START).total_seconds())
SEGMENTS = ("smb", "enterprise", "consumer", None)  # None: customers without a segment
# Instants on period edges (and one with an offset) catch truncation outside UTC and off-by-one windows.
EDGES = (
    "2024-01-01T00:00:00Z",
    "2024-01-31T23:59:59Z",
    "2024-02-01T00:00:00Z",
    "2024-03-31T23:59:59.999Z",
    "2024-04-01T00:00:00Z",
    "2024-04-30T23:30:00-02:00",  # 2024-05-01 01:30 UTC: May, not April
    "2024-05-01T00:00:00Z",
    "2024-06-30T23:59:59Z",
)
SCALES = {"nps": 10, "csat": 5, "ces": 7}
ROUNDING = 1e-6  # results carry six decimals (stats.rounded)


def _instant(rng: random.Random) -> str:
    moment = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
    return moment.isoformat().replace("+00:00", "Z")


def _customers(rng: random.Random, count: int) -> pa.Table:
    """Profiles with a segment (some none), a signup date and, for about a third, a churn date."""
    rows = []
    for i in range(count):
        signed_up = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        churned = signed_up + timedelta(days=rng.uniform(1, 200)) if rng.random() < 0.35 else None
        rows.append(
            {
                "user_id": f"u{i}",
                "segment": SEGMENTS[i % len(SEGMENTS)],
                "signed_up_at": signed_up.isoformat(),
                "churned_at": churned.isoformat() if churned else None,
            }
        )
    return pa.Table.from_pylist(rows)


def _responses(rng: random.Random, count: int, customers: int) -> pa.Table:
    rows = []
    for i in range(count):
        metric = ("nps", "csat", "ces")[i % 3]
        low = 0 if metric == "nps" else 1
        rows.append(
            {
                "user_id": f"u{rng.randrange(customers)}",
                "metric": metric,
                # Skewed by channel so groups differ and comparisons have something to find.
                "score": str(min(SCALES[metric], rng.randint(low, SCALES[metric]) + (i % 2))),
                "channel": rng.choice(("web", "app", "email", "phone")),
                "touchpoint": rng.choice(("checkout", "support", "onboarding")),
                "survey": rng.choice(("relationship", "transactional")),
                "source": rng.choice(("import", "surveys")),
                "answered_at": EDGES[i % len(EDGES)] if i % 25 == 0 else _instant(rng),
            }
        )
    return pa.Table.from_pylist(rows)


def _cases(rng: random.Random, count: int, customers: int) -> tuple[pa.Table, pa.Table]:
    cases, events = [], []
    for i in range(count):
        case = f"c{i}"
        created = (
            datetime.fromisoformat(EDGES[i % len(EDGES)])
            if i % 20 == 0
            else START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        )
        status = rng.choice(("new", "open", "pending", "solved", "solved", "closed"))
        solved = status in ("solved", "closed") or rng.random() < 0.1  # some resolved, then reopened

        def later(hours: float, created: datetime = created) -> str:
            return (created + timedelta(hours=hours)).isoformat()

        cases.append(
            {
                "user_id": f"u{rng.randrange(customers)}",
                "external_id": case,
                "channel": rng.choice(("email", "chat", "phone")),
                "team": rng.choice(("billing", "tech", "sales")),
                "assignee": rng.choice(("ana", "bo", "cy", None)),
                "category": rng.choice(("refund", "bug", "question")),
                "priority": rng.choice(("low", "normal", "high", "urgent")),
                "status": status,
                "created_at": created.isoformat(),
                # Service times: many distinct values, some missing, a few before creation (ignored).
                "first_response_at": later(rng.uniform(-2, 72)) if rng.random() < 0.85 else None,
                "solved_at": later(rng.uniform(0.5, 400)) if solved and rng.random() < 0.8 else None,
                "closed_at": later(rng.uniform(1, 500)) if status == "closed" else None,
                "reopen_count": str(rng.choice((0, 0, 0, 1, 2))),
            }
        )
        kinds = [("message", "in")] * rng.randint(0, 4) + [("message", "out")] * rng.randint(0, 2)
        kinds += [("handoff", "internal")] * rng.choice((0, 0, 1, 2, 3))
        events += [
            {
                "case_external_id": case,
                "kind": kind,
                "direction": direction,
                "occurred_at": later(j + 1),
            }
            for j, (kind, direction) in enumerate(kinds)
        ]
    return pa.Table.from_pylist(cases), pa.Table.from_pylist(events)


def _invitations(rng: random.Random, count: int, customers: int) -> pa.Table:
    """Survey invitations: most sent (about a third answered, more by email), some scheduled,
    held back or failed (never counted); some sent at period edges, some by hand (no trigger)."""
    rows = []
    for i in range(count):
        status = rng.choice(("sent",) * 7 + ("scheduled", "suppressed", "failed"))
        sent = status == "sent"
        channel = rng.choice(("email", "sms"))
        moment = EDGES[i % len(EDGES)] if i % 25 == 0 else _instant(rng)
        rows.append(
            {
                "number": i + 1,
                "user_id": f"u{rng.randrange(customers)}",
                "status": status,
                "channel": channel,
                "touchpoint": rng.choice(("checkout", "support", None)),
                "survey": rng.choice(("relationship", "transactional")),
                "trigger_name": rng.choice(("quarterly", "case-solved", None)),
                "sent_at": moment if sent else None,
                "answered": sent and rng.random() < (0.45 if channel == "email" else 0.25),
            }
        )
    return pa.Table.from_pylist(rows)


def _distribute(store: DuckDBStore, invitations: pa.Table) -> None:
    """Surveys, triggers, links and invitations as the survey sender leaves them (no import path)."""
    planned = (
        "SELECT p.*, x.customer_key, s.survey_key, t.trigger_key FROM planned p "
        "JOIN identities x ON x.value = p.user_id JOIN surveys s ON s.name = p.survey "
        "LEFT JOIN survey_triggers t ON t.name = p.trigger_name"
    )
    at = "TIMESTAMPTZ '2023-09-01 00:00:00+00'"
    with store.unit_of_work() as uow:
        uow.put_arrow("planned", invitations)
        uow.execute(
            "INSERT INTO surveys (survey_key, survey_id, name, title, metric, definition, created_at, updated_at) "
            f"SELECT k, 'srv_' || k, name, name, 'nps', '{{}}', {at}, {at} "
            "FROM (VALUES (1, 'relationship'), (2, 'transactional')) s(k, name)"
        )
        uow.execute(
            "INSERT INTO survey_triggers (trigger_key, name, survey_key, kind, every_days, delay_minutes, "
            f"sample_rate, created_at) SELECT k, name, k, kind, NULL, 0, 1, {at} "
            "FROM (VALUES (1, 'quarterly', 'every'), (2, 'case-solved', 'case_solved')) t(k, name, kind)"
        )
        sent = "CAST(sent_at AS TIMESTAMPTZ)"
        uow.execute(
            "INSERT INTO survey_links (link_key, survey_key, customer_key, token_hash, channel, created_at, "
            f"expires_at, answered_at) SELECT number, survey_key, customer_key, 'hash-' || number, channel, {sent}, "
            f"{sent} + INTERVAL 30 DAY, CASE WHEN answered THEN {sent} + INTERVAL 2 DAY END "
            f"FROM ({planned}) WHERE status = 'sent'"
        )
        uow.execute(
            "INSERT INTO survey_invitations (invitation_key, survey_key, customer_key, channel, touchpoint, "
            "trigger_key, subject, status, send_after, link_key, sent_at, created_at) "
            "SELECT number, survey_key, customer_key, channel, touchpoint, trigger_key, 'subject-' || number, "
            f"status, coalesce({sent}, {at}), CASE WHEN status = 'sent' THEN number END, {sent}, {at} "
            f"FROM ({planned})"
        )


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBStore]:
    """A workspace filled through the real import pipeline."""
    db = Path(tmp_path_factory.mktemp("spark")) / "ws.duckdb"
    store = open_store(Settings(db=db, memory_limit="1GB"))
    rng = random.Random(20240101)
    cases, events = _cases(rng, 400, 120)
    tables = {
        "customers": _customers(rng, 120),
        "responses": _responses(rng, 3000, 120),
        "cases": cases,
        "case_events": events,
    }
    for entity, table in tables.items():
        report = import_table(store, entity, table, options=ImportOptions(strict=True))
        assert report.rejected_count == 0, (entity, report.to_dict())
    _distribute(store, _invitations(rng, 1500, 120))
    yield store
    store.close()


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local Spark for the module (starting one takes seconds)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - the dev group installs it
        _unavailable("pyspark is not installed (`uv sync` installs the dev group)")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        _unavailable("no Java runtime for Spark (install openjdk-17-jre-headless or set JAVA_HOME)")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("cxlens-metrics-parity")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


ALL = {**METRICS, **LIFECYCLE}  # the whole suite: per-group metrics and the customer lifecycle


@pytest.fixture(scope="module")
def spark_frames(duck: DuckDBStore, spark: Any) -> dict[str, nw.LazyFrame[Any]]:
    """Each base frame, fetched from DuckDB as Arrow and handed to Spark unchanged (UTC instants)."""
    frames = {}
    with duck.session() as s:
        for source in sorted({m.source for m in ALL.values()}):
            table = s.fetch_arrow(frame_sql(source))
            frame = spark.createDataFrame(table).cache()
            assert frame.count() == table.num_rows > 0, source
            frames[source] = nw.from_native(frame)
    return frames


# --- every metric, several query shapes --------------------------------------------------------

WHERE = {"channel": "email", "segment": "smb"}  # a value the fixture has, per filterable dimension


def _filter(dimensions: tuple[str, ...]) -> dict[str, str]:
    dim = next(d for d in WHERE if d in dimensions)
    return {dim: WHERE[dim]}


# Each shape from the metric's dimensions (the first is `channel`, the last `segment`, where they exist).
SHAPES: dict[str, Callable[[tuple[str, ...]], dict[str, Any]]] = {
    "total": lambda d: {},
    "by_two_dimensions": lambda d: {"by": list(d[:2])},
    "month_by_dimension": lambda d: {"by": [d[0]], "grain": "month"},
    "week": lambda d: {"grain": "week", "since": "2024-01-01", "until": "2024-03-01"},
    "quarter_by_segment": lambda d: {"by": [d[-1]], "grain": "quarter"},
    "where": lambda d: {"where": _filter(d), "by": [d[-1]]},
    "window": lambda d: {"since": "2024-02-01", "until": date(2024, 5, 1), "by": [d[0]]},
    "window_time_of_day": lambda d: {
        "since": "2024-03-15T06:00:00+02:00",
        "until": "2024-06-01",
        "where": _filter(d),
    },
}


def _answer(run: Callable[[], Any]) -> Any:
    """What a metric call gives: its result, or the error a user would see (the same on both)."""
    try:
        return run()
    except InvalidInput as error:
        return f"InvalidInput: {error}"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ALL)
def test_duckdb_and_spark_agree(
    name: str, shape: str, duck: DuckDBStore, spark_frames: dict[str, nw.LazyFrame[Any]]
) -> None:
    metric = ALL[name]
    query = make_query(name, min_n=20, **SHAPES[shape](metric.dimensions))
    with duck.session() as s:
        expected = _answer(lambda: compute_metric(base_frame(s, metric.source), query).rows)
    got = _answer(lambda: compute_metric(spark_frames[metric.source], query).rows)
    assert expected, "the fixture should give every shape some rows"
    _same(expected, got, path=f"{name}/{shape}")


@pytest.mark.parametrize("name", METRICS)
def test_comparisons_agree(name: str, duck: DuckDBStore, spark_frames: dict[str, nw.LazyFrame[Any]]) -> None:
    """Each value against the rest, and the omnibus test across values: the same on both engines
    (by segment, whose customers without one make a group of their own)."""
    metric = METRICS[name]
    dim = metric.dimensions[-1]
    query = make_query(name, by=[dim], since="2024-01-01", min_n=20)
    with duck.session() as s:
        expected = [
            _answer(lambda: compare_segments(base_frame(s, metric.source), query)),
            _answer(lambda: consistency(base_frame(s, metric.source), query)),
        ]
    frame = spark_frames[metric.source]
    got = [_answer(lambda: compare_segments(frame, query)), _answer(lambda: consistency(frame, query))]
    assert all(expected), "the fixture should give every comparison some groups"
    _same(expected, got, path=f"{name}/by {dim}")


def test_the_fixture_exercises_comparisons(duck: DuckDBStore) -> None:
    """Guard against a vacuous parity test: periods, previous periods and tests really happen."""
    with duck.session() as s:
        responses, cases = base_frame(s, "responses"), base_frame(s, "cases")
        rows = compute_metric(responses, make_query("nps", grain="month", min_n=20)).rows
        weeks = compute_metric(responses, make_query("nps", grain="week", since="2024-01-01")).rows
        fcr = compute_metric(cases, make_query("fcr", by=["team"], min_n=20)).rows
        churn = compute_metric(base_frame(s, "customers"), make_query("churn_rate", min_n=20)).rows
        invited = base_frame(s, "invitations")
        rates = compute_metric(invited, make_query("response_rate", by=["trigger"], min_n=20)).rows
        sent = s.fetch_value("SELECT count(*) FROM survey_invitations WHERE status = 'sent'")
    assert len(rows) == 9 and sum(r["previous_value"] is not None for r in rows) == 8
    assert all(r["p_value"] is not None for r in rows[1:]) and all(r["n"] > 20 for r in rows)
    assert rows[0]["period"] == datetime(2023, 10, 1, tzinfo=UTC)
    assert len(weeks) >= 20 and all(r["period"].weekday() == 0 for r in weeks)  # Mondays, UTC
    assert len(fcr) == 3 and all(0 < r["value"] < 100 for r in fcr)
    assert len(churn) >= 6 and any(r["components"]["churned"] for r in churn)
    assert {r["trigger"] for r in rates} == {"quarterly", "case-solved", "manual"}
    assert sum(r["n"] for r in rates) == sent and all(0 < r["value"] < 100 for r in rates)


def _same(want: Any, have: Any, path: str) -> None:
    """Same keys, same values (floats to 1e-9, instants compared in UTC), recursively."""
    if isinstance(want, list):
        assert isinstance(have, list) and len(want) == len(have), (path, want, have)
        for i, (a, b) in enumerate(zip(want, have, strict=True)):
            _same(a, b, f"{path}[{i}]")
    elif isinstance(want, dict):
        assert isinstance(have, dict) and want.keys() == have.keys(), (path, want, have)
        for key in want:
            _same(want[key], have[key], f"{path}.{key}")
    elif isinstance(want, datetime):
        assert isinstance(have, datetime), (path, want, have)
        assert _utc(want) == _utc(have), (path, want, have)
    elif isinstance(want, float) or isinstance(have, float):
        assert want is not None and have is not None, (path, want, have)
        assert _close(want, have), (path, want, have)
    else:
        assert want == have and type(want) is type(have), (path, want, have)


def _close(want: float, have: float) -> bool:
    """Equal to 1e-9 — or one unit apart in the sixth decimal, where results are rounded: engines
    add floats in different orders (partial sums per partition), so a sum of non-integer values
    (hours) may differ in its last bit and round the other way. Counts and scores add up exactly."""
    return math.isclose(want, have, rel_tol=1e-9, abs_tol=1e-9) or abs(want - have) <= ROUNDING * 1.001


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
