"""The statistics behind every figure: intervals and tests, vectorised over groups (numpy arrays
of per-group sufficient statistics), pure and engine-free. Formulas and test vectors:
docs/metrics.md and the conventions guide §A.6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

Array = NDArray[np.float64]

# Rocks (2016): 3 pseudo-observations, 3/4 to detractors, 3/2 to passives, 3/4 to promoters.
_NPS_PSEUDO_EXTREME = 0.75
_NPS_PSEUDO_TOTAL = 3.0


def z_for(confidence: float) -> float:
    return float(sps.norm.ppf(0.5 + confidence / 2))


@dataclass(frozen=True)
class Estimate:
    """Per group: the value and its interval (NaN where it cannot be computed, e.g. n = 0)."""

    value: Array
    low: Array
    high: Array


def nps(promoters: Array, detractors: Array, n: Array, *, confidence: float = 0.95) -> Estimate:
    """NPS on −100..100 and its adjusted-Wald interval (Rocks 2016). The value is the raw NPS;
    the interval is centred on the adjusted estimate, as MeasuringU presents it."""
    z = z_for(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100 * (promoters - detractors) / n
        p, d, var, n_adj = _nps_adjusted(promoters, detractors, n)
        half = z * np.sqrt(var / n_adj)
        low = np.clip(100 * (p - d - half), -100, 100)
        high = np.clip(100 * (p - d + half), -100, 100)
    return Estimate(value, np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan))


def _nps_adjusted(promoters: Array, detractors: Array, n: Array) -> tuple[Array, Array, Array, Array]:
    n_adj = n + _NPS_PSEUDO_TOTAL
    p = (promoters + _NPS_PSEUDO_EXTREME) / n_adj
    d = (detractors + _NPS_PSEUDO_EXTREME) / n_adj
    return p, d, p + d - (p - d) ** 2, n_adj


def nps_difference_p(a: tuple[Array, Array, Array], b: tuple[Array, Array, Array]) -> tuple[Array, Array]:
    """Difference of two NPS (a − b, points) and its two-sided p-value: a z-test with
    SE = sqrt(Var_a/n'_a + Var_b/n'_b) on the adjusted estimates (Rocks 2016, ``nps_test``)."""
    pa, da, va, na = _nps_adjusted(*a)
    pb, db, vb, nb = _nps_adjusted(*b)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = (pa - da) - (pb - db)
        z = diff / np.sqrt(va / na + vb / nb)
    return 100 * diff, _two_sided(z)


def wilson(successes: Array, n: Array, *, confidence: float = 0.95) -> Estimate:
    """A proportion in percent and its Wilson score interval."""
    z = z_for(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return Estimate(100 * p, 100 * (centre - half), 100 * (centre + half))


def two_proportion_p(x1: Array, n1: Array, x2: Array, n2: Array) -> Array:
    """Two-sided p-value of the pooled two-proportion z-test."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    return _two_sided(z)


def mean_t(total: Array, total_sq: Array, n: Array, *, confidence: float = 0.95) -> tuple[Estimate, Array]:
    """A mean with its Student-t interval, from the sum and the sum of squares; also the sample SD."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
        sd = np.sqrt(np.maximum(total_sq - n * mean**2, 0) / (n - 1))
        t = sps.t.ppf(0.5 + confidence / 2, n - 1)
        half = t * sd / np.sqrt(n)
    return Estimate(mean, mean - half, mean + half), sd


def welch_p(mean1: Array, sd1: Array, n1: Array, mean2: Array, sd2: Array, n2: Array) -> Array:
    """Two-sided p-value of Welch's t-test from summary statistics."""
    with np.errstate(divide="ignore", invalid="ignore"):
        v1, v2 = sd1**2 / n1, sd2**2 / n2
        t = (mean1 - mean2) / np.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        p = 2 * sps.t.sf(np.abs(t), df)
    return np.asarray(p, dtype=np.float64)


def benjamini_hochberg(p_values: Array) -> Array:
    """False-discovery-rate adjusted p-values (NaN stays NaN and is not counted)."""
    adjusted = np.full_like(p_values, np.nan)
    valid = ~np.isnan(p_values)
    if valid.any():
        adjusted[valid] = sps.false_discovery_control(p_values[valid], method="bh")
    return adjusted


def _two_sided(z: Array) -> Array:
    return np.asarray(2 * sps.norm.sf(np.abs(z)), dtype=np.float64)


def poisson(count: Array, *, confidence: float = 0.95) -> Estimate:
    """A count and its exact (Garwood) Poisson interval."""
    alpha = 1 - confidence
    low = np.where(count > 0, sps.chi2.ppf(alpha / 2, 2 * count) / 2, 0.0)
    high = sps.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return Estimate(count, np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64))


def poisson_ratio_p(a: Array, b: Array) -> Array:
    """Two-sided p-value that two equal-length periods' counts share one rate: conditional on
    a + b, a is binomial(a + b, 1/2) under the null."""
    total = a + b
    tail = np.minimum(sps.binom.cdf(np.minimum(a, b), total, 0.5) * 2, 1.0)
    return np.asarray(np.where(total > 0, tail, np.nan), dtype=np.float64)


def rounded(value: float | None) -> float | None:
    """A figure for output: None for NaN, six decimals, and never a negative zero."""
    if value is None or np.isnan(value):
        return None
    return round(float(value), 6) + 0.0
