"""Server time of the overview and explorer pages on the default demo workspace.

Builds the default demo company (20,000 customers, 12 months, seed 7) unless ``--db`` names an
existing one, starts ``cxlens serve`` on loopback, signs in, and times each page and fragment
over HTTP (round trip on loopback, so slightly more than the server's own time): median and p95
of ``--repeat`` requests after a warm-up. "Overview, complete" is the shell plus all its
fragments fetched six at a time, as a browser does.

    .venv/bin/python benchmarks/bench_web.py [--db cxlens-demo.duckdb] [--repeat 30]
    .venv/bin/python benchmarks/bench_web.py --smoke     # a 100-customer, 1-month demo, one request each
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from _results import describe_machine, parse_args, write_result

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live_server import free_port, start_server, stop_server  # noqa: E402

from cxlens.auth.model import Role  # noqa: E402
from cxlens.auth.service import create_user  # noqa: E402
from cxlens.bootstrap import open_store  # noqa: E402
from cxlens.config import Settings  # noqa: E402
from cxlens.errors import Conflict  # noqa: E402
from cxlens.web.overview import TILES  # noqa: E402

PASSWORD = "benchmark password 1"
SMOKE = {"repeat": 1, "customers": 100, "months": 1}
PAGES = [
    "/",
    *(f"/overview/tiles/{t.key}?days=90" for t in TILES),
    "/overview/consistency?days=90",
    "/explore",
    "/explore?metric=csat&by=channel&grain=month",
    "/explore?metric=ttr&by=team&grain=week",
    "/customers?q=a",
]


def prepare(args: argparse.Namespace, folder: Path) -> Path:
    db: Path | None = args.db
    if db is None:
        db = folder / "demo.duckdb"
        size = ["--customers", str(args.customers), "--months", str(args.months)]
        subprocess.run(
            [sys.executable, "-m", "cxlens", "demo", "--no-serve", "--db", str(db), *size], check=True
        )
    store = open_store(Settings(db=db))
    try:
        with store.unit_of_work() as uow:
            create_user(uow, email="bench@example.com", name="Bench", role=Role.admin, password=PASSWORD)
    except Conflict:  # the account exists from an earlier run on this workspace
        pass
    finally:
        store.close()
    return db


def timed(client: httpx.Client, path: str) -> float:
    t0 = time.perf_counter()
    fragment = {"hx-request": "true"} if path.startswith("/overview/") else {}
    response = client.get(path, headers={"accept": "text/html", **fragment})
    elapsed = (time.perf_counter() - t0) * 1000
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return elapsed


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--customers", type=int, default=20_000, help="demo size when --db is not given")
    parser.add_argument("--months", type=int, default=12, help="demo history when --db is not given")
    args = parse_args(parser, SMOKE)
    with tempfile.TemporaryDirectory(prefix="cxlens-bench-web-") as tmp:
        db = prepare(args, Path(tmp))
        port = free_port()
        server = start_server(db, port)
        results: dict[str, dict[str, float]] = {}
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=60) as client:
                login = client.post("/login", data={"email": "bench@example.com", "password": PASSWORD})
                assert login.status_code == 303, login.text
                for path in PAGES:
                    timed(client, path)  # warm-up
                    results[path] = summary([timed(client, path) for _ in range(args.repeat)])
                    print(
                        f"{path:<50} median {results[path]['median_ms']:>7.1f} ms  p95 {results[path]['p95_ms']:>7.1f} ms"
                    )
                fragments = [p for p in PAGES if p.startswith("/overview/")]

                def complete() -> float:
                    t0 = time.perf_counter()
                    timed(client, "/")
                    with ThreadPoolExecutor(6) as pool:
                        list(pool.map(lambda p: timed(client, p), fragments))
                    return (time.perf_counter() - t0) * 1000

                results["overview, complete (shell + fragments, 6 at a time)"] = summary(
                    [complete() for _ in range(max(5, args.repeat // 3))]
                )
                print("overview, complete:", results["overview, complete (shell + fragments, 6 at a time)"])
        finally:
            stop_server(server)
    machine = describe_machine(("cxlens", "duckdb", "uvicorn", "fastapi"))
    out = write_result(args, "web", {"command": " ".join(sys.argv), "machine": machine, "results": results})
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
