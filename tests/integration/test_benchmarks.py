"""Benchmarks stay runnable: every script in benchmarks/ runs end to end at its ``--smoke`` size and
writes its result. Nothing timed is asserted (engineering guide §3): figures of a smoke run mean
nothing, only that the script still works with today's code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("bench_*.py"))
NOT_SOURCES = {"out", "__pycache__"}  # results (git-ignored) and bytecode


def test_every_file_in_benchmarks_is_a_script_or_a_shared_module() -> None:
    """A script that is not ``bench_*.py`` would escape the smoke run below; shared code is ``_*.py``."""
    strays = [
        p.name
        for p in BENCHMARKS.iterdir()
        if p.name not in NOT_SOURCES
        and not (p.is_file() and p.suffix == ".py" and p.name.startswith(("bench_", "_")))
    ]
    assert strays == []
    assert SCRIPTS  # the glob itself still finds them


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_at_its_smoke_size(script: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (result,) = out.glob("*.json")
    assert json.loads(result.read_text())["smoke"] is True
