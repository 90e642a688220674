"""Metrics benchmark: ``ws.metric("nps", by=["channel"], grain="month")`` over 10M responses and
``ws.metric("ttr", by=["team"], grain="week")`` over 2M cases, against pandas and SQLite doing the same
computation on the same rows, in the same run.

A script, not a test (docs/benchmarks.md): no timing is ever asserted. Targets of the issue: NPS by
channel × month over 10 million responses ≤ 150 ms; TTR median by team × week over 2 million cases
≤ 300 ms; report the ratio against pandas and against SQLite.

    python benchmarks/bench_metrics.py                                   # 10M responses, 2M cases
    python benchmarks/bench_metrics.py --responses 1000000 --cases 200000   # quick run
    python benchmarks/bench_metrics.py --skip-sqlite --repeat 15 --profile
    python benchmarks/bench_metrics.py --smoke                           # tiny: does it still run?

Method:

* Data — generated at run time inside DuckDB SQL (no Python row loop) into a fresh workspace in a temp
  dir (deleted afterwards): ``cxlens.open(path)`` creates and migrates it, then ``INSERT … SELECT`` from
  ``range()`` fills ``customers`` (``--customers``, canonical = itself, 4 segments), ``responses``
  (88% NPS 0–10, 8% CSAT 1–5, 4% CES 1–7; 8 skewed channels, NPS distribution shifted per channel;
  ``answered_at`` uniform over 2023–2024, whole seconds) and ``cases`` (12 skewed teams; 82% solved,
  6% closed, the rest new/open/pending/on_hold without ``solved_at``; ``created_at`` uniform over
  2023–2024; resolution time log-normal, median ≈ 14 h × e^(0.12·team), capped at 180 days, whole
  seconds). Randomness is ``hash(row, --seed, stream)``, so a seed gives the same rows on every run
  with the same DuckDB version, whatever the thread count. ``case_events`` stays empty.
* cxlens — the workspace is closed and reopened (default Settings: DuckDB memory_limit 1600MB, one
  thread per core), each call is warmed up once, then timed ``--repeat`` times — fewer (at least 3)
  once a series has spent ``--budget`` seconds, which only the slowest ones reach (wall time of the whole
  ``ws.metric`` call: session, narwhals plan, DuckDB, statistics, result rows). p95 is nearest-rank:
  with 7 runs it is the slowest.
* DuckDB alone, on the same workspace connection, same repeats: "cxlens's SQL" re-runs the exact
  statements narwhals sent (captured from ``LazyFrame.collect``): engine time, so the rest of the
  cxlens time is Python (narwhals plan, statistics, rows). "hand SQL" is the plain query a DuckDB user
  would write — no joins to ``customers`` (the cxlens base frame always joins twice, for the canonical
  segment), DuckDB's own ``median()`` — with ``date_trunc`` on the TIMESTAMPTZ column (time-zone aware,
  through ICU); "hand SQL, no ICU" truncates ``make_timestamp(epoch_us(ts))`` instead (the UTC wall
  clock as a plain TIMESTAMP: same periods, since the workspace is UTC).
* Peers get the base rows once, outside the timing: DuckDB ``COPY`` to Parquet (``responses``: metric,
  score, channel, answered_at; ``cases``: team, status, created_at, solved_at, closed_at; timestamps as
  naive UTC).
  pandas — ``read_parquet``, text columns to ``category`` (load time reported separately); timed: the
  NPS filter, month truncation (numpy ``datetime64[M]``), promoter/detractor counts by
  ``groupby(observed=True)``, NPS and its adjusted-Wald interval (docs/metrics.md) with numpy on the
  grouped counts; TTR: the cases with a resolution time — hours from ``created_at`` to
  ``coalesce(solved_at, closed_at)``, kept when ≥ 0, as in metrics/frames.py —, Monday-weeks of
  ``created_at`` (numpy day numbers), then one ``np.lexsort`` by (group, hours) to read the order
  statistics cxlens reports — median (mean of ranks ⌊(n+1)/2⌋ and ⌊(n+2)/2⌋), its distribution-free
  95% interval (ranks max(1, ⌊n/2 − z√n/2⌋) and min(n, ⌈1 + n/2 + z√n/2⌉)), p90 = x(⌈0.9n⌉) — and
  the mean.
  SQLite (stdlib ``sqlite3``, file DB, timestamps as INTEGER Unix seconds, **no indexes**: every query
  is a full scan; journal off while loading) — NPS: ``strftime('%Y-%m', …, 'unixepoch')`` and
  ``SUM(CASE …)`` grouped in SQL, interval in Python on the small result; TTR: SQLite has no median,
  so ``ROW_NUMBER() OVER (PARTITION BY team, week ORDER BY hours)`` with ``COUNT(*)``/``AVG`` over the
  same partition, keeping only the rows whose rank is one of the order statistics above (weeks:
  ``date(…, 'unixepoch', 'weekday 0', '-6 days')``). Peers time ``--peer-repeat`` runs after one
  warm-up. The peers compute only the figures that are compared; cxlens also compares every row with
  the group's previous period (a p-value; for TTR a rank test run in the engine), which they skip.
* Checks — every implementation against cxlens (without it, pandas, else SQLite): the same groups, and
  per group n, NPS and its interval / n, median, its interval, p90 and mean, as far as each computes
  them (1e-5 absolute or relative: cxlens rounds to 6 decimals); a mismatch is printed loudly and
  recorded in the JSON.
* Memory — peak RSS (VmHWM) of this one process per phase: the high-water mark is reset through
  ``/proc/self/clear_refs`` at the start of each phase, so each figure is that phase's own peak
  (including whatever was already resident when it started, shown as "start"). Each phase also records
  the CPU share other processes took (machine busy time minus this process's); above 10% the script
  warns that the timings are disturbed.

Results: a Markdown summary on stdout (ready for docs/benchmarks.md) and JSON in benchmarks/out/.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import psutil

import _results
from _results import describe_machine

T = TypeVar("T")
Key = tuple[str, str]
SMOKE = {"responses": 5000, "cases": 1000, "customers": 500, "repeat": 1, "chunk": 5000}
Groups = dict[Key, dict[str, float | None]]

Z95 = statistics.NormalDist().inv_cdf(0.975)
TARGET_MS = {"nps": 150.0, "ttr": 300.0}
TWO_YEARS_S = 2 * 365 * 86400
START = "TIMESTAMPTZ '2023-01-01 00:00:00+00'"

CHANNELS = ("web", "app", "email", "phone", "chat", "social", "store", "other")
CHANNEL_P = (0.30, 0.22, 0.14, 0.10, 0.09, 0.06, 0.06, 0.03)
SEGMENTS = ("consumer", "smb", "mid_market", "enterprise")
SEGMENT_P = (0.60, 0.25, 0.10, 0.05)
METRIC_NAMES = ("nps", "csat", "ces")
METRIC_P = (0.88, 0.08, 0.04)
NPS_P = (0.02, 0.01, 0.02, 0.03, 0.03, 0.06, 0.08, 0.10, 0.15, 0.20, 0.30)  # scores 0..10: NPS ≈ 25
CSAT_P = (0.05, 0.07, 0.13, 0.35, 0.40)
CES_P = (0.04, 0.05, 0.08, 0.13, 0.25, 0.27, 0.18)
TOUCHPOINTS = ("purchase", "delivery", "support", "onboarding", "renewal", "relationship")
SURVEYS = ("relationship", "transactional", "post_case")
TEAMS = (
    "tech_support", "billing", "shipping", "returns", "accounts", "onboarding",
    "payments", "mobile", "retention", "enterprise", "web", "escalations",
)  # fmt: skip
TEAM_P = (0.20, 0.14, 0.12, 0.10, 0.08, 0.07, 0.07, 0.06, 0.05, 0.05, 0.04, 0.02)
STATUSES = ("solved", "closed", "open", "pending", "new", "on_hold")  # the first two are resolved
STATUS_P = (0.82, 0.06, 0.06, 0.03, 0.02, 0.01)
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_P = (0.25, 0.55, 0.15, 0.05)


# ----------------------------------------------------------------------------------------------
# Memory and timing
# ----------------------------------------------------------------------------------------------
def reset_peak_rss() -> None:
    """Start a new high-water mark (Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM)."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return psutil.Process().memory_info().rss


