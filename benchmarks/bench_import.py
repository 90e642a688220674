"""Import benchmark: cxlens ``import_file`` vs. a straightforward pandas loader, plus timeline latency.

A script, not a test (docs/benchmarks.md; engineering guide §3). Everything is local: inputs are
generated deterministically (seeded numpy) into a temp dir at benchmark time and deleted afterwards.

    python benchmarks/bench_import.py                       # 10,000,000 rows, csv + jsonl, with pandas
    python benchmarks/bench_import.py --rows 1000000        # quick run
    python benchmarks/bench_import.py --skip-pandas --formats csv
    python benchmarks/bench_import.py --rows 1000000 --profile   # + per-SQL-statement timings
    python benchmarks/bench_import.py --smoke                   # a few thousand rows: does it still run?

Each import runs in its own child process; its peak memory is the child's max RSS as reported by
its own VmHWM (peak resident memory since exec), cross-checked by a psutil sampler thread inside the
child. Results: JSON in benchmarks/out/ (git-ignored; ``--out`` elsewhere), then a Markdown table on
stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _results import describe_machine, parse_args, write_result

SEED = 20240601
# --smoke: a few thousand rows, both formats and both loaders, so every path runs in seconds.
SMOKE = {"rows": 3000, "timeline_samples": 3, "timeout": 300}
USERS = 1_000_000
CHANNELS = ("web", "app", "email", "phone", "chat", "social", "store", "other")
STAGES = (
    "awareness", "consideration", "purchase", "fulfilment", "onboarding",
    "usage", "support", "retention", "advocacy",
)  # fmt: skip
NAMES = (
    "page_view", "app_open", "login", "search", "add_to_cart", "checkout", "order_placed",
    "order_shipped", "order_delivered", "return_requested", "support_call", "chat_started",
    "email_opened", "email_clicked", "store_visit", "review_posted",
)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Input generation (vectorised: numpy -> Arrow -> DuckDB COPY; no Python row loop)
# ----------------------------------------------------------------------------------------------
def generate(rows: int, folder: Path, formats: list[str]) -> dict[str, Path]:
    import duckdb
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(SEED)
    # Skewed activity: rank ~ exponential, so low ranks are heavy users; a fixed permutation turns
    # ranks into user numbers so heavy users are not simply u0000001, u0000002, ...
    rank = np.minimum(rng.exponential(scale=USERS / 6, size=rows).astype(np.int64), USERS - 1)
    user_no = rng.permutation(USERS)[rank] + 1
    has_email = rng.random(rows) < 0.20
    start = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
    seconds = start + rng.integers(0, 2 * 365 * 86400, size=rows, dtype=np.int64)
    channel = rng.choice(len(CHANNELS), size=rows, p=[0.30, 0.22, 0.14, 0.10, 0.09, 0.06, 0.06, 0.03])
    name = rng.integers(0, len(NAMES), size=rows)
    stage = rng.integers(0, len(STAGES) + 1, size=rows)  # len(STAGES) -> no stage
    amount = np.round(rng.gamma(2.0, 40.0, size=rows), 2)
    amount_null = rng.random(rows) < 0.5
    table = pa.table(
        {
            "user_no": pa.array(user_no),
            "has_email": pa.array(has_email),
            "ts": pa.array(seconds),
            "channel_i": pa.array(channel.astype(np.int32)),
            "name_i": pa.array(name.astype(np.int32)),
            "stage_i": pa.array(stage.astype(np.int32)),
            "amount": pa.array(amount, mask=amount_null),
        }
    )
    del rank, user_no, has_email, seconds, channel, name, stage, amount, amount_null
    con = duckdb.connect()
    con.register("gen", table)
    lists = {
        "channels": "[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]",
        "names": "[" + ", ".join(f"'{c}'" for c in NAMES) + "]",
        "stages": "[" + ", ".join(f"'{c}'" for c in STAGES) + "]",
    }
    select = f"""
        SELECT 'u' || lpad(CAST(user_no AS VARCHAR), 7, '0') AS user_id,
               CASE WHEN has_email THEN 'user' || CAST(user_no AS VARCHAR) || '@example.com' END AS email,
               strftime(to_timestamp(ts) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS occurred_at,
               {lists["channels"]}[channel_i + 1] AS channel,
               {lists["names"]}[name_i + 1] AS name,
               CASE WHEN stage_i < {len(STAGES)} THEN {lists["stages"]}[stage_i + 1] END AS stage,
               amount
        FROM gen ORDER BY ts"""
    paths: dict[str, Path] = {}
    if "csv" in formats:
        paths["csv"] = folder / "interactions.csv"
        con.execute(f"COPY ({select}) TO '{paths['csv']}' (FORMAT CSV, HEADER)")
    if "jsonl" in formats:
        paths["jsonl"] = folder / "interactions.jsonl"
        con.execute(f"COPY ({select}) TO '{paths['jsonl']}' (FORMAT JSON)")
    con.close()
    return paths


# ----------------------------------------------------------------------------------------------
# Child-process workers
# ----------------------------------------------------------------------------------------------
class PeakSampler:
    """Samples this process's RSS every 20 ms in a daemon thread."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.baseline = self._proc.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def _install_sql_profiler(stats: list[dict[str, Any]]) -> None:
    """Wrap DuckDBSession's SQL entry points (in this child only) to time every statement."""
    from cxlens.storage import duckdb_store

    cls = duckdb_store.DuckDBSession
    for method in ("execute", "fetch_all", "fetch_value", "fetch_arrow", "put_arrow", "stage_file"):
        original = getattr(cls, method)

        def timed(
            self: Any, first: Any, *args: Any, _orig: Any = original, _m: str = method, **kw: Any
        ) -> Any:
            t0 = time.perf_counter()
            try:
                return _orig(self, first, *args, **kw)
            finally:
                label = first if isinstance(first, str) else repr(first)
                if _m == "stage_file":
                    label = f"stage_file({first}, {args[1] if len(args) > 1 else kw.get('fmt')})"
                stats.append(
                    {"method": _m, "sql": " ".join(label.split())[:160], "s": time.perf_counter() - t0}
                )

        setattr(cls, method, timed)


def worker_cxlens(file: Path, db: Path, profile: bool) -> dict[str, Any]:
    stats: list[dict[str, Any]] = []
    if profile:
        _install_sql_profiler(stats)
    from cxlens.bootstrap import open_store
    from cxlens.config import Settings
    from cxlens.ingest.options import ImportOptions
    from cxlens.ingest.service import import_file

    with PeakSampler() as mem:
        t0 = time.perf_counter()
        store = open_store(Settings(db=db))
        report = import_file(store, "interactions", file, options=ImportOptions())
        store.close()
        seconds = time.perf_counter() - t0
    out: dict[str, Any] = {
        "seconds": seconds,
        "rss_baseline": mem.baseline,
        "rss_peak_sampled": mem.peak,
        "rss_hwm": rss_high_water_mark(),
        "report": {k: v for k, v in report.to_dict().items() if k != "rejected"},
        "rejected_sample": [
            r if isinstance(r, dict) else str(r) for r in report.to_dict().get("rejected", [])[:5]
        ],
    }
    if profile:
        groups: dict[str, dict[str, Any]] = {}
        for r in stats:  # the same statement runs once per chunk: group by its opening words
            g = groups.setdefault(r["sql"][:90], {"sql": r["sql"][:90], "calls": 0, "s": 0.0})
            g["calls"] += 1
            g["s"] += r["s"]
        out["sql_profile"] = sorted(groups.values(), key=lambda g: -g["s"])[:25]
        out["sql_total_s"] = sum(r["s"] for r in stats)
    return out


def worker_pandas(file: Path, db: Path, fmt: str) -> dict[str, Any]:
    import duckdb
    import pandas as pd

    with PeakSampler() as mem:
        t0 = time.perf_counter()
        dtypes = {
            "user_id": "string",
            "email": "string",
            "channel": "string",
            "name": "string",
            "stage": "string",
        }
        if fmt == "csv":
            df = pd.read_csv(file, dtype={**dtypes, "occurred_at": "string", "amount": "float64"})
        else:
            df = pd.read_json(file, lines=True, dtype=False)  # no inference; dates parsed below
        df["occurred_at"] = pd.to_datetime(df["occurred_at"], utc=True, format="ISO8601")
        before = len(df)
        df = df.drop_duplicates(ignore_index=True)
        duplicates = before - len(df)
        # Customers: one per user_id; an email-only row would join through the email -> customer map.
        codes, uniques = pd.factorize(df["user_id"])
        df["customer_key"] = codes + 1
        customers = pd.DataFrame({"customer_key": range(1, len(uniques) + 1), "user_id": uniques})
        emails = df.loc[df["email"].notna(), ["email", "customer_key"]].drop_duplicates("email")
        customers = customers.merge(emails, on="customer_key", how="left")
        interactions = df.drop(columns=["user_id", "email"])
        con = duckdb.connect(str(db))
        con.register("cust_df", customers)
        con.register("int_df", interactions)
        con.execute("CREATE TABLE customers AS SELECT * FROM cust_df")
        con.execute("CREATE TABLE interactions AS SELECT * FROM int_df")
        con.close()
        seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "rss_baseline": mem.baseline,
        "rss_peak_sampled": mem.peak,
        "rss_hwm": rss_high_water_mark(),
        "rows": int(before),
        "duplicates": int(duplicates),
        "customers": len(uniques),
    }


