"""Decision 0002's evidence: what an ART index costs a 10M-row bulk insert, and what it buys a
customer lookup, against a plain scan of an integer key. A script, not a test.

    python benchmarks/bench_index_choice.py [--rows 10000000] [--smoke] [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from _results import describe_machine, parse_args, write_result

SMOKE = {"rows": 20_000}
FILL = (
    "INSERT INTO t (id, cid, ck, ts, p) SELECT 'i' || i, 'cus_' || md5(CAST(i % 1000003 AS VARCHAR))[:24], i % 1000003, "
    "now(), '{{}}' FROM range({rows}) r(i)"
)


def timed_lookups(con: duckdb.DuckDBPyConnection, sql: str, keys: list[object]) -> float:
    con.execute(sql, [keys[0]]).fetchall()  # warm
    times = []
    for key in keys:
        start = time.perf_counter()
        con.execute(sql, [key]).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(rows: int, indexed: bool, folder: Path) -> dict[str, float]:
    path = folder / f"t{int(indexed)}.duckdb"
    con = duckdb.connect(str(path))
    con.execute("SET enable_progress_bar = false")
    con.execute("CREATE TABLE t (id VARCHAR, cid VARCHAR, ck BIGINT, ts TIMESTAMPTZ, p JSON)")
    if indexed:
        con.execute("CREATE INDEX t_cid ON t (cid)")
    start = time.perf_counter()
    con.execute(FILL.format(rows=rows))
    con.execute("CHECKPOINT")
    insert = time.perf_counter() - start
    con.close()
    con = duckdb.connect(str(path))
    ids = [r[0] for r in con.execute("SELECT cid FROM t USING SAMPLE 20 ROWS").fetchall()]
    keys = [r[0] for r in con.execute("SELECT ck FROM t USING SAMPLE 20 ROWS").fetchall()]
    result = {
        "insert_s": insert,
        "varchar_lookup_ms": timed_lookups(
            con, "SELECT * FROM t WHERE cid = ? ORDER BY ts DESC LIMIT 50", ids
        ),
        "integer_scan_ms": timed_lookups(con, "SELECT * FROM t WHERE ck = ? ORDER BY ts DESC LIMIT 50", keys),
    }
    con.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parse_args(parser, SMOKE)
    rows = args.rows
    with tempfile.TemporaryDirectory() as tmp:
        plain, indexed = run(rows, False, Path(tmp)), run(rows, True, Path(tmp))
    out = write_result(
        args,
        f"index-choice-{rows}",
        {
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "rows": rows,
            "machine": describe_machine(("duckdb",)),
            "without_index": plain,
            "with_index": indexed,
        },
    )
    print(f"| Operation ({rows:,} rows) | Without index | With index on the VARCHAR id |")
    print("|---|---:|---:|")
    print(f"| Bulk insert | {plain['insert_s']:.1f} s | {indexed['insert_s']:.1f} s |")
    print(
        f"| Lookup by VARCHAR id | {plain['varchar_lookup_ms']:.0f} ms | {indexed['varchar_lookup_ms']:.0f} ms |"
    )
    print(
        f"| Lookup by BIGINT key | {plain['integer_scan_ms']:.0f} ms | {indexed['integer_scan_ms']:.0f} ms |"
    )
    print(f"JSON: {out}")


if __name__ == "__main__":
    main()