def _busy_seconds(times: Any) -> float:
    return float(sum(getattr(times, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq", "steal")))


@contextmanager
def phase(memory: dict[str, dict[str, Any]], name: str) -> Iterator[None]:
    """Per phase: this process's peak RSS, and how busy the machine was with *other* processes
    (their share of all cores over the phase: timings taken while it is high are not comparable)."""
    gc.collect()
    reset_peak_rss()
    proc = psutil.Process()
    start = proc.memory_info().rss
    machine0, own0, t0 = psutil.cpu_times(), proc.cpu_times(), time.perf_counter()
    try:
        yield
    finally:
        machine1, own1, wall = psutil.cpu_times(), proc.cpu_times(), time.perf_counter() - t0
        own = (own1.user + own1.system) - (own0.user + own0.system)
        other = _busy_seconds(machine1) - _busy_seconds(machine0) - own
        memory[name] = {
            "start_rss": start,
            "peak_rss": peak_rss(),
            "wall_s": wall,
            "own_cpu_s": own,
            "other_cpu_share": max(0.0, other) / (wall * (psutil.cpu_count() or 1)),
        }
        if memory[name]["other_cpu_share"] > 0.10:
            print(
                f"!!! other processes used {100 * memory[name]['other_cpu_share']:.0f}% of the CPU during "
                f"'{name}': its timings are disturbed",
                flush=True,
            )


@dataclass
class Timing:
    warmup_ms: float
    runs_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.runs_ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "median_ms": self.median_ms,
            "p95_ms": self.p95_ms,
            "warmup_ms": self.warmup_ms,
            "runs": len(self.runs_ms),
            "runs_ms": self.runs_ms,
        }


@dataclass(frozen=True)
class Runs:
    """How often to time a call: ``repeat`` runs, but stop once ``budget_s`` of timed runs is spent
    (with at least ``minimum`` runs), so a slow computation cannot stretch the benchmark for ever."""

    repeat: int
    budget_s: float
    minimum: int = 3


def measure(fn: Callable[[], T], runs: Runs) -> tuple[Timing, T]:
    """One warm-up call, then the timed calls; returns the last result."""
    t0 = time.perf_counter()
    result = fn()
    timing = Timing((time.perf_counter() - t0) * 1000)
    for i in range(runs.repeat):
        if i >= runs.minimum and sum(timing.runs_ms) / 1000 >= runs.budget_s:
            break
        t0 = time.perf_counter()
        result = fn()
        timing.runs_ms.append((time.perf_counter() - t0) * 1000)
    return timing, result


# ----------------------------------------------------------------------------------------------
# Data generation (DuckDB SQL, deterministic hash-based randomness)
# ----------------------------------------------------------------------------------------------
def _u(seed: int, stream: int) -> str:
    """A uniform draw in (0, 1) for row ``i``: the same for a given seed, row and stream."""
    return f"((hash(i, {seed}, {stream}) % 1000000007) + 0.5) / 1000000007.0"


def _normal(seed: int, stream: int) -> str:
    """A standard normal draw (Box–Muller on two uniform streams)."""
    return f"(sqrt(-2 * ln({_u(seed, stream)})) * cos(2 * pi() * {_u(seed, stream + 1)}))"


def _index(u: str, probs: tuple[float, ...]) -> str:
    """0-based index of the category a uniform draw ``u`` falls in, for probabilities ``probs``."""
    cumulative = np.cumsum(probs)[:-1]
    whens = " ".join(f"WHEN {u} < {c:.6f} THEN {i}" for i, c in enumerate(cumulative))
    return f"(CASE {whens} ELSE {len(probs) - 1} END)"


def _labels(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _seconds(u: str, span: int) -> str:
    return f"to_seconds(CAST(floor({u} * {span}) AS BIGINT))"


def customers_sql(start: int, stop: int, seed: int) -> str:
    return f"""
        INSERT INTO customers (customer_key, customer_id, canonical_key, segment, created_at, updated_at)
        SELECT i, 'cus_' || lpad(CAST(i AS VARCHAR), 8, '0'), i,
               {_labels(SEGMENTS)}[{_index(_u(seed, 1), SEGMENT_P)} + 1], t, t
        FROM (SELECT i, TIMESTAMPTZ '2022-01-01 00:00:00+00' + {_seconds(_u(seed, 2), 365 * 86400)} AS t
              FROM (SELECT range + 1 AS i FROM range({start}, {stop})))"""


def responses_sql(start: int, stop: int, seed: int, customers: int) -> str:
    nps = _index("pow(us, 0.8 + 0.06 * ch)", NPS_P)  # channel 0 (web) scores best, 7 (other) worst
    csat = f"1 + {_index('us', CSAT_P)}"
    ces = f"1 + {_index('us', CES_P)}"
    return f"""
        INSERT INTO responses (response_key, customer_key, metric, scale_min, scale_max, score, touchpoint,
                               channel, survey, answered_at, source, idempotency_key)
        SELECT i, customer_key, {_labels(METRIC_NAMES)}[m + 1], [0, 1, 1][m + 1], [10, 5, 7][m + 1],
               CASE m WHEN 0 THEN {nps} WHEN 1 THEN {csat} ELSE {ces} END,
               {_labels(TOUCHPOINTS)}[tp + 1], {_labels(CHANNELS)}[ch + 1], {_labels(SURVEYS)}[sv + 1],
               answered_at, 'bench', 'bench-rsp-' || i
        FROM (SELECT i, 1 + hash(i, {seed}, 10) % {customers} AS customer_key,
                     {_index(_u(seed, 11), METRIC_P)} AS m,
                     {_index(_u(seed, 12), CHANNEL_P)} AS ch,
                     {_u(seed, 13)} AS us,
                     CAST(floor({_u(seed, 14)} * {len(TOUCHPOINTS)}) AS INTEGER) AS tp,
                     CAST(floor({_u(seed, 15)} * {len(SURVEYS)}) AS INTEGER) AS sv,
                     {START} + {_seconds(_u(seed, 16), TWO_YEARS_S)} AS answered_at
              FROM (SELECT range + 1 AS i FROM range({start}, {stop})))"""


def cases_sql(start: int, stop: int, seed: int, customers: int) -> str:
    resolve_s = (
        f"CAST(least(15552000, greatest(60, floor(exp(ln(50400) + 0.12 * tm + 1.1 * {_normal(seed, 27)}))))"
        " AS BIGINT)"
    )
    first_s = f"CAST(greatest(30, floor(exp(ln(1800) + 1.2 * {_normal(seed, 29)}))) AS BIGINT)"
    return f"""
        INSERT INTO cases (case_key, case_id, customer_key, source, external_id, channel, status, priority,
                           team, created_at, first_response_at, solved_at, closed_at, reopen_count)
        SELECT i, 'case_' || i, customer_key, 'bench', 'ext-' || i, {_labels(CHANNELS)}[ch + 1],
               {_labels(STATUSES)}[st + 1], {_labels(PRIORITIES)}[pr + 1], {_labels(TEAMS)}[tm + 1],
               created_at, created_at + to_seconds(least(first_s, resolve_s)),
               CASE WHEN st <= 1 THEN created_at + to_seconds(resolve_s) END,
               CASE WHEN st = 1 THEN created_at + to_seconds(resolve_s + 172800) END,
               CASE WHEN st <= 1 AND reopen_u < 0.06 THEN 1 ELSE 0 END
        FROM (SELECT *, {resolve_s} AS resolve_s, {first_s} AS first_s
              FROM (SELECT i, 1 + hash(i, {seed}, 20) % {customers} AS customer_key,
                           {_index(_u(seed, 21), CHANNEL_P)} AS ch,
                           {_index(_u(seed, 22), STATUS_P)} AS st,
                           {_index(_u(seed, 23), PRIORITY_P)} AS pr,
                           {_index(_u(seed, 24), TEAM_P)} AS tm,
                           {_u(seed, 25)} AS reopen_u,
                           {START} + {_seconds(_u(seed, 26), TWO_YEARS_S)} AS created_at
                    FROM (SELECT range + 1 AS i FROM range({start}, {stop}))))"""


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(total, start + size)


def generate(ws: Any, sizes: dict[str, int], seed: int, chunk: int) -> dict[str, float]:
    """Fill the workspace; returns seconds per table."""
    builders: dict[str, Callable[[int, int], str]] = {
        "customers": lambda a, b: customers_sql(a, b, seed),
        "responses": lambda a, b: responses_sql(a, b, seed, sizes["customers"]),
        "cases": lambda a, b: cases_sql(a, b, seed, sizes["customers"]),
    }
    seconds: dict[str, float] = {}
    for table, build in builders.items():
        t0 = time.perf_counter()
        for start, stop in _chunks(sizes[table], chunk):
            with ws.store.unit_of_work() as s:
                s.execute(build(start, stop))
        seconds[table] = time.perf_counter() - t0
        print(f"  {table}: {sizes[table]:,} rows in {seconds[table]:.1f} s", flush=True)
    return seconds


def export_base_rows(ws: Any, folder: Path) -> dict[str, Path]:
    """The rows the peers read, once, as Parquet (timestamps as naive UTC)."""
    queries = {
        "responses": "SELECT metric, score, channel, CAST(answered_at AS TIMESTAMP) AS answered_at "
        "FROM responses",
        "cases": "SELECT team, status, CAST(created_at AS TIMESTAMP) AS created_at, "
        "CAST(solved_at AS TIMESTAMP) AS solved_at, CAST(closed_at AS TIMESTAMP) AS closed_at FROM cases",
    }
    paths = {}
    with ws.store.session() as s:
        for name, sql in queries.items():
            paths[name] = folder / f"{name}.parquet"
            s.execute(f"COPY ({sql}) TO '{paths[name]}' (FORMAT PARQUET)")
    return paths


# ----------------------------------------------------------------------------------------------
# Shared statistics for the peers (independent of cxlens.metrics.stats)
# ----------------------------------------------------------------------------------------------
def nps_groups(keys: list[Key], n: np.ndarray, promoters: np.ndarray, detractors: np.ndarray) -> Groups:
    """NPS and its adjusted-Wald interval (Rocks 2016; docs/metrics.md) per group."""
    n, promoters, detractors = (np.asarray(a, dtype=np.float64) for a in (n, promoters, detractors))
    value = 100 * (promoters - detractors) / n
    n_adj = n + 3
    p = (promoters + 0.75) / n_adj
    d = (detractors + 0.75) / n_adj
    half = Z95 * np.sqrt((p + d - (p - d) ** 2) / n_adj)
    low = np.clip(100 * (p - d - half), -100, 100)
    high = np.clip(100 * (p - d + half), -100, 100)
    return {
        k: {"n": float(n[i]), "nps": float(value[i]), "ci_low": float(low[i]), "ci_high": float(high[i])}
        for i, k in enumerate(keys)
    }


ORDER_ROLES = ("mid_lo", "mid_hi", "ci_lo", "ci_hi", "p90")


def order_ranks(n: np.ndarray) -> dict[str, np.ndarray]:
    """1-based ranks of the order statistics cxlens reports (metrics/order_stats.py), per group size."""
    n = np.asarray(n, dtype=np.float64)
    return {
        "mid_lo": np.floor((n + 1) / 2),
        "mid_hi": np.floor((n + 2) / 2),
        "ci_lo": np.maximum(1, np.floor(n / 2 - Z95 * np.sqrt(n) / 2)),
        "ci_hi": np.minimum(n, np.ceil(1 + n / 2 + Z95 * np.sqrt(n) / 2)),
        "p90": np.ceil(n * 0.9),
    }


def order_stats(picked: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        "median": (picked["mid_lo"] + picked["mid_hi"]) / 2,
        "median_low": picked["ci_lo"],
        "median_high": picked["ci_hi"],
        "p90": picked["p90"],
    }


def ttr_groups(keys: list[Key], n: np.ndarray, mean: np.ndarray, picked: dict[str, np.ndarray]) -> Groups:
    stats = order_stats(picked)
    return {
        k: {"n": float(n[i]), "mean": float(mean[i]), **{name: float(v[i]) for name, v in stats.items()}}
        for i, k in enumerate(keys)
    }


# ----------------------------------------------------------------------------------------------
# cxlens
# ----------------------------------------------------------------------------------------------
def ttr_available() -> bool:
    from cxlens.metrics.library import METRICS

    return "ttr" in METRICS


def cxlens_groups(result: Any, metric: str) -> Groups:
    """cxlens rows keyed like the peers: (channel, 'YYYY-MM') or (team, 'YYYY-MM-DD' of the Monday)."""
    groups: Groups = {}
    for row in result.rows:
        if metric == "nps":
            key = (row["channel"], f"{row['period']:%Y-%m}")
            groups[key] = {
                "n": row["n"],
                "nps": row["value"],
                "ci_low": row["ci_low"],
                "ci_high": row["ci_high"],
            }
        else:
            key = (row["team"], f"{row['period']:%Y-%m-%d}")
            parts = row.get("components") or {}
            groups[key] = {
                "n": row["n"],
                "median": row["value"],
                "median_low": row["ci_low"],
                "median_high": row["ci_high"],
                "p90": parts.get("p90"),
                "mean": parts.get("mean"),
            }
    return groups


@contextmanager
def captured_collects() -> Iterator[list[Any]]:
    """The native relations narwhals collects while inside (to re-run their SQL on DuckDB alone)."""
    import narwhals as nw

    native: list[Any] = []
    original = nw.LazyFrame.collect

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        native.append(self.to_native())
        return original(self, *args, **kwargs)

    nw.LazyFrame.collect = spy  # type: ignore[method-assign]
    try:
        yield native
    finally:
        nw.LazyFrame.collect = original  # type: ignore[method-assign]


_HAND_NPS = (
    "SELECT channel, {period} AS period, count(*) AS n, count(*) FILTER (WHERE score >= 9) AS promoters, "
    "count(*) FILTER (WHERE score <= 6) AS detractors FROM responses WHERE metric = 'nps' GROUP BY ALL"
)
_HAND_TTR = (
    "SELECT team, {period} AS period, count(*) AS n, median(h) AS median, avg(h) AS mean "
    "FROM (SELECT team, created_at, epoch(coalesce(solved_at, closed_at) - created_at) / 3600 AS h "
    "FROM cases WHERE coalesce(solved_at, closed_at) >= created_at) GROUP BY ALL"
)
# The same question written by hand on the workspace tables (no joins to customers, DuckDB's own
# median): once with date_trunc on the TIMESTAMPTZ column (time-zone aware, through ICU), once on the
# UTC wall-clock TIMESTAMP rebuilt from epoch microseconds (plain arithmetic, no ICU).
HAND_SQL = {
    "nps": {
        "hand SQL": _HAND_NPS.format(period="date_trunc('month', answered_at)"),
        "hand SQL, no ICU": _HAND_NPS.format(
            period="date_trunc('month', make_timestamp(epoch_us(answered_at)))"
        ),
    },
    "ttr": {
        "hand SQL": _HAND_TTR.format(period="date_trunc('week', created_at)"),
        "hand SQL, no ICU": _HAND_TTR.format(
            period="date_trunc('week', make_timestamp(epoch_us(created_at)))"
        ),
    },
}
DUCKDB_VARIANTS = ("same SQL", "hand SQL", "hand SQL, no ICU")


def duckdb_groups(table: Any, metric: str) -> Groups:
    rows = table.to_pylist()
    if metric == "nps":
        keys = [(r["channel"], f"{r['period']:%Y-%m}") for r in rows]
        n, promoters, detractors = (np.array([r[c] for r in rows]) for c in ("n", "promoters", "detractors"))
        return nps_groups(keys, n, promoters, detractors)
    return {
        (r["team"], f"{r['period']:%Y-%m-%d}"): {"n": r["n"], "median": r["median"], "mean": r["mean"]}
        for r in rows
    }


def time_cxlens(ws: Any, metric: str, by: str, grain: str, runs: Runs) -> tuple[dict[str, Any], Groups]:
    """ws.metric(...) wall time, and the SQL statements narwhals sent DuckDB for it."""

    def call() -> Any:
        return ws.metric(metric, by=[by], grain=grain)

    with captured_collects() as native:
        call()  # records the SQL (not timed; the warm-up of measure() follows)
    timing, result = measure(call, runs)
    out = {"cxlens": timing.to_dict(), "sql": [rel.sql_query() for rel in native]}
    return out, cxlens_groups(result, metric)


def time_statements(s: Any, sql: list[str], runs: Runs) -> dict[str, Any]:
    """cxlens's statements re-run in order: the total per call, and each statement's median (named by
    the columns it returns, to tell the aggregate from the order statistics and the comparison)."""
    each: list[list[float]] = [[] for _ in sql]
    columns: list[list[str]] = [[] for _ in sql]

    def run() -> None:
        for i, q in enumerate(sql):
            t0 = time.perf_counter()
            columns[i] = s.fetch_arrow(q).column_names
            each[i].append((time.perf_counter() - t0) * 1000)

    timing, _ = measure(run, runs)
    statements = [
        {"returns": ", ".join(columns[i]), "median_ms": statistics.median(each[i][1:] or each[i])}
        for i in range(len(sql))
    ]
    return {**timing.to_dict(), "statements": statements}


def time_duckdb(
    ws: Any, metric: str, same_sql: list[str], runs: Runs
) -> tuple[dict[str, dict[str, Any]], dict[str, Groups]]:
    """The engine alone: cxlens's own statements re-run, and the hand-written equivalents."""
    timings: dict[str, dict[str, Any]] = {}
    found: dict[str, Groups] = {}
    with ws.store.session() as s:
        if same_sql:
            try:
                timings["same SQL"] = time_statements(s, same_sql, runs)
            except Exception as error:  # a relation whose SQL does not round-trip
                timings["same SQL"] = {"error": str(error).splitlines()[0]}
        for variant, sql in HAND_SQL[metric].items():
            timing, table = measure(lambda sql=sql: s.fetch_arrow(sql), runs)
            timings[variant] = timing.to_dict()
            found[f"DuckDB {variant}"] = duckdb_groups(table, metric)
    return timings, found


def profile_call(ws: Any, metric: str, by: str, grain: str, top: int = 14) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    ws.metric(metric, by=[by], grain=grain)
    profiler.disable()
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(top)
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------------
# pandas
# ----------------------------------------------------------------------------------------------
def pandas_load(paths: dict[str, Path]) -> tuple[dict[str, Any], float]:
    import pandas as pd

    t0 = time.perf_counter()
    responses = pd.read_parquet(paths["responses"])
    responses = responses.astype({"metric": "category", "channel": "category"})
    cases = pd.read_parquet(paths["cases"]).astype({"team": "category", "status": "category"})
    return {"responses": responses, "cases": cases}, time.perf_counter() - t0


def _months(values: np.ndarray) -> list[str]:
    return [str(v) for v in values.astype("datetime64[M]")]


def _mondays(days: np.ndarray) -> list[str]:
    return [str(v) for v in days.astype("datetime64[D]")]


def pandas_nps(df: Any) -> Groups:
    rows = df[df["metric"] == "nps"]
    score = rows["score"].to_numpy()
    frame = rows.assign(
        month=rows["answered_at"].to_numpy().astype("datetime64[M]").view(np.int64),
        promoter=score >= 9,
        detractor=score <= 6,
    )
    counts = frame.groupby(["channel", "month"], observed=True, sort=True).agg(
        n=("promoter", "size"), promoters=("promoter", "sum"), detractors=("detractor", "sum")
    )
    channels = counts.index.get_level_values(0).astype(str)
    months = _months(counts.index.get_level_values(1).to_numpy())
    keys = list(zip(channels, months, strict=True))
    return nps_groups(
        keys, counts["n"].to_numpy(), counts["promoters"].to_numpy(), counts["detractors"].to_numpy()
    )


def pandas_ttr(df: Any) -> Groups:
    import pandas as pd

    solved, closed = df["solved_at"].to_numpy(), df["closed_at"].to_numpy()
    created = df["created_at"].to_numpy()
    end = np.where(np.isnat(solved), closed, solved)  # coalesce(solved_at, closed_at)
    hours = (end - created).astype("timedelta64[s]").astype(np.float64) / 3600
    days = created.astype("datetime64[D]").view(np.int64)
    frame = pd.DataFrame({"team": df["team"].to_numpy(), "week": days - (days + 3) % 7, "hours": hours})
    frame = frame[frame["hours"] >= 0]  # NaN (unresolved) and negative durations drop out
    grouped = frame.groupby(["team", "week"], observed=True, sort=True)
    gid = grouped.ngroup().to_numpy()
    values = frame["hours"].to_numpy()
    sizes = grouped.size()
    n = sizes.to_numpy()
    ordered = values[np.lexsort((values, gid))]
    starts = np.concatenate(([0], np.cumsum(n)[:-1]))
    picked = {role: ordered[starts + r.astype(np.int64) - 1] for role, r in order_ranks(n).items()}
    mean = grouped["hours"].mean().to_numpy()
    teams = sizes.index.get_level_values(0).astype(str)
    weeks = _mondays(sizes.index.get_level_values(1).to_numpy())
    return ttr_groups(list(zip(teams, weeks, strict=True)), n, mean, picked)


# ----------------------------------------------------------------------------------------------
# SQLite
# ----------------------------------------------------------------------------------------------
SQLITE_TABLES = {
    "responses": ("metric TEXT", "score REAL", "channel TEXT", "answered_at INTEGER"),
    "cases": ("team TEXT", "status TEXT", "created_at INTEGER", "solved_at INTEGER", "closed_at INTEGER"),
}


def _sqlite_columns(batch: Any) -> list[list[Any]]:
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in batch.columns:
        if pa.types.is_timestamp(column.type):  # -> Unix seconds (the data has whole seconds)
            columns.append(pc.divide(column.cast(pa.int64()), 1_000_000).to_pylist())
        else:
            columns.append(column.to_pylist())
    return columns


def sqlite_load(paths: dict[str, Path], db: Path) -> float:
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    for table, columns in SQLITE_TABLES.items():
        con.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
        names = ", ".join(column.split()[0] for column in columns)
        insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
        for batch in pq.ParquetFile(paths[table]).iter_batches(batch_size=250_000):
            con.executemany(insert, zip(*_sqlite_columns(batch), strict=True))
        con.commit()
    con.close()
    return time.perf_counter() - t0


SQLITE_NPS = """
    SELECT channel, strftime('%Y-%m', answered_at, 'unixepoch') AS month, COUNT(*) AS n,
           SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
           SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM responses WHERE metric = 'nps'
    GROUP BY channel, month ORDER BY channel, month"""

# SQLite has no median: rank each resolved case within its (team, week) by hours and keep only the
# rows whose rank is one of the order statistics (median ranks, interval ranks, p90 rank).
SQLITE_TTR = """
    WITH resolved AS (
        SELECT team, date(created_at, 'unixepoch', 'weekday 0', '-6 days') AS week,
               (coalesce(solved_at, closed_at) - created_at) / 3600.0 AS hours
        FROM cases
        WHERE coalesce(solved_at, closed_at) >= created_at
    ), ranked AS (
        SELECT team, week, hours,
               ROW_NUMBER() OVER (PARTITION BY team, week ORDER BY hours) AS rn,
               COUNT(*) OVER (PARTITION BY team, week) AS n,
               AVG(hours) OVER (PARTITION BY team, week) AS mean
        FROM resolved
    )
    SELECT team, week, n, mean, rn, hours FROM ranked
    WHERE rn IN ((n + 1) / 2, (n + 2) / 2,
                 max(1, CAST(floor(n / 2.0 - :z * sqrt(n) / 2) AS INTEGER)),
                 min(n, CAST(ceil(1 + n / 2.0 + :z * sqrt(n) / 2) AS INTEGER)),
                 CAST(ceil(n * 0.9) AS INTEGER))
    ORDER BY team, week, rn"""


def sqlite_nps(con: sqlite3.Connection) -> Groups:
    rows = con.execute(SQLITE_NPS).fetchall()
    keys = [(r[0], r[1]) for r in rows]
    n, promoters, detractors = (np.array([r[i] for r in rows], dtype=np.float64) for i in (2, 3, 4))
    return nps_groups(keys, n, promoters, detractors)


def sqlite_ttr(con: sqlite3.Connection) -> Groups:
    by_group: dict[Key, dict[str, Any]] = {}
    for team, week, n, mean, rn, hours in con.execute(SQLITE_TTR, {"z": Z95}):
        slot = by_group.setdefault((team, week), {"n": n, "mean": mean, "at": {}})
        slot["at"][rn] = hours
    keys = list(by_group)
    n = np.array([by_group[k]["n"] for k in keys], dtype=np.float64)
    ranks = order_ranks(n)
    picked = {
        role: np.array([by_group[k]["at"][int(r[i])] for i, k in enumerate(keys)])
        for role, r in ranks.items()
    }
    mean = np.array([by_group[k]["mean"] for k in keys])
    return ttr_groups(keys, n, mean, picked)


# ----------------------------------------------------------------------------------------------
# Checks and report
# ----------------------------------------------------------------------------------------------
def _close(a: float, b: float, tol: float = 1e-5) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def compare(name_a: str, a: Groups, name_b: str, b: Groups) -> list[str]:
    """Differences between two implementations (fields missing on either side are skipped)."""
    problems = []
    for key in sorted(set(a) ^ set(b)):
        problems.append(f"{key}: only in {name_a if key in a else name_b}")
    for key in sorted(set(a) & set(b)):
        for name, value in a[key].items():
            other = b[key].get(name)
            if value is not None and other is not None and not _close(float(value), float(other)):
                problems.append(f"{key} {name}: {name_a} {value} vs {name_b} {other}")
    return problems


def check(entry: dict[str, Any], results: dict[str, Groups]) -> None:
    """Every implementation against the reference (cxlens when it ran, else the first peer)."""
    entry["checks"] = {}
    if not results:
        return
    reference = next((r for r in ("cxlens", "pandas", "sqlite") if r in results), next(iter(results)))
    for name, found in results.items():
        if name == reference:
            continue
        problems = compare(reference, results[reference], name, found)
        entry["checks"][f"{reference} vs {name}"] = {"groups": len(found), "mismatches": problems[:20]}
        if problems:
            print(
                f"\n!!! MISMATCH {entry['metric']}: {reference} vs {name}: {len(problems)} differences",
                flush=True,
            )
            for p in problems[:10]:
                print(f"!!!   {p}", flush=True)
        else:
            print(f"  check {entry['metric']}: {reference} = {name} on {len(found)} groups", flush=True)


def mib(n: float | None) -> str:
    return "—" if n is None else f"{n / 2**20:,.0f} MiB"


def _ms(d: dict[str, Any] | None, key: str = "median_ms") -> str:
    if not d:
        return "—"
    if "error" in d:
        return "error"
    if key in d:
        return f"{d[key]:,.1f}"
    return d.get("status", "—") if key == "median_ms" else "—"


def _ratio(peer: dict[str, Any] | None, cx: dict[str, Any] | None) -> str:
    if not peer or not cx or "median_ms" not in peer or "median_ms" not in cx:
        return "—"
    return f"{peer['median_ms'] / cx['median_ms']:.1f}×"


def markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    pk = m["packages"]
    sizes = res["sizes"]
    lines = [
        f"**{sizes['responses']:,} responses, {sizes['cases']:,} cases, {sizes['customers']:,} customers**, "
        f"seed {res['seed']}, {res['repeat']} timed runs after a warm-up (peers: {res['peer_repeat']}) — "
        f"{m['cpu']}, {m['logical_cores']} logical cores, {m['ram_gb']} GiB RAM, Python {m['python']}, "
        f"DuckDB {pk['duckdb']}, narwhals {pk['narwhals']}, pandas {pk['pandas']}, SQLite {sqlite3.sqlite_version}",
        "",
        "| computation | rows | groups | cxlens median ms | cxlens p95 ms | target | met | pandas ms | "
        "pandas/cxlens | SQLite ms | SQLite/cxlens | DuckDB: cxlens's SQL ms | DuckDB: hand SQL ms | "
        "DuckDB: hand SQL, no ICU ms |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in res["computations"].values():
        cx = entry.get("cxlens")
        met = {True: "**yes**", False: "**no**", None: "—"}[entry.get("target_met")]
        duck = entry.get("duckdb", {})
        lines.append(
            f"| {entry['title']} | {entry['rows']:,} | {entry.get('groups', '—')} | {_ms(cx)} | "
            f"{_ms(cx, 'p95_ms')} | ≤ {entry['target_ms']:.0f} | {met} | {_ms(entry.get('pandas'))} | "
            f"{_ratio(entry.get('pandas'), cx)} | {_ms(entry.get('sqlite'))} | {_ratio(entry.get('sqlite'), cx)} | "
            + " | ".join(_ms(duck.get(v)) for v in DUCKDB_VARIANTS)
            + " |"
        )
    lines += ["", *_notes(res)]
    return "\n".join(lines)


def _series(entry: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    series = [(k, entry[k]) for k in ("cxlens", "pandas", "sqlite") if isinstance(entry.get(k), dict)]
    return series + [(f"DuckDB {k}", v) for k, v in entry.get("duckdb", {}).items()]


def _notes(res: dict[str, Any]) -> list[str]:
    gen = res["generate"]
    notes = [
        f"Data generation (DuckDB SQL into the workspace): {gen['total_s']:.1f} s "
        f"({', '.join(f'{t} {s:.1f} s' for t, s in gen['tables_s'].items())}); workspace "
        f"{mib(gen['workspace_bytes'])}; Parquet export for the peers {res['export_s']:.1f} s.",
    ]
    if "pandas_load_s" in res:
        notes.append(f"pandas load (read_parquet + category), not timed above: {res['pandas_load_s']:.1f} s.")
    if "sqlite_load_s" in res:
        notes.append(
            f"SQLite load (executemany, no indexes), not timed above: {res['sqlite_load_s']:.1f} s; "
            f"file {mib(res['sqlite_bytes'])}."
        )
    for entry in res["computations"].values():
        cx = entry.get("cxlens") or {}
        same = entry.get("duckdb", {}).get("same SQL") or {}
        if "median_ms" in cx and "median_ms" in same:
            share = 100 * same["median_ms"] / cx["median_ms"]
            notes.append(
                f"{entry['title']}: engine (the {len(entry['sql'])} SQL statement(s) narwhals sends, "
                f"re-run on DuckDB) {same['median_ms']:.1f} ms = {share:.0f}% of the cxlens call; the rest is "
                f"Python (narwhals plan, statistics, rows). Per statement (median ms, columns returned): "
                + "; ".join(f"{st['median_ms']:.0f} ({st['returns']})" for st in same.get("statements", []))
                + "."
            )
        for pair, c in entry.get("checks", {}).items():
            state = "agree" if not c["mismatches"] else f"**MISMATCH** ({len(c['mismatches'])}+)"
            notes.append(f"Check {entry['metric']} {pair}: {state} on {c['groups']} groups.")
    peaks = ", ".join(
        f"{name} {mib(v['peak_rss'])} (start {mib(v['start_rss'])})" for name, v in res["memory"].items()
    )
    notes.append(f"Peak RSS (VmHWM) per phase: {peaks}; process peak {mib(res['peak_rss'])}.")
    others = ", ".join(f"{name} {100 * v['other_cpu_share']:.0f}%" for name, v in res["memory"].items())
    notes.append(f"CPU used by other processes (share of all cores) per phase: {others}.")
    short = [
        f"{entry['metric']} {name} {timing['runs']}"
        for entry in res["computations"].values()
        for name, timing in _series(entry)
        if timing.get("runs", res["repeat"]) < res["repeat"]
    ]
    if short:
        notes.append(
            f"Series cut short by the {res['budget_s']:.0f} s budget (timed runs): {', '.join(short)}."
        )
    notes.append(f"Total wall time {res['total_s']:.0f} s.")
    return [f"- {n}" for n in notes]


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------
COMPUTATIONS = {
    "nps": {"title": "NPS by channel × month", "by": "channel", "grain": "month", "table": "responses"},
    "ttr": {"title": "TTR median by team × week", "by": "team", "grain": "week", "table": "cases"},
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--responses", type=int, default=10_000_000)
    p.add_argument("--cases", type=int, default=2_000_000)
    p.add_argument("--customers", type=int, default=500_000)
    p.add_argument("--repeat", type=int, default=7, help="timed runs of cxlens and DuckDB (after a warm-up)")
    p.add_argument(
        "--peer-repeat", type=int, default=None, help="timed runs of pandas/SQLite (default: --repeat)"
    )
    p.add_argument(
        "--budget",
        type=float,
        default=60,
        help="seconds of timed runs per series after which repeating stops (at least 3 runs are kept)",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--chunk", type=int, default=2_500_000, help="rows inserted per transaction")
    p.add_argument("--skip-pandas", action="store_true")
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--profile", action="store_true", help="cProfile one cxlens call of each metric")
    p.add_argument("--tmp", default=None, help="parent of the temp dir (default: system temp)")
    return _results.parse_args(p, SMOKE)


def build_workspace(a: argparse.Namespace, tmp: Path, res: dict[str, Any]) -> tuple[Path, dict[str, Path]]:
    import cxlens

    db = tmp / "bench.duckdb"
    with phase(res["memory"], "generate"):
        t0 = time.perf_counter()
        with cxlens.open(db) as ws:
            tables = generate(ws, res["sizes"], a.seed, a.chunk)
            res["generate"] = {"tables_s": tables, "total_s": time.perf_counter() - t0}
            t0 = time.perf_counter()
            paths = export_base_rows(ws, tmp)
            res["export_s"] = time.perf_counter() - t0
    res["generate"]["workspace_bytes"] = db.stat().st_size
    with cxlens.open(db) as ws, ws.store.session() as s:
        res["computations"]["nps"]["rows"] = s.fetch_value(
            "SELECT count(*) FROM responses WHERE metric = 'nps'"
        )
        res["computations"]["ttr"]["rows"] = s.fetch_value(
            "SELECT count(*) FROM cases WHERE coalesce(solved_at, closed_at) >= created_at"
        )
    return db, paths


def run_cxlens(
    a: argparse.Namespace, db: Path, res: dict[str, Any], groups: dict[str, dict[str, Groups]]
) -> None:
    """cxlens, then DuckDB alone on the same workspace (its SQL re-run, and hand-written)."""
    import cxlens

    runs = Runs(a.repeat, a.budget)
    with phase(res["memory"], "cxlens"), cxlens.open(db) as ws:  # reopened: nothing cached in Python
        for metric, spec in COMPUTATIONS.items():
            entry = res["computations"][metric]
            if metric == "ttr" and not ttr_available():
                entry["cxlens"] = {"status": "not yet available"}
                print(
                    "  cxlens ttr: not yet available (no 'ttr' in cxlens.metrics.library.METRICS)", flush=True
                )
            else:
                out, groups[metric]["cxlens"] = time_cxlens(ws, metric, spec["by"], spec["grain"], runs)
                entry.update(out)
                entry["target_met"] = entry["cxlens"]["median_ms"] <= entry["target_ms"]
                cx = entry["cxlens"]
                print(
                    f"  cxlens {metric}: median {cx['median_ms']:.1f} ms, p95 {cx['p95_ms']:.1f} ms",
                    flush=True,
                )
                if a.profile:
                    entry["profile"] = profile_call(ws, metric, spec["by"], spec["grain"])
                    print(entry["profile"], flush=True)
            entry["duckdb"], found = time_duckdb(ws, metric, entry.get("sql", []), runs)
            groups[metric].update(found)
            print(
                f"  DuckDB {metric}: " + ", ".join(f"{v} {_ms(t)} ms" for v, t in entry["duckdb"].items()),
                flush=True,
            )


def run_pandas(
    runs: Runs, paths: dict[str, Path], res: dict[str, Any], groups: dict[str, dict[str, Groups]]
) -> None:
    with phase(res["memory"], "pandas"):
        frames, res["pandas_load_s"] = pandas_load(paths)
        print(f"  pandas load: {res['pandas_load_s']:.1f} s", flush=True)
        for metric, fn in (("nps", pandas_nps), ("ttr", pandas_ttr)):
            df = frames[COMPUTATIONS[metric]["table"]]
            timing, groups[metric]["pandas"] = measure(lambda fn=fn, df=df: fn(df), runs)
            res["computations"][metric]["pandas"] = timing.to_dict()
            print(f"  pandas {metric}: median {timing.median_ms:.1f} ms", flush=True)
        del frames


def run_sqlite(
    runs: Runs, paths: dict[str, Path], tmp: Path, res: dict[str, Any], groups: dict[str, dict[str, Groups]]
) -> None:
    db = tmp / "bench.sqlite"
    with phase(res["memory"], "sqlite"):
        res["sqlite_load_s"] = sqlite_load(paths, db)
        res["sqlite_bytes"] = db.stat().st_size
        print(f"  SQLite load: {res['sqlite_load_s']:.1f} s", flush=True)
        con = sqlite3.connect(db)
        for metric, fn in (("nps", sqlite_nps), ("ttr", sqlite_ttr)):
            timing, groups[metric]["sqlite"] = measure(lambda fn=fn: fn(con), runs)
            res["computations"][metric]["sqlite"] = timing.to_dict()
            print(f"  SQLite {metric}: median {timing.median_ms:.1f} ms", flush=True)
        con.close()


def main() -> int:
    a = parse_args()
    peer_runs = Runs(a.peer_repeat or a.repeat, a.budget)
    started = time.perf_counter()
    res: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": {"responses": a.responses, "cases": a.cases, "customers": a.customers},
        "seed": a.seed,
        "repeat": a.repeat,
        "peer_repeat": peer_runs.repeat,
        "budget_s": a.budget,
        "machine": describe_machine(("cxlens", "duckdb", "narwhals", "pandas", "numpy", "pyarrow")),
        "memory": {},
        "computations": {
            m: {"metric": m, "title": c["title"], "target_ms": TARGET_MS[m]} for m, c in COMPUTATIONS.items()
        },
    }
    groups: dict[str, dict[str, Groups]] = {m: {} for m in COMPUTATIONS}
    tmp = Path(tempfile.mkdtemp(prefix="cxlens-bench-metrics-", dir=a.tmp))
    try:
        print(f"generating in {tmp} ...", flush=True)
        db, paths = build_workspace(a, tmp, res)
        print("cxlens ...", flush=True)
        run_cxlens(a, db, res, groups)
        if not a.skip_pandas:
            print("pandas ...", flush=True)
            run_pandas(peer_runs, paths, res, groups)
        if not a.skip_sqlite:
            print("SQLite ...", flush=True)
            run_sqlite(peer_runs, paths, tmp, res, groups)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for metric, found in groups.items():
        check(res["computations"][metric], found)
        res["computations"][metric]["groups"] = len(found.get("cxlens") or next(iter(found.values()), {}))
    res["peak_rss"] = max(v["peak_rss"] for v in res["memory"].values())
    res["total_s"] = time.perf_counter() - started
    out = _results.write_result(a, "metrics", res)  # before the summary, which may fail on odd figures
    print()
    print(markdown(res))
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