def worker_timeline(db: Path, samples: int) -> dict[str, Any]:
    import statistics

    from cxlens.bootstrap import open_store
    from cxlens.config import Settings
    from cxlens.interactions.queries import get_timeline

    store = open_store(Settings(db=db))
    with store.session() as s:
        keys = [
            int(r["canonical_key"])
            for r in s.fetch_all(
                "SELECT canonical_key FROM customers WHERE customer_key = canonical_key "
                f"USING SAMPLE reservoir({samples} ROWS) REPEATABLE (42)"
            )
        ]
        sizes = {
            int(r["customer_key"]): int(r["n"])
            for r in s.fetch_all(
                f"SELECT customer_key, count(*) AS n FROM interactions WHERE customer_key IN "
                f"({', '.join(map(str, keys))}) GROUP BY 1"
            )
        }
        for k in keys[:5]:  # warm-up
            get_timeline(s, k, limit=50)
        times = []
        for k in keys:
            t0 = time.perf_counter()
            page = get_timeline(s, k, limit=50)
            times.append((time.perf_counter() - t0) * 1000)
            assert len(page.items) == min(50, sizes.get(k, 0)), (k, len(page.items), sizes.get(k))
    store.close()
    times.sort()
    return {
        "customers_sampled": len(keys),
        "median_ms": statistics.median(times),
        "p95_ms": times[max(0, round(0.95 * len(times)) - 1)],
        "max_ms": times[-1],
        "interactions_per_sampled_customer_median": statistics.median(sizes.get(k, 0) for k in keys),
    }


