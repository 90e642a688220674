"""The statistics against published test vectors and hand-computed values (guide §A.6)."""

from __future__ import annotations

import numpy as np
import pytest

from cxlens.metrics import stats


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


@pytest.mark.parametrize(
    ("promoters", "passives", "detractors", "nps", "low", "high"),
    [
        # Adjusted-Wald (Rocks 2016) vectors from the conventions guide; the value is the raw NPS.
        (50, 30, 20, 30.00, 14.05, 44.20),
        (9, 1, 1, 72.73, 20.29, 93.99),
        (3, 4, 3, 0.00, -41.29, 41.29),
        (0, 0, 10, -100.00, -100.00, -47.50),  # the lower bound is clamped from -106.34
    ],
)
def test_nps_adjusted_wald_vectors(
    promoters: int, passives: int, detractors: int, nps: float, low: float, high: float
) -> None:
    n = promoters + passives + detractors
    estimate = stats.nps(arr(promoters), arr(detractors), arr(n))
    assert estimate.value[0] == pytest.approx(nps, abs=0.005)
    assert estimate.low[0] == pytest.approx(low, abs=0.005)
    assert estimate.high[0] == pytest.approx(high, abs=0.005)


def test_nps_standard_error_vector() -> None:
    # (50, 30, 20): adjusted NPS' 29.13 with SE 7.692 points, so the half-width is 1.96 * 7.692.
    estimate = stats.nps(arr(50), arr(20), arr(100))
    assert (estimate.high[0] - estimate.low[0]) / 2 == pytest.approx(1.959964 * 7.692, abs=0.01)
    assert (estimate.high[0] + estimate.low[0]) / 2 == pytest.approx(29.13, abs=0.01)


def test_nps_difference_uses_both_variances() -> None:
    diff, p = stats.nps_difference_p((arr(50), arr(20), arr(100)), (arr(50), arr(20), arr(100)))
    assert diff[0] == 0 and p[0] == pytest.approx(1.0)
    diff, p = stats.nps_difference_p((arr(70), arr(10), arr(100)), (arr(30), arr(40), arr(100)))
    # hand-computed: p' .. SE = sqrt(.5889/103 + .6702/103) = .1106; z = (.5825 - (-.0971)) / .1106
    assert diff[0] == pytest.approx(67.96, abs=0.01)
    assert p[0] < 1e-9


def test_wilson_interval() -> None:
    # 8 of 10: Wilson 95% interval 49.02%–94.33% (Newcombe 1998, table I style values)
    estimate = stats.wilson(arr(8), arr(10))
    assert estimate.value[0] == 80
    assert (round(estimate.low[0], 2), round(estimate.high[0], 2)) == (49.02, 94.33)


def test_mean_t_interval() -> None:
    # scores 3, 5, 5, 7: mean 5, sd 1.633, t(0.975, 3) = 3.182 -> 5 ± 2.598
    estimate, sd = stats.mean_t(arr(20), arr(9 + 25 + 25 + 49), arr(4))
    assert sd[0] == pytest.approx(1.63299, abs=1e-4)
    assert (estimate.low[0], estimate.high[0]) == pytest.approx((2.4016, 7.5984), abs=1e-3)


def test_two_proportion_and_welch_p_values() -> None:
    # 45/100 vs 30/100: pooled p 0.375, SE 0.06847, z = 2.1909 -> p = 0.0285
    assert stats.two_proportion_p(arr(45), arr(100), arr(30), arr(100))[0] == pytest.approx(0.02846, abs=1e-4)
    # equal means -> p = 1
    assert stats.welch_p(arr(5), arr(1), arr(30), arr(5), arr(2), arr(40))[0] == pytest.approx(1.0)


def test_poisson_interval_and_rate_test() -> None:
    estimate = stats.poisson(arr(0, 10))
    assert estimate.low[0] == 0 and estimate.high[0] == pytest.approx(3.689, abs=1e-3)
    assert (estimate.low[1], estimate.high[1]) == pytest.approx((4.795, 18.390), abs=1e-3)
    assert stats.poisson_ratio_p(arr(10), arr(10))[0] == pytest.approx(1.0)
    assert stats.poisson_ratio_p(arr(30), arr(10))[0] == pytest.approx(0.00222, abs=1e-4)


def test_benjamini_hochberg_keeps_order_and_nan() -> None:
    adjusted = stats.benjamini_hochberg(arr(0.01, 0.04, np.nan, 0.03))
    assert np.isnan(adjusted[2])
    assert adjusted[[0, 1, 3]] == pytest.approx([0.03, 0.04, 0.04])
