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
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import narwhals as nw
import pyarrow as pa
import pytest

from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.metrics.frames import FRAMES
from cxlens.metrics.library import METRICS
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


def _instant(rng: random.Random) -> str:
    moment = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
    return moment.isoformat().replace("+00:00", "Z")


def _customers(count: int) -> pa.Table:
    return pa.table(
        {
            "user_id": [f"u{i}" for i in range(count)],
            "segment": pa.array([SEGMENTS[i % len(SEGMENTS)] for i in range(count)], pa.string()),
        }
    )


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


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBStore]:
    """A workspace filled through the real import pipeline."""
    db = Path(tmp_path_factory.mktemp("spark")) / "ws.duckdb"
    store = open_store(Settings(db=db, memory_limit="1GB"))
    rng = random.Random(20240101)
    cases, events = _cases(rng, 400, 120)
    tables = {
        "customers": _customers(120),
        "responses": _responses(rng, 3000, 120),
        "cases": cases,
        "case_events": events,
    }
    for entity, table in tables.items():
        report = import_table(store, entity, table, options=ImportOptions(strict=True))
        assert report.rejected_count == 0, (entity, report.to_dict())
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
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_frames(duck: DuckDBStore, spark: Any) -> dict[str, nw.LazyFrame[Any]]:
    """Each base frame, fetched from DuckDB as Arrow and handed to Spark unchanged."""
    frames = {}
    with duck.session() as s:
        for source, sql in FRAMES.items():
            table = s.fetch_arrow(sql)
            frame = spark.createDataFrame(table).cache()
            assert frame.count() == table.num_rows
            frames[source] = nw.from_native(frame)
    return frames


# --- every metric, several query shapes --------------------------------------------------------

SHAPES: dict[str, dict[str, Any]] = {
    "total": {},
    "by_channel": {"by": ["channel"]},
    "by_segment_and_channel": {"by": ["segment", "channel"]},
    "month": {"grain": "month"},
    "month_by_channel": {"by": ["channel"], "grain": "month"},
    "week": {"grain": "week", "since": "2024-01-01", "until": "2024-03-01"},
    "quarter_by_segment": {"by": ["segment"], "grain": "quarter"},
    "where": {"where": {"channel": "email"}, "by": ["segment"]},
    "window": {"since": "2024-02-01", "until": date(2024, 5, 1), "by": ["channel"]},
    "window_time_of_day": {
        "since": "2024-03-15T06:00:00+02:00",
        "until": "2024-06-01",
        "where": {"source": "import"},
    },
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", METRICS)
def test_duckdb_and_spark_agree(
    name: str, shape: str, duck: DuckDBStore, spark_frames: dict[str, nw.LazyFrame[Any]]
) -> None:
    metric = METRICS[name]
    query = make_query(name, min_n=20, **SHAPES[shape])
    with duck.session() as s:
        expected = compute_metric(s.lazy(FRAMES[metric.source]), query).rows
    got = compute_metric(spark_frames[metric.source], query).rows
    assert expected, "the fixture should give every shape some rows"
    assert len(got) == len(expected), (got, expected)
    for want, have in zip(expected, got, strict=True):
        _same(want, have, path=f"{name}/{shape}")


def test_the_fixture_exercises_comparisons(duck: DuckDBStore) -> None:
    """Guard against a vacuous parity test: periods, previous periods and tests really happen."""
    with duck.session() as s:
        rows = compute_metric(s.lazy(FRAMES["responses"]), make_query("nps", grain="month", min_n=20)).rows
        cases = compute_metric(s.lazy(FRAMES["cases"]), make_query("fcr", by=["team"], min_n=20)).rows
        weeks = compute_metric(s.lazy(FRAMES["responses"]), make_query("nps", **SHAPES["week"])).rows
    assert len(rows) == 9 and sum(r["previous_value"] is not None for r in rows) == 8
    assert all(r["p_value"] is not None for r in rows[1:]) and all(r["n"] > 20 for r in rows)
    assert rows[0]["period"] == datetime(2023, 10, 1, tzinfo=UTC)
    assert len(weeks) == 9 and all(r["period"].weekday() == 0 for r in weeks)  # Mondays, UTC
    assert len(cases) == 3 and all(0 < r["value"] < 100 for r in cases)


def _same(want: Any, have: Any, path: str) -> None:
    if isinstance(want, dict):
        assert isinstance(have, dict) and want.keys() == have.keys(), (path, want, have)
        for key in want:
            _same(want[key], have[key], f"{path}.{key}")
    elif isinstance(want, datetime):
        assert isinstance(have, datetime), (path, want, have)
        assert _utc(want) == _utc(have), (path, want, have)
    elif isinstance(want, float) or isinstance(have, float):
        assert want is not None and have is not None, (path, want, have)
        assert math.isclose(want, have, rel_tol=0, abs_tol=1e-9), (path, want, have)
    else:
        assert want == have and type(want) is type(have), (path, want, have)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
