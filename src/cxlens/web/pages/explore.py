"""``/explore``: any metric by any dimensions, grain, filters and range — chart, table, CSV."""

from __future__ import annotations

import csv
import io
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
from cxlens.web.deps import read_session
from cxlens.web.pages.render import is_fragment, render
from cxlens.web.security import require

router = APIRouter(include_in_schema=False, dependencies=[Depends(require(Permission.view_metrics))])
Reader = Annotated[Session, Depends(read_session)]
Many = Annotated[list[str], Query()]


def _result(
    request: Request,
    s: Session,
    metric: str,
    by: list[str],
    grain: str | None,
    where: list[str],
    since: str | None,
    until: str | None,
) -> MetricResult:
    query = make_query(
        metric,
        by=[d for d in by if d],
        grain=grain or None,
        where=parse_filters([w for w in where if w.strip()]),
        since=since or None,
        until=until or None,
        defaults=request.app.state.metrics,
    )
    return run_metric(s, query, request.app.state.metrics.schedule)


def _table(result: MetricResult, by: list[str], grain: str | None) -> tuple[list[str], list[list[Any]]]:
    columns = [
        *by,
        *(["period"] if grain else []),
        "n",
        "value",
        "ci_low",
        "ci_high",
        "change",
        "p_value",
        "significant",
        "flags",
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
def explore(
    request: Request,
    s: Reader,
    metric: str = "nps",
    by: Many = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    grain: str | None = "month",
    where: Many = [],  # noqa: B006
    since: str | None = None,
    until: str | None = None,
) -> Response:
    by = [d for d in by if d]
    metrics = describe_metrics()
    known = {m["metric"]: m for m in metrics}
    chosen = known.get(metric, known["nps"])
    context: dict[str, Any] = {
        "metrics": metrics,
        "chosen": chosen,
        "by": by,
        "grain": grain or "",
        "grains": list(GRAINS),
        "where": [w for w in where if w],
        "since": since or "",
        "until": until or "",
        "error": None,
        "chart_spec": None,
        "columns": [],
        "rows": [],
        "csv_query": request.url.query,
    }
    try:
        result = _result(request, s, chosen["metric"], by, grain, where, since, until)
    except InvalidInput as error:
        context["error"] = error.message
    else:
        context["columns"], context["rows"] = _table(result, by, grain)
        if result.rows:
            context["chart_spec"] = metric_chart(
                result.rows, title=chosen["title"], unit=chosen["unit"], by=by, grain=grain or None
            )
    template = "explore_results.html" if is_fragment(request) else "explore.html"
    return render(request, template, **context)


@router.get("/explore.csv")
def explore_csv(
    request: Request,
    s: Reader,
    metric: str = "nps",
    by: Many = [],  # noqa: B006
    grain: str | None = "month",
    where: Many = [],  # noqa: B006
    since: str | None = None,
    until: str | None = None,
) -> Response:
    by = [d for d in by if d]
    result = _result(request, s, metric, by, grain, where, since, until)
    columns, rows = _table(result, by, grain)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
        writer.writerow([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="cxlens-{metric}.csv"'},
    )
