"""``/``: the CX health check (web/overview.py computes it; this renders it).

The page arrives at once with a placeholder per tile; each tile and the channel-consistency table
then load as their own fragments, side by side (the browser fetches them in parallel, and a slow
metric delays only its own tile). Each fragment is one or two metric queries.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cxlens.auth import Permission
from cxlens.errors import NotFound
from cxlens.web.charts import sparkline
from cxlens.web.deps import Reader
from cxlens.web.overview import TILES, WINDOWS, consistency_view, tile_view, window
from cxlens.web.pages.render import render
from cxlens.web.security import require

router = APIRouter(include_in_schema=False, dependencies=[Depends(require(Permission.view_overview))])
_BY_KEY = {tile.key: tile for tile in TILES}


def _days(days: int) -> int:
    return days if days in WINDOWS else 90


@router.get("/")
def overview(request: Request, s: Reader, days: int = 90) -> Response:
    return render(request, "overview.html", tiles=TILES, span=window(s, _days(days)), windows=WINDOWS)


@router.get("/overview/tiles/{key}")
def overview_tile(request: Request, s: Reader, key: str, days: int = 90) -> Response:
    if key not in _BY_KEY:
        raise NotFound(f"No overview tile {key!r}.")
    config = request.app.state.metrics
    tile = tile_view(s, _BY_KEY[key], window(s, _days(days)), config, config.schedule)
    tile["spark_id"] = f"spark-{key}"
    tile["spark_spec"] = sparkline(tile["trend"], tile["title"]) if len(tile["trend"]) > 1 else None
    return render(request, "overview_tile.html", tile=tile)


@router.get("/overview/consistency")
def overview_consistency(request: Request, s: Reader, days: int = 90) -> Response:
    config = request.app.state.metrics
    rows = consistency_view(s, window(s, _days(days)), config, config.schedule)
    return render(request, "overview_consistency.html", consistency=rows)
