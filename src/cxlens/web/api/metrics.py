"""``/api/metrics``: the metric list and any metric by any dimension (docs/metrics.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from cxlens.metrics import (
    MetricQuery,
    describe_metrics,
    make_query,
    parse_filters,
    run_comparison,
    run_consistency,
    run_metric,
)
from cxlens.web.deps import Reader

router = APIRouter(prefix="/api/metrics", tags=["metrics"])


@router.get("")
def list_metrics() -> dict[str, Any]:
    return {"items": describe_metrics()}


@router.get("/{metric}/against-rest")
def against_rest(
    request: Request,
    s: Reader,
    metric: str,
    by: str,
    where: Annotated[list[str], Query(description="FIELD=VALUE, repeatable")] = [],  # noqa: B006
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    query = _one_dimension(request, metric, by, where, since, until)
    return {
        "metric": metric,
        "dimension": by,
        "rows": run_comparison(s, query, request.app.state.metrics.schedule),
    }


@router.get("/{metric}/consistency")
def consistency(
    request: Request,
    s: Reader,
    metric: str,
    by: str = "channel",
    where: Annotated[list[str], Query(description="FIELD=VALUE, repeatable")] = [],  # noqa: B006
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    query = _one_dimension(request, metric, by, where, since, until)
    return run_consistency(s, query, request.app.state.metrics.schedule)


@router.get("/{metric}")
def metric(
    request: Request,
    s: Reader,
    metric: str,
    by: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults per request
    grain: str | None = None,
    where: Annotated[list[str], Query(description="FIELD=VALUE, repeatable")] = [],  # noqa: B006
    since: str | None = None,
    until: str | None = None,
    confidence: float = Query(0.95, gt=0.5, lt=1),
) -> dict[str, Any]:
    query = make_query(
        metric,
        by=by,
        grain=grain,
        where=parse_filters(where),
        since=since,
        until=until,
        confidence=confidence,
        defaults=request.app.state.metrics,
    )
    result = run_metric(s, query, request.app.state.metrics.schedule)
    return {"metric": metric, "unit": result.unit, "test": result.test, "rows": result.rows}


def _one_dimension(
    request: Request, metric: str, by: str, where: list[str], since: str | None, until: str | None
) -> MetricQuery:
    return make_query(
        metric,
        by=[by],
        where=parse_filters(where),
        since=since,
        until=until,
        defaults=request.app.state.metrics,
    )
