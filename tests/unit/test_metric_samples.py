"""The sorted-samples kernel (metrics/samples.py) against scipy and the order-statistic formulas."""

from __future__ import annotations

import duckdb
import narwhals as nw
import numpy as np
import pyarrow as pa
import pytest
from scipy import stats as sps

from cxlens.metrics.samples import Samples, against_rest, order_statistics, paired_p, sorted_samples


def _samples(groups: list[np.ndarray]) -> Samples:
    ordered = [np.sort(g) for g in groups]
    offsets = np.concatenate([[0], np.cumsum([len(g) for g in ordered])]).astype(np.int64)
    return Samples([(i,) for i in range(len(groups))], np.concatenate(ordered), offsets)


@pytest.mark.parametrize("resolution", [1.0, 0.5, 1e-9])  # many ties, some, none
def test_paired_p_is_scipys_asymptotic_mann_whitney(resolution: float) -> None:
    rng = np.random.default_rng(3)
    groups = [np.round(rng.lognormal(2, 1, size) / resolution) * resolution for size in (40, 55, 7, 300)]
    samples = _samples(groups)
    pairs = [(0, 1), (1, 0), (2, 3), (3, 2), (0, 3)]
    found = paired_p([(samples, i, samples, j) for i, j in pairs])
    for (i, j), p in zip(pairs, found, strict=True):
        want = sps.mannwhitneyu(groups[i], groups[j], method="asymptotic", use_continuity=True).pvalue
        assert p == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_against_rest_is_each_group_against_all_other_values() -> None:
    rng = np.random.default_rng(5)
    groups = [np.round(rng.exponential(3 + k, 30 + 10 * k)) for k in range(4)]
    found = against_rest(_samples(groups))
    for k, p in enumerate(found):
        rest = np.concatenate([g for m, g in enumerate(groups) if m != k])
        want = sps.mannwhitneyu(groups[k], rest, method="asymptotic", use_continuity=True).pvalue
        assert p == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_order_statistics_follow_the_rank_formulas() -> None:
    values = np.arange(1.0, 101.0)  # x(k) = k
    stats = order_statistics(_samples([values, np.array([7.0])]), z=1.959964)
    # n = 100: median (x50 + x51)/2; interval ranks floor(50 − 9.8) = 40 and ceil(1 + 50 + 9.8) = 61; p90 x90.
    assert stats[(0,)] == {"median": 50.5, "median_low": 40.0, "median_high": 61.0, "p90": 90.0}
    assert stats[(1,)] == {"median": 7.0, "median_low": 7.0, "median_high": 7.0, "p90": 7.0}


def test_sorted_samples_groups_and_sorts_in_duckdb_and_skips_other_engines() -> None:
    table = pa.table({"team": ["a", "b", "a", "a", "b", "c"], "hours": [3.0, 1.0, None, 2.0, 5.0, None]})
    con = duckdb.connect()
    found = sorted_samples(nw.from_native(con.from_arrow(table)), ["team"], "hours")
    assert found is not None
    groups = {key: found.group(i).tolist() for i, key in enumerate(found.keys)}
    assert groups == {("a",): [2.0, 3.0], ("b",): [1.0, 5.0]}  # c has no value: no group
    whole = sorted_samples(nw.from_native(con.from_arrow(table)), [], "hours")
    assert whole is not None and whole.keys == [()] and whole.group(0).tolist() == [1.0, 2.0, 3.0, 5.0]
    assert sorted_samples(nw.from_native(table).lazy(), ["team"], "hours") is None  # not DuckDB


def test_both_kernels_give_the_same_order_statistics_and_tests_null_group_included() -> None:
    """The window kernel (any engine) and the samples kernel (DuckDB) on the same rows."""
    from cxlens.metrics.order_stats import add_order_stats
    from cxlens.metrics.rank_test import _pooled_test

    rng = np.random.default_rng(11)
    teams = rng.choice(np.array(["a", "b", None], dtype=object), 400)
    hours = np.round(rng.lognormal(1, 1, 400), 1)
    con = duckdb.connect()
    frame = nw.from_native(con.from_arrow(pa.table({"team": teams, "hours": hours})))
    table = pa.table({"team": ["a", "b", None]})
    samples = sorted_samples(frame, ["team"], "hours")
    generic = add_order_stats(frame, table, keys=["team"], column="hours", confidence=0.95)
    fast = add_order_stats(frame, table, keys=["team"], column="hours", confidence=0.95, samples=samples)
    assert generic.to_pylist() == fast.to_pylist()
    assert None not in generic.column("median").to_pylist()  # the NULL team has its median too
    # Team a against team b: the pooled ranking in the engine and the binary search agree.
    pooled = frame.filter(nw.col("team").is_in(["a", "b"])).select(
        nw.lit(1).alias("_pair"),
        nw.col("hours").alias("_v"),
        (nw.col("team") == "a").cast(nw.Int64()).alias("_role"),
    )
    assert samples is not None
    index = samples.index()
    want = paired_p([(samples, index[("a",)], samples, index[("b",)])])[0]
    assert _pooled_test(pooled, ["_pair"])[(1,)] == pytest.approx(want, rel=1e-9)