def rss_high_water_mark() -> int:
    """This process's peak resident memory (VmHWM), in bytes. Unlike ``ru_maxrss`` from wait4,
    which on Linux can carry the parent's peak across fork+exec, VmHWM starts afresh at exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


# ----------------------------------------------------------------------------------------------
# Parent: run children, collect per-child peak RSS
# ----------------------------------------------------------------------------------------------
def run_child(args: list[str], result_file: Path, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_worker", *args, "--_result", str(result_file)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return {"error": f"timed out after {timeout:.0f} s"}
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not result_file.exists():
        return {"error": f"child exited with {proc.returncode}", "process_seconds": wall}
    result: dict[str, Any] = json.loads(result_file.read_text())
    # ru_maxrss of a child can report the parent's peak (the generated inputs), so the child's own
    # VmHWM is the figure; ru_maxrss is kept for reference.
    result["ru_maxrss"] = usage.ru_maxrss * 1024  # Linux: KiB
    result["max_rss"] = result.get("rss_hwm") or result["ru_maxrss"]
    result["process_seconds"] = wall
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


def machine() -> dict[str, Any]:
    return describe_machine(("cxlens", "duckdb", "pandas", "pyarrow"))


def mib(n: float | None) -> str:
    return "—" if n is None else f"{n / 2**20:,.0f} MiB"


def main() -> int:  # noqa: PLR0915 - one linear driver, easier to read whole
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--formats", default="csv,jsonl")
    p.add_argument("--skip-pandas", action="store_true")
    p.add_argument("--skip-timeline", action="store_true")
    p.add_argument("--profile", action="store_true", help="time every SQL statement of the cxlens import")
    p.add_argument("--timeline-samples", type=int, default=50)
    p.add_argument("--timeout", type=float, default=3600, help="per child process, seconds")
    p.add_argument("--tmp", default=None, help="parent of the temp dir (default: system temp)")
    p.add_argument("--_worker", help=argparse.SUPPRESS)
    p.add_argument("--_result", help=argparse.SUPPRESS)
    p.add_argument("--_file", help=argparse.SUPPRESS)
    p.add_argument("--_db", help=argparse.SUPPRESS)
    p.add_argument("--_fmt", help=argparse.SUPPRESS)
    a = parse_args(p, SMOKE)

    if a._worker:
        db = Path(a._db)
        if a._worker == "cxlens":
            res = worker_cxlens(Path(a._file), db, a.profile)
        elif a._worker == "pandas":
            res = worker_pandas(Path(a._file), db, a._fmt)
        else:
            res = worker_timeline(db, a.timeline_samples)
        Path(a._result).write_text(json.dumps(res, default=str))
        return 0

    formats = [f.strip() for f in a.formats.split(",") if f.strip()]
    info = machine()
    results: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": a.rows,
        "users": USERS,
        "seed": SEED,
        "machine": info,
        "imports": {},
    }
    tmp = Path(tempfile.mkdtemp(prefix="cxlens-bench-", dir=a.tmp))
    try:
        t0 = time.perf_counter()
        files = generate(a.rows, tmp, formats)
        results["generate_seconds"] = time.perf_counter() - t0
        results["file_bytes"] = {f: path.stat().st_size for f, path in files.items()}
        print(
            f"generated {a.rows:,} rows in {results['generate_seconds']:.1f} s: "
            + ", ".join(f"{f} {n / 2**20:,.0f} MiB" for f, n in results["file_bytes"].items()),
            flush=True,
        )
        timeline_db: Path | None = None
        for fmt, path in files.items():
            entry: dict[str, Any] = {}
            db = tmp / f"cxlens-{fmt}.duckdb"
            print(f"[{fmt}] cxlens import ...", flush=True)
            extra = ["--profile"] if a.profile else []
            entry["cxlens"] = run_child(
                ["cxlens", "--_file", str(path), "--_db", str(db), *extra],
                tmp / f"r-cx-{fmt}.json",
                a.timeout,
            )
            print(f"[{fmt}] cxlens: {_brief(entry['cxlens'], a.rows)}", flush=True)
            if "error" not in entry["cxlens"] and timeline_db is None:
                timeline_db = db
            elif db.exists():
                db.unlink()
            if not a.skip_pandas:
                pdb = tmp / f"pandas-{fmt}.duckdb"
                print(f"[{fmt}] pandas load ...", flush=True)
                entry["pandas"] = run_child(
                    ["pandas", "--_file", str(path), "--_db", str(pdb), "--_fmt", fmt],
                    tmp / f"r-pd-{fmt}.json",
                    a.timeout,
                )
                print(f"[{fmt}] pandas: {_brief(entry['pandas'], a.rows)}", flush=True)
                pdb.unlink(missing_ok=True)
                cx, pd_ = entry["cxlens"], entry["pandas"]
                if "error" not in cx and "error" not in pd_:
                    entry["ratio_time"] = cx["seconds"] / pd_["seconds"]
                    entry["ratio_peak_rss"] = cx["max_rss"] / pd_["max_rss"]
            results["imports"][fmt] = entry
            path.unlink()  # free disk before the next format
        if timeline_db and not a.skip_timeline:
            print("timeline ...", flush=True)
            results["timeline"] = run_child(
                ["timeline", "--_db", str(timeline_db), "--timeline-samples", str(a.timeline_samples)],
                tmp / "r-tl.json",
                a.timeout,
            )
            results["timeline"]["workspace_bytes"] = timeline_db.stat().st_size
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # The JSON first: a fault in the summary below must not lose a run that took an hour.
    out = write_result(a, f"import-{a.rows}", results)
    print()
    print(markdown(results))
    print(f"\nJSON: {out}")
    return 0


def _brief(r: dict[str, Any], rows: int) -> str:
    if "error" in r:
        return "ERROR " + r["error"]
    return f"{r['seconds']:.1f} s, {rows / r['seconds']:,.0f} rows/s, peak RSS {mib(r['max_rss'])}"


def markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    rows = res["rows"]
    lines = [
        f"**{rows:,} interactions**, ~{res['users']:,} users, seed {res['seed']} — "
        f"{m['cpu']}, {m['logical_cores']} logical cores, {m['ram_gb']} GiB RAM, "
        f"Python {m['python']}, DuckDB {m['packages']['duckdb']}, pandas {m['packages']['pandas']}",
        "",
        "| format | loader | wall s | rows/s | peak RSS (VmHWM) | peak RSS (sampled) | CPU s | time ratio cxlens/pandas | memory ratio cxlens/pandas |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fmt, entry in res["imports"].items():
        for loader in ("cxlens", "pandas"):
            r = entry.get(loader)
            if r is None:
                continue
            if "error" in r:
                lines.append(f"| {fmt} | {loader} | {r['error']} | | | | | | |")
                continue
            ratio_t = f"{entry['ratio_time']:.2f}" if loader == "cxlens" and "ratio_time" in entry else ""
            ratio_m = (
                f"{entry['ratio_peak_rss']:.2f}" if loader == "cxlens" and "ratio_peak_rss" in entry else ""
            )
            lines.append(
                f"| {fmt} | {loader} | {r['seconds']:.1f} | {rows / r['seconds']:,.0f} | {mib(r['max_rss'])} | "
                f"{mib(r['rss_peak_sampled'])} | {r['cpu_seconds']:.1f} | {ratio_t} | {ratio_m} |"
            )
    for fmt, entry in res["imports"].items():
        prof = entry.get("cxlens", {}).get("sql_profile")
        if prof:
            total = entry["cxlens"]["seconds"]
            lines += [
                "",
                f"cxlens SQL profile ({fmt}; {entry['cxlens']['sql_total_s']:.1f} s in SQL of "
                f"{total:.1f} s wall), top statements:",
                "",
                "| s | % of wall | calls | statement |",
                "|---:|---:|---:|---|",
            ]
            for g in prof[:12]:
                lines.append(f"| {g['s']:.2f} | {100 * g['s'] / total:.0f}% | {g['calls']} | `{g['sql']}` |")
    tl = res.get("timeline")
    if tl:
        lines.append("")
        if "error" in tl:
            lines.append(f"Timeline: ERROR {tl['error']}")
        else:
            lines.append(
                f"Timeline (`get_timeline(limit=50)`, {tl['customers_sampled']} random customers, warm): "
                f"median {tl['median_ms']:.1f} ms, p95 {tl['p95_ms']:.1f} ms, max {tl['max_ms']:.1f} ms "
                f"(median {tl['interactions_per_sampled_customer_median']} interactions per sampled customer; "
                f"workspace {tl['workspace_bytes'] / 2**20:,.0f} MiB)"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
