"""The metrics on real public data (../shared/data; skipped when absent): the figures are
documented in docs/metrics.md ("On real data")."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import shared_data

import cxlens
from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.ingest.adapters import import_source
from cxlens.ingest.options import ImportOptions

pytestmark = pytest.mark.realdata


def imported(tmp_path: Path, kind: str, source: Path) -> Path:
    db = tmp_path / f"{kind}.duckdb"
    store = open_store(Settings(db=db, memory_limit="1GB"))
    try:
        import_source(store, kind, source, options=ImportOptions(source=kind))
    finally:
        store.close()
    return db


def test_olist_review_csat_by_quarter(tmp_path: Path) -> None:
    db = imported(tmp_path, "olist", shared_data("olist", "sample_4000_orders"))
    with cxlens.open(db, memory_limit="1GB") as ws:
        overall = ws.metric("csat").rows[0]
        assert overall["n"] == 3986 and 75 < overall["value"] < 78.5  # 76.7%, 4-5 stars
        quarters = {r["period"].date().isoformat(): r for r in ws.metric("csat", grain="quarter").rows}
        # Early 2018 is the low point of the sample (delivery delays): a significant drop.
        assert quarters["2018-01-01"]["value"] < 71 and quarters["2018-01-01"]["significant"]


def test_helpdesk_event_log_resolution_time(tmp_path: Path) -> None:
    db = imported(tmp_path, "xes", shared_data("helpdesk", "Helpdesk.xes.gz"))
    with cxlens.open(db, memory_limit="1GB") as ws:
        ttr = ws.metric("ttr").rows[0]
        assert ttr["n"] > 4500 and 100 < ttr["value"] < 200  # a median of about six days
        assert ttr["ci_low"] < ttr["value"] < ttr["ci_high"]


def test_support_tweets_first_response_by_brand(tmp_path: Path) -> None:
    db = imported(tmp_path, "twcs", shared_data("twcs", "twcs_first5000.csv.gz"))
    with cxlens.open(db, memory_limit="1GB") as ws:
        frt = ws.metric("frt").rows[0]
        assert frt["n"] > 1000 and frt["value"] < 1  # brands answer within minutes (median)
        assert ws.consistency("ttr", by="team")["significant"]  # brands differ
