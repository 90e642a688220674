"""``/explore``: any metric by any dimensions, grain, filters and range — chart, table, CSV."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from cxlens.auth.model import Permission
from cxlens.errors import InvalidInput
from cxlens.metrics.library import describe_metrics
from cxlens.metrics.queries import run_metric
from cxlens.metrics.result import MetricResult
from cxlens.metrics.spec import GRAINS, make_query, parse_filters
from cxlens.storage.store import Session
from cxlens.web.charts import metric_chart
from cxlens.web.deps import Reader
from cxlens.web.downloads import csv_download
from cxlens.web.pages.render import is_fragment, render
from cxlens.web.security import require

router = APIRouter(include_in_schema=False, dependencies=[Depends(require(Permission.view_metrics))])
Many = Annotated[list[str], Query()]


# On screen, figures are rounded for reading; the CSV keeps every digit the engine gives.
_DISPLAY: dict[str, dict[str, Any]] = {
    **{
        c: {"key": c, "label": c, "numeric": True, "digits": 2}
        for c in ("value", "ci_low", "ci_high", "change")
    },
    "p_value": {"key": "p_value", "label": "p", "numeric": True, "digits": 3},
    "n": {"key": "n", "label": "n", "numeric": True, "digits": 0},
}


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


def _table(result: MetricResult, q: Question) -> tuple[list[str], list[list[Any]]]:
    columns = [
        *q.by,
        *(["period"] if q.grain else []),
        *("n", "value", "ci_low", "ci_high", "change", "p_value", "significant", "flags"),
    ]
    rows = []
    for row in result.rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if column == "period" and value is not None:
                value = value.date().isoformat()
            elif column == "flags":
                value = ", ".join(value or [])
            cells.append(value)
        rows.append(cells)
    return columns, rows


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
        columns, context["rows"] = _table(result, q)
        context["columns"] = [_DISPLAY.get(c, c) for c in columns]
        if result.rows:
            context["chart_spec"] = metric_chart(
                result.rows, title=chosen["title"], unit=chosen["unit"], by=q.by, grain=q.grain
            )
    return render(request, "explore_results.html" if is_fragment(request) else "explore.html", **context)


@router.get("/explore.csv")
def explore_csv(request: Request, s: Reader, q: Asked) -> Response:
    columns, rows = _table(_result(request, s, q), q)
    return csv_download(f"cxlens-{q.metric}.csv", columns, rows)
