"""The HTML pages' templates and static files: one Jinja environment for every page, and ``/static``.

Templates are autoescaped. Data for the browser (Vega-Lite specs) travels inside
``<script type="application/json">`` blocks through the ``json_script`` filter, which escapes the
characters that could end the block early, so a customer's text in chart data stays data.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from cxlens.web.urls import timeline_anchor

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# `<`, `>` and `&` as JSON escapes: `</script>` or `<!--` inside a string cannot end or change the
# script block, and JSON.parse reads the escapes back as the same characters.
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}
# Vendored files never change under one URL (static_url adds a content hash), so browsers may keep
# them for a year; app.css and app.js are revalidated (ETag) so an edit shows on the next load.
_VENDOR_CACHE = "public, max-age=31536000, immutable"
_OWN_CACHE = "no-cache"


def json_script(value: Any) -> Markup:
    """JSON safe to place between ``<script type="application/json">`` tags.

    A ``str`` is taken to be JSON text already (a spec serialised by the caller) and must parse as
    the browser's ``JSON.parse`` would; anything else is serialised here."""
    if isinstance(value, str):
        json.loads(value, parse_constant=_reject_constant)  # fail here, not as a console error
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    # Safe by construction: the only characters that matter in this context are escaped.
    return Markup(text.translate(_JSON_SCRIPT_ESCAPES))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON: the browser's JSON.parse would refuse the spec")


def fmt_number(value: float | None, digits: int = 0) -> str:
    """Thousands separators and a fixed number of decimals; an en dash for no value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def fmt_time(value: Any, pattern: str = "%Y-%m-%d", empty: str = "—") -> str:
    """A date or time by ``pattern``. Anything else is shown as stored: DuckDB hands a time Python
    cannot hold (year 0, from an unchecked "0001-01-01T00:00:00+14:00") over as text, and a page
    must show it rather than fail."""
    if value is None:
        return empty
    if isinstance(value, date):
        return value.strftime(pattern)
    return str(value)


def url_segment(value: Any) -> str:
    """A value as one URL path segment: every reserved character percent-encoded (a survey named
    "NPS quarterly" is ``NPS%20quarterly``); the route receives it decoded."""
    return quote(str(value), safe="")


@cache
def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: a new URL whenever the file changes, which is what
    lets vendored files be cached for a year. Computed once per process."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


@cache
def templates() -> Jinja2Templates:
    """The one template renderer for the HTML pages (built once, on first use)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "htm", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json_script"] = json_script
    env.filters["fmt_number"] = fmt_number
    env.filters["fmt_time"] = fmt_time
    env.filters["url_segment"] = url_segment
    env.globals["static_url"] = static_url
    env.globals["timeline_anchor"] = timeline_anchor
    return Jinja2Templates(env=env)


class _CachedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            vendored = Path(path).parts[:1] == ("vendor",)
            response.headers["cache-control"] = _VENDOR_CACHE if vendored else _OWN_CACHE
        return response


def mount_static(app: FastAPI) -> None:
    """Serve the package's static files (CSS, JS, vendored libraries) at ``/static``."""
    app.mount("/static", _CachedStaticFiles(directory=STATIC_DIR), name="static")
