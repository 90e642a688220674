"""The metrics: what each counts (sufficient statistics, aggregated inside the engine) and how
its value, interval, components and comparison follow from those counts (numpy, on the small
aggregated result). docs/metrics.md gives every definition and formula."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import narwhals as nw
import numpy as np

from cxlens.metrics import stats
from cxlens.metrics.lifecycle import churn_rate, retention
from cxlens.metrics.result import MetricResult
from cxlens.metrics.spec import MetricQuery
from cxlens.metrics.stats import Array, Estimate

Counts = dict[str, Array]

# Besides these, every metric can be sliced by customer:<attribute> (metrics/frames.py).
RESPONSE_DIMENSIONS = ("channel", "touchpoint", "survey", "source", "segment", "stage")
CASE_DIMENSIONS = (
    "channel",
    "team",
    "assignee",
    "category",
    "priority",
    "status",
    "source",
    "segment",
    "stage",
)
# Survey invitations sent (metrics/frames.py "invitations"): trigger is the trigger's name, "manual" for sends by hand.
INVITATION_DIMENSIONS = ("channel", "touchpoint", "survey", "trigger", "segment", "stage")


@dataclass(frozen=True)
class Finished:
    estimate: Estimate
    n: Array
    components: dict[str, Array]


@dataclass(frozen=True)
class MetricDef:
    name: str
    title: str
    unit: str
    definition: str
    source: str  # the base frame (metrics/frames.py)
    time_column: str
    dimensions: tuple[str, ...]
    rows: Callable[[dict[str, float]], nw.Expr | None]  # which base rows the metric reads (None: all)
    counts: Callable[[dict[str, float]], dict[str, nw.Expr]]  # aggregations per group
    finish: Callable[[Counts, float, dict[str, float]], Finished]
    compare: Callable[[Counts, Counts], Array]  # two-sided p-value of current vs previous
    test: str  # name of the significance test, for docs and results
    order_column: str | None = None  # durations: the runner adds median, its interval and p90
    # How values across groups are tested together (metrics/compare.py): nps, share, mean, count, duration.
    family: str = "count"
    share_of: str = ""  # for the share family: the count that is the numerator
    # Base columns that ``rows`` and ``counts`` read (besides the time, order and sliced columns):
    # a query's frame selects only what it reads (metrics/frames.py).
    reads: tuple[str, ...] = ()


def _score() -> nw.Expr:
    return nw.col("score").cast(nw.Float64())


def _count(condition: nw.Expr) -> nw.Expr:
    """Rows meeting ``condition`` (an integer sum: exact, and cheaper than a float one)."""
    return condition.cast(nw.Int64()).sum()


# --- NPS -------------------------------------------------------------------------------------


def _nps_counts(_: dict[str, float]) -> dict[str, nw.Expr]:
    return {
        "n": nw.len().cast(nw.Float64()),
        "promoters": _count(_score() >= 9),
        "detractors": _count(_score() <= 6),
    }


def _nps_finish(c: Counts, confidence: float, _: dict[str, float]) -> Finished:
    estimate = stats.nps(c["promoters"], c["detractors"], c["n"], confidence=confidence)
    passives = c["n"] - c["promoters"] - c["detractors"]
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = {
            "promoters": c["promoters"],
            "passives": passives,
            "detractors": c["detractors"],
            "promoters_pct": 100 * c["promoters"] / c["n"],
            "detractors_pct": 100 * c["detractors"] / c["n"],
        }
    return Finished(estimate, c["n"], shares)


def _nps_compare(now: Counts, before: Counts) -> Array:
    _, p = stats.nps_difference_p(
        (now["promoters"], now["detractors"], now["n"]),
        (before["promoters"], before["detractors"], before["n"]),
    )
    return p


# --- CSAT ------------------------------------------------------------------------------------


def _csat_counts(options: dict[str, float]) -> dict[str, nw.Expr]:
    threshold = options.get("csat_threshold", 4)
    scale_max = int(options.get("csat_scale_max", 5))
    return {
        "n": nw.len().cast(nw.Float64()),
        "satisfied": _count(_score() >= threshold),
        **{f"score_{k}": _count(_score() == k) for k in range(1, scale_max + 1)},
    }


def _csat_finish(c: Counts, confidence: float, _: dict[str, float]) -> Finished:
    distribution = {k: v for k, v in c.items() if k.startswith("score_")}
    return Finished(
        stats.wilson(c["satisfied"], c["n"], confidence=confidence),
        c["n"],
        {"satisfied": c["satisfied"], **distribution},
    )


def _proportion_compare(key: str) -> Callable[[Counts, Counts], Array]:
    def compare(now: Counts, before: Counts) -> Array:
        return stats.two_proportion_p(now[key], now["n"], before[key], before["n"])

    return compare


# --- response rate ---------------------------------------------------------------------------


def _response_rate_counts(_: dict[str, float]) -> dict[str, nw.Expr]:
    return {"n": nw.len().cast(nw.Float64()), "answered": _count(nw.col("answered"))}


def _response_rate_finish(c: Counts, confidence: float, _: dict[str, float]) -> Finished:
    return Finished(
        stats.wilson(c["answered"], c["n"], confidence=confidence),
        c["n"],
        {"sent": c["n"], "answered": c["answered"]},
    )


# --- CES -------------------------------------------------------------------------------------


def _ces_counts(_: dict[str, float]) -> dict[str, nw.Expr]:
    return {
        "n": nw.len().cast(nw.Float64()),
        "total": _score().sum(),
        "total_sq": (_score() * _score()).sum(),
        "agree": _count(_score() >= 5),
    }


def _ces_finish(c: Counts, confidence: float, _: dict[str, float]) -> Finished:
    estimate, sd = stats.mean_t(c["total"], c["total_sq"], c["n"], confidence=confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        agree_pct = 100 * c["agree"] / c["n"]
    return Finished(estimate, c["n"], {"sd": sd, "agree": c["agree"], "agree_pct": agree_pct})


def _mean_compare(now: Counts, before: Counts) -> Array:
    a, sd_a = stats.mean_t(now["total"], now["total_sq"], now["n"])
    b, sd_b = stats.mean_t(before["total"], before["total_sq"], before["n"])
    return stats.welch_p(a.value, sd_a, now["n"], b.value, sd_b, before["n"])


# --- counts ----------------------------------------------------------------------------------


def _volume_counts(_: dict[str, float]) -> dict[str, nw.Expr]:
    return {"n": nw.len().cast(nw.Float64())}


def _volume_finish(c: Counts, confidence: float, _: dict[str, float]) -> Finished:
    return Finished(stats.poisson(c["n"], confidence=confidence), c["n"], {})


def _volume_compare(now: Counts, before: Counts) -> Array:
    return stats.poisson_ratio_p(now["n"], before["n"])


# --- cases -----------------------------------------------------------------------------------


def _share_counts(flag: str) -> Callable[[dict[str, float]], dict[str, nw.Expr]]:
    def counts(_: dict[str, float]) -> dict[str, nw.Expr]:
        return {"n": nw.len().cast(nw.Float64()), "hits": _count(nw.col(flag))}

    return counts


def _share_finish(c: Counts, confidence: float, _: dict[str, float]) -> Finished:
    return Finished(stats.wilson(c["hits"], c["n"], confidence=confidence), c["n"], {"cases": c["hits"]})


def _fcr_counts(options: dict[str, float]) -> dict[str, nw.Expr]:
    """Resolved at first contact: the customer wrote at most once in the case (Freshservice's rule)
    and did not come back with a new case within the repeat-contact window after it was resolved."""
    window = options.get("fcr_repeat_days", 7)
    came_back = ~nw.col("days_to_next_case").is_null() & (nw.col("days_to_next_case") <= window)
    return {"n": nw.len().cast(nw.Float64()), "hits": _count((nw.col("customer_messages") <= 1) & ~came_back)}


def _handoff_counts(_: dict[str, float]) -> dict[str, nw.Expr]:
    handoffs = nw.col("handoffs").cast(nw.Float64())
    return {
        "n": nw.len().cast(nw.Float64()),
        "total": handoffs.sum(),
        "total_sq": (handoffs * handoffs).sum(),
        "handed_off": _count(handoffs > 0),
    }


def _handoff_finish(c: Counts, confidence: float, _: dict[str, float]) -> Finished:
    estimate, sd = stats.mean_t(c["total"], c["total_sq"], c["n"], confidence=confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = 100 * c["handed_off"] / c["n"]
    return Finished(estimate, c["n"], {"sd": sd, "handed_off": c["handed_off"], "handed_off_pct": share})


def _duration_rows(column: str) -> Callable[[dict[str, float]], nw.Expr | None]:
    return lambda _: ~nw.col(column).is_null()


def _duration_counts(column: str) -> Callable[[dict[str, float]], dict[str, nw.Expr]]:
    def counts(_: dict[str, float]) -> dict[str, nw.Expr]:
        hours = nw.col(column).cast(nw.Float64())
        return {"n": nw.len().cast(nw.Float64()), "total": hours.sum(), "total_sq": (hours * hours).sum()}

    return counts


def _duration_finish(c: Counts, confidence: float, _: dict[str, float]) -> Finished:
    mean, _sd = stats.mean_t(c["total"], c["total_sq"], c["n"], confidence=confidence)
    estimate = Estimate(c["median"], c["median_low"], c["median_high"])
    return Finished(estimate, c["n"], {"mean": mean.value, "p90": c["p90"]})


def _tested_on_rows(now: Counts, _: Counts) -> Array:
    """Times are compared with a rank test on their rows (metrics/rank_test.py, called by the
    runner); summary counts cannot carry it."""
    return np.full(len(now["n"]), np.nan)


def _resolved(_: dict[str, float]) -> nw.Expr:
    return nw.col("resolved")


def _metric_is(name: str) -> Callable[[dict[str, float]], nw.Expr | None]:
    return lambda _: nw.col("metric") == name


def _all_rows(_: dict[str, float]) -> None:
    return None


METRICS: dict[str, MetricDef] = {
    "nps": MetricDef(
        "nps",
        "Net Promoter Score",
        "points (−100..100)",
        "% promoters (9–10) − % detractors (0–6) of 0–10 answers; 95% adjusted-Wald interval (Rocks 2016).",
        "responses",
        "answered_at",
        RESPONSE_DIMENSIONS,
        _metric_is("nps"),
        _nps_counts,
        _nps_finish,
        _nps_compare,
        "z-test on the difference of adjusted NPS",
        family="nps",
        reads=("metric", "score"),
    ),
    "csat": MetricDef(
        "csat",
        "Customer satisfaction",
        "% satisfied",
        "% of 1–5 answers at or above 4 (top-2-box; threshold configurable); Wilson interval; full distribution.",
        "responses",
        "answered_at",
        RESPONSE_DIMENSIONS,
        _metric_is("csat"),
        _csat_counts,
        _csat_finish,
        _proportion_compare("satisfied"),
        "two-proportion z-test",
        family="share",
        share_of="satisfied",
        reads=("metric", "score"),
    ),
    "ces": MetricDef(
        "ces",
        "Customer effort score",
        "mean (1–7)",
        "Mean of 1–7 agreement with 'made it easy' (CES 2.0), Student-t interval; % agreeing (5–7).",
        "responses",
        "answered_at",
        RESPONSE_DIMENSIONS,
        _metric_is("ces"),
        _ces_counts,
        _ces_finish,
        _mean_compare,
        "Welch t-test",
        family="mean",
        reads=("metric", "score"),
    ),
    "response_count": MetricDef(
        "response_count",
        "Responses",
        "responses",
        "Number of survey responses (any metric); exact Poisson interval.",
        "responses",
        "answered_at",
        (*RESPONSE_DIMENSIONS, "metric"),
        _all_rows,
        _volume_counts,
        _volume_finish,
        _volume_compare,
        "exact conditional test of two Poisson counts",
        family="count",
    ),
    "response_rate": MetricDef(
        "response_rate",
        "Response rate",
        "% of invitations sent",
        "% of survey invitations sent whose personal link was answered (completed, not a partial save); "
        "Wilson interval. Time: when the invitation was sent.",
        "invitations",
        "sent_at",
        INVITATION_DIMENSIONS,
        _all_rows,
        _response_rate_counts,
        _response_rate_finish,
        _proportion_compare("answered"),
        "two-proportion z-test",
        family="share",
        share_of="answered",
        reads=("answered",),
    ),
    "case_volume": MetricDef(
        "case_volume",
        "Cases",
        "cases",
        "Number of cases opened; exact Poisson interval.",
        "cases",
        "created_at",
        CASE_DIMENSIONS,
        _all_rows,
        _volume_counts,
        _volume_finish,
        _volume_compare,
        "exact conditional test of two Poisson counts",
        family="count",
    ),
    "fcr": MetricDef(
        "fcr",
        "First-contact resolution",
        "% of resolved cases",
        "% of resolved cases in which the customer wrote at most once (Freshservice's rule: no customer "
        "interaction after the first contact) and opened no new case within the repeat-contact window "
        "(CXLENS_FCR_REPEAT_DAYS, default 7) after resolution; Wilson interval.",
        "cases",
        "created_at",
        CASE_DIMENSIONS,
        _resolved,
        _fcr_counts,
        _share_finish,
        _proportion_compare("hits"),
        "two-proportion z-test",
        family="share",
        share_of="hits",
        reads=("resolved", "customer_messages", "days_to_next_case"),
    ),
    "reopen_rate": MetricDef(
        "reopen_rate",
        "Reopen rate",
        "% of resolved cases",
        "% of resolved cases reopened at least once; Wilson interval.",
        "cases",
        "created_at",
        CASE_DIMENSIONS,
        _resolved,
        _share_counts("reopened"),
        _share_finish,
        _proportion_compare("hits"),
        "two-proportion z-test",
        family="share",
        share_of="hits",
        reads=("resolved", "reopened"),
    ),
    "handoffs": MetricDef(
        "handoffs",
        "Handoffs per case",
        "handoffs (mean)",
        "Mean number of handoffs between teams per case, Student-t interval; % of cases handed off at least once.",
        "cases",
        "created_at",
        CASE_DIMENSIONS,
        _all_rows,
        _handoff_counts,
        _handoff_finish,
        _mean_compare,
        "Welch t-test",
        family="mean",
        reads=("handoffs",),
    ),
    "frt": MetricDef(
        "frt",
        "First response time",
        "hours (median)",
        "Hours from a case's creation to the first response, calendar time: median with a distribution-free "
        "interval, p90 and mean (cases with a first response).",
        "cases",
        "created_at",
        CASE_DIMENSIONS,
        _duration_rows("frt_hours"),
        _duration_counts("frt_hours"),
        _duration_finish,
        _tested_on_rows,
        "Mann–Whitney rank test",
        order_column="frt_hours",
        family="duration",
    ),
    "ttr": MetricDef(
        "ttr",
        "Time to resolution",
        "hours (median)",
        "Hours from a case's creation to its (first) resolution, calendar time: median with a "
        "distribution-free interval, p90 and mean (resolved cases).",
        "cases",
        "created_at",
        CASE_DIMENSIONS,
        _duration_rows("ttr_hours"),
        _duration_counts("ttr_hours"),
        _duration_finish,
        _tested_on_rows,
        "Mann–Whitney rank test",
        order_column="ttr_hours",
        family="duration",
    ),
}
METRICS.update(
    {
        f"{name}_business": replace(
            METRICS[name],
            name=f"{name}_business",
            title=f"{METRICS[name].title} (business hours)",
            unit="business hours (median)",
            definition=METRICS[name].definition.replace(
                "calendar time", "business hours (CXLENS_BUSINESS_*)"
            ),
            rows=_duration_rows(f"{name}_business_hours"),
            counts=_duration_counts(f"{name}_business_hours"),
            order_column=f"{name}_business_hours",
        )
        for name in ("frt", "ttr")
    }
)


@dataclass(frozen=True)
class LifecycleDef:
    """A metric over the customer lifecycle: computed over a period grid (metrics/lifecycle.py)."""

    name: str
    title: str
    unit: str
    definition: str
    source: str
    dimensions: tuple[str, ...]
    compute: Callable[[nw.LazyFrame[Any], MetricQuery], MetricResult]
    test: str


CUSTOMER_DIMENSIONS = ("segment",)

LIFECYCLE: dict[str, LifecycleDef] = {
    "churn_rate": LifecycleDef(
        "churn_rate",
        "Churn rate",
        "% of customers active at the start of the period",
        "Customers who churned during the period ÷ customers active at its start (started before it, not "
        "churned before it); Wilson interval; retention = 100 − churn rate. Grain default: month.",
        "customers",
        CUSTOMER_DIMENSIONS,
        churn_rate,
        "two-proportion z-test",
    ),
    "retention": LifecycleDef(
        "retention",
        "Retention by signup cohort",
        "% of the cohort not churned",
        "For each monthly signup cohort and age k (months), the share of the cohort not churned before the "
        "start of month k; Wilson interval.",
        "customers",
        CUSTOMER_DIMENSIONS,
        retention,
        "none (descriptive curve)",
    ),
}


def _describe(m: MetricDef | LifecycleDef) -> dict[str, Any]:
    return {
        "metric": m.name,
        "title": m.title,
        "unit": m.unit,
        "definition": m.definition,
        "dimensions": list(m.dimensions),
        "comparison_test": m.test,
    }


def describe_metrics() -> list[dict[str, Any]]:
    return [_describe(m) for m in METRICS.values()] + [_describe(m) for m in LIFECYCLE.values()]
