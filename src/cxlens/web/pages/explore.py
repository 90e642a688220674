"""``/explore``: any metric by any dimensions, grain, filters and range — chart, table, CSV."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from cxlens.auth import Permission
from cxlens.errors import InvalidInput
from cxlens.metrics import (
    GRAINS,
    MetricResult,
    attribute_dimensions,
    describe_metrics,
    make_query,
    parse_filters,
    run_metric,
)
from cxlens.storage.store import Session
from cxlens.web.charts import metric_chart, retention_chart
from cxlens.web.deps import Reader
from cxlens.web.downloads import csv_download
from cxlens.web.pages.render import is_fragment, render
from cxlens.web.security import require

router = APIRouter(include_in_schema=False, dependencies=[Depends(require(Permission.view_metrics))])
Many = Annotated[list[str], Query()]


# On screen, figures are rounded for reading and named for a reader; the CSV keeps every digit the
# engine gives, under the API's column names.
_DISPLAY: dict[str, dict[str, Any]] = {
    "value": {"key": "value", "label": "value", "numeric": True, "digits": 2},
    "interval": {"key": "interval", "label": "95% interval"},
    "change": {"key": "change", "label": "change", "numeric": True, "digits": 2},
    "p_value": {"key": "p_value", "label": "p", "numeric": True, "digits": 3},
    "n": {"key": "n", "label": "n", "numeric": True, "digits": 0},
    "significant": {"key": "significant", "label": "significant"},
    "flags": {"key": "flags", "label": "notes"},
}
_FLAGS = {"small_n": "small sample", "previous_small_n": "small sample before"}
_FIGURES = ("n", "value", "ci_low", "ci_high", "change", "p_value", "significant", "flags")


@dataclass(frozen=True)
class Question:
    """The explorer's question as the URL holds it (empty form fields mean "not set")."""

    metric: str
    by: list[str]
    grain: str | None
    where: list[str]
    since: str | None
    until: str | None


def question(
    metric: str = "nps",
    by: Many = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    grain: str | None = "month",
    where: Many = [],  # noqa: B006
    since: str | None = None,
    until: str | None = None,
) -> Question:
    return Question(
        metric,
        [d for d in by if d],
        grain or None,
        [w for w in where if w.strip()],
        since or None,
        until or None,
    )


Asked = Annotated[Question, Depends(question)]


def _result(request: Request, s: Session, q: Question) -> MetricResult:
    query = make_query(
        q.metric,
        by=q.by,
        grain=q.grain,
        where=parse_filters(q.where),
        since=q.since,
        until=q.until,
        defaults=request.app.state.metrics,
    )
    return run_metric(s, query, request.app.state.metrics.schedule)


def _labels(q: Question) -> list[str]:
    """The columns that name a row: the dimensions, then the period (retention: cohort and age)."""
    if q.metric == "retention":
        return [*q.by, "cohort", "age"]
    return [*q.by, *(["period"] if q.grain or q.metric == "churn_rate" else [])]


def _cell(column: str, value: Any) -> Any:
    if column == "period" and value is not None:
        return value.date().isoformat()
    if column == "flags":
        return ", ".join(value or [])
    return value


def _table(result: MetricResult, q: Question) -> tuple[list[str], list[list[Any]]]:
    columns = [*_labels(q), *_FIGURES]
    return columns, [[_cell(c, row.get(c)) for c in columns] for row in result.rows]


def _interval(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"{low:,.2f} – {high:,.2f}"


def _verdict(row: dict[str, Any]) -> str:
    """Whether the change is significant, only where a test ran (no p, no verdict)."""
    if row.get("p_value") is None:
        return ""
    return "yes" if row.get("significant") else "no"


def _shown(result: MetricResult, q: Question) -> tuple[list[Any], list[dict[str, Any]]]:
    """The table on the page: an interval as one readable cell, flags in words."""
    labels = _labels(q)
    columns = [
        *labels,
        *(_DISPLAY[c] for c in ("n", "value", "interval", "change", "p_value", "significant", "flags")),
    ]
    rows = [
        {
            **{c: _cell(c, row.get(c)) for c in labels},
            **{c: row.get(c) for c in ("n", "value", "change", "p_value")},
            "interval": _interval(row.get("ci_low"), row.get("ci_high")),
            "significant": _verdict(row),
            "flags": ", ".join(_FLAGS.get(f, f) for f in row.get("flags") or ()),
        }
        for row in result.rows
    ]
    return columns, rows


def _chart(result: MetricResult, q: Question, chosen: dict[str, Any]) -> dict[str, Any] | None:
    if not result.rows:
        return None
    if q.metric == "retention":
        return retention_chart(result.rows, title=chosen["title"], by=q.by)
    grain = q.grain or ("month" if "period" in result.rows[0] else None)  # churn: monthly by default
    return metric_chart(result.rows, title=chosen["title"], unit=chosen["unit"], by=q.by, grain=grain)


@router.get("/explore")
def explore(request: Request, s: Reader, q: Asked) -> Response:
    metrics = describe_metrics()
    known = {m["metric"]: m for m in metrics}
    chosen = known.get(q.metric, known["nps"])
    q = Question(chosen["metric"], q.by, q.grain, q.where, q.since, q.until)
    context: dict[str, Any] = {
        "metrics": metrics,
        "chosen": chosen,
        "by": q.by,
        "attribute_dimensions": _attribute_choices(s, q.by),
        "grain": q.grain or "",
        "grains": list(GRAINS),
        "where": q.where,
        "since": q.since or "",
        "until": q.until or "",
        "error": None,
        "chart_spec": None,
        "columns": [],
        "rows": [],
        "csv_query": request.url.query,
    }
    try:
        result = _result(request, s, q)
    except InvalidInput as error:
        context["error"] = error.message
    else:
        context["columns"], context["rows"] = _shown(result, q)
        context["chart_spec"] = _chart(result, q, chosen)
    return render(request, "explore_results.html" if is_fragment(request) else "explore.html", **context)


def _attribute_choices(s: Session, by: list[str]) -> list[str]:
    """The customer attributes to offer, and the one asked for in the URL even when no customer
    carries it yet (so the form shows what the page answers)."""
    offered = attribute_dimensions(s)
    asked = [d for d in by[:1] if d.startswith("customer:") and d not in offered]
    return asked + offered


@router.get("/explore.csv")
def explore_csv(request: Request, s: Reader, q: Asked) -> Response:
    columns, rows = _table(_result(request, s, q), q)
    return csv_download(f"cxlens-{q.metric}.csv", columns, rows)
