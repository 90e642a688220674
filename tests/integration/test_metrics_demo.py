"""The demo world's planted effects (docs/demo.md) show up as significant differences in the
metrics engine — the effects a CX lead should find with `cxlens metrics`."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cxlens
from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.demo.build import build_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    store = open_store(Settings(db=path, memory_limit="1GB"))
    build_demo(store, customers=5000, months=8, seed=7)
    store.close()
    with cxlens.open(path, memory_limit="1GB") as ws:
        yield ws


def test_effect_3_chat_csat_is_significantly_lower(demo: Any) -> None:
    rows = {r["channel"]: r for r in demo.compare("csat", by="channel")}
    chat = rows["chat"]
    assert chat["significant"] and chat["difference"] < -10 and chat["q_value"] < 0.001
    assert demo.consistency("csat", by="channel")["significant"]
    monthly = demo.metric("csat", by=["channel"], grain="month", where={"channel": "chat"}).rows
    everyone = {r["period"]: r["value"] for r in demo.metric("csat", grain="month").rows}
    assert all(r["value"] < everyone[r["period"]] for r in monthly)  # lower in every month


def test_effect_4_app_crash_spike_is_a_significant_jump(demo: Any) -> None:
    weeks = demo.metric("case_volume", where={"category": "app_crash"}, grain="week").rows
    peak = max(weeks, key=lambda r: r["value"])
    typical = statistics.median(r["value"] for r in weeks)
    assert peak["value"] >= 2.5 * typical
    assert peak["significant"] and peak["change"] > 0  # against the week before


def test_metrics_answer_on_the_demo_with_intervals(demo: Any) -> None:
    for metric in ("nps", "csat", "ces", "fcr", "reopen_rate", "handoffs", "frt", "ttr", "churn_rate"):
        rows = demo.metric(metric).rows if metric != "churn_rate" else demo.metric(metric).rows[-1:]
        assert rows and all(r["ci_low"] <= r["value"] <= r["ci_high"] for r in rows), metric
