"""The real ``cxlens`` command in subprocesses: reports, exit codes, no tracebacks, the server
holding the workspace, and a kill -9 in the middle of an import."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from tests.auth_helpers import api_token_for, bearer
from tests.factories import interaction, write_csv
from tests.live_server import CXLENS, run_cxlens, running_server

from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.core.credentials import hash_secret
from cxlens.sources.queries import active_key_hashes
from cxlens.storage.migrations import available_migrations


def run(*args: str, db: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cxlens(*args, db=db, env=env)


def test_init_import_show_search(tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    assert run("init", db=db).returncode == 0
    rows = [
        {**interaction("u1", name="order_placed"), "email": "ana@x.com"},
        interaction("u2", channel="fax"),
    ]
    done = run("import", "interactions", str(write_csv(tmp_path / "i.csv", rows)), "--format", "json", db=db)
    assert done.returncode == 6, done.stderr
    report = json.loads(done.stdout)
    assert (report["imported"], report["rejected_count"]) == (1, 1)
    assert report["rejected"][0]["line"] == 3 and report["rejected"][0]["column"] == "channel"
    shown = json.loads(run("customers", "show", "ana@x.com", "--format", "json", db=db).stdout)
    assert [i["title"] for i in shown["timeline"]] == ["order_placed"]
    found = run("customers", "search", "ana", "--format", "csv", db=db)
    assert found.returncode == 0 and "ana@x.com" in found.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("import", "interactions", "/no/such/file.csv"), 6, "does not exist"),
        (("import", "sessions", "x.csv"), 2, "No such command"),
        (("customers", "show", "nobody"), 3, "No customer matches"),
        (("customers", "unmerge", "mrg_nope"), 3, "No merge"),
    ],
)
def test_errors_are_one_line_without_traceback(
    tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    result = run(*args, db=tmp_path / "ws.duckdb")
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_answers_over_http_and_other_commands_are_told_plainly(tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    run("import", "interactions", str(write_csv(tmp_path / "i.csv", [interaction("u1")])), db=db)
    token = api_token_for(db)
    with running_server(db) as base:
        hits = httpx.get(f"{base}/api/customers", params={"q": "u1"}, headers=bearer(token)).json()["items"]
        assert len(hits) == 1
        busy = run("customers", "show", "u1", db=db)
        assert busy.returncode == 7
        assert "in use by another cxlens process" in busy.stderr and "Traceback" not in busy.stderr


@pytest.mark.slow
def test_kill_9_mid_import_then_rerun_gives_exact_counts(tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    rows = [
        interaction(f"u{i % 5000}", name=f"e{i}", occurred_at=f"2024-01-01T00:00:{i % 60:02d}Z")
        for i in range(200_000)
    ]
    path = write_csv(tmp_path / "big.csv", rows)
    env = {**os.environ, "CXLENS_IMPORT_CHUNK_ROWS": "10000"}
    victim = subprocess.Popen(
        [*CXLENS, "import", "interactions", str(path), "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wal = db.with_name(db.name + ".wal")
    deadline = time.monotonic() + 120
    # Kill once the first chunks are committed (the write-ahead log has content), mid-import.
    while time.monotonic() < deadline and victim.poll() is None:
        if wal.exists() and wal.stat().st_size > 200_000:
            break
        time.sleep(0.005)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    again = run(
        "import",
        "interactions",
        str(path),
        "--format",
        "json",
        db=db,
        env={"CXLENS_IMPORT_CHUNK_ROWS": "10000"},
    )
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["imported"] + report["duplicates"] == 200_000
    final = run("import", "interactions", str(path), "--format", "json", db=db)
    assert json.loads(final.stdout)["imported"] == 0
    store = open_store(Settings(db=db))
    with store.session() as session:
        counts = session.fetch_one(
            "SELECT count(*) AS n, count(DISTINCT idempotency_key) AS keys, "
            "(SELECT count(*) FROM customers) AS customers FROM interactions"
        )
    store.close()
    assert counts == {"n": 200_000, "keys": 200_000, "customers": 5000}


def test_adapters_import_invented_samples(tmp_path: Path) -> None:
    data = Path(__file__).resolve().parents[1] / "data"
    db = tmp_path / "ws.duckdb"
    for adapter, path in [
        ("olist", data / "olist"),
        ("xes", data / "bpic2013_sample.xes"),
        ("twcs", data / "twcs_sample.csv"),
        ("telco", data / "telco_sample.csv"),
    ]:
        result = run("import", adapter, str(path), "--format", "json", db=db)
        assert result.returncode in (0, 6), result.stderr
        report = json.loads(result.stdout)
        assert report["imported"] > 0, adapter
        again = json.loads(run("import", adapter, str(path), "--format", "json", db=db).stdout)
        assert again["imported"] == 0, f"re-importing {adapter} must be a no-op"


@pytest.mark.realdata
def test_olist_sample_customer_shows_order_steps_then_review(tmp_path: Path) -> None:
    from tests.conftest import shared_data

    source = shared_data("olist", "sample_4000_orders")
    db = tmp_path / "ws.duckdb"
    report = json.loads(run("import", "olist", str(source), "--format", "json", db=db).stdout)
    assert report["per_entity"]["customers"]["imported"] == 3998  # distinct customer_unique_id
    assert report["per_entity"]["responses"]["imported"] == 3986
    shown = json.loads(
        run("customers", "show", "004177f7bf62929186b32c7fdaa6157b", "--format", "json", db=db).stdout
    )
    steps = [(i["type"], i["title"]) for i in reversed(shown["timeline"])]
    assert steps == [
        ("interaction", "order_placed"),
        ("interaction", "payment_approved"),
        ("interaction", "handed_to_carrier"),
        ("interaction", "order_delivered"),
        ("response", "olist_review"),
        ("interaction", "delivery_estimated"),
    ]
    review = next(i for i in shown["timeline"] if i["type"] == "response")
    assert (
        review["metric"] == "csat"
        and review["score"] == 1
        and review["text"].startswith("COMPREI 2 PRODUTOS")
    )


@pytest.mark.slow
def test_demo_builds_a_workspace_and_refuses_to_overwrite_a_real_one(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"

    def small_demo() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CXLENS, "demo", "--no-serve", "--customers", "300", "--months", "2", "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    built = small_demo()
    assert built.returncode == 0, built.stderr
    assert "Demo workspace ready" in built.stdout
    key = next(line for line in built.stdout.splitlines() if line.startswith("cxk_"))
    store = open_store(Settings(db=db))
    try:
        with store.session() as s:
            assert active_key_hashes(s) == {hash_secret(key): "demo-website"}
    finally:
        store.close()
    shown = json.loads(run("customers", "show", "u000001", "--format", "json", db=db).stdout)
    assert {i["type"] for i in shown["timeline"]} >= {"interaction"}
    rebuilt = small_demo()
    assert rebuilt.returncode == 0, rebuilt.stderr  # an earlier demo workspace is rebuilt
    real = tmp_path / "real.duckdb"
    assert run("init", db=real).returncode == 0
    refused = subprocess.run(
        [*CXLENS, "demo", "--no-serve", "--db", str(real)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 4 and "is not a demo workspace" in refused.stderr


def test_workspace_path_from_environment(tmp_path: Path) -> None:
    target = tmp_path / "from-env.duckdb"
    result = subprocess.run(
        [*CXLENS, "init", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CXLENS_DB": str(target)},
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    latest = max(m.version for m in available_migrations())
    assert json.loads(result.stdout) == {"workspace": str(target), "schema_version": latest}
    assert target.exists()
