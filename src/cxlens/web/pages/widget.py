"""``/w/{key}/open`` (the web widget asks whether to show its survey) and ``/p/{survey_id}`` (a
survey's public link). Both are public and rate-limited per client like the answer pages.

The widget's endpoint answers cross-origin requests from the widget's allowed origins only: the
preflight and the answer carry ``Access-Control-Allow-Origin`` for that one origin (``Vary:
Origin``); any other origin gets a 403 without CORS headers, so its page cannot read anything. No
cookie is read or set here.

The public link shows a start page first and makes the anonymous link only when "Start" is pressed
(a POST): crawlers and link previews follow GETs, and would otherwise leave an unanswered link
behind on every visit. The POST carries no CSRF token because there is no session to forge:
it has no ambient authority, it only makes a link for whoever presses the button.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from cxlens.surveys import (
    WidgetSettings,
    open_widget,
    public_survey,
    start_public_link,
    visitor_from,
    widget_for_origin,
)
from cxlens.web.clients import client_address
from cxlens.web.pages.customer_facing import render_customer_page
from cxlens.web.ratelimit import RateLimiter

router = APIRouter(include_in_schema=False)
_PREFLIGHT = {
    "Access-Control-Allow-Methods": "POST",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}


class OpenRequest(BaseModel):
    """What widget.js sends: who is looking (a user id, else its anonymous id), where, in which language."""

    user_id: str | None = None
    anonymous_id: str | None = None
    touchpoint: str | None = None
    locale: str | None = None


def _guard(request: Request) -> None:
    limiter: RateLimiter = request.app.state.survey_limiter  # one per app, shared with /s/
    limiter.check(client_address(request))


def _settings(request: Request) -> WidgetSettings:
    settings: WidgetSettings = request.app.state.widget_settings
    return settings


def _cors(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


@router.options("/w/{key}/open")
def widget_preflight(request: Request, key: str) -> Response:
    _guard(request)
    origin = request.headers.get("origin")
    with request.app.state.store.session() as s:
        widget_for_origin(s, key, origin)  # 403 without CORS headers for any other origin
    return Response(status_code=204, headers={**_cors(str(origin)), **_PREFLIGHT})


@router.post("/w/{key}/open")
def widget_open(request: Request, key: str, body: OpenRequest) -> JSONResponse:
    _guard(request)
    origin = request.headers.get("origin")
    with request.app.state.store.unit_of_work() as uow:
        shown = open_widget(
            uow, key=key, origin=origin, visitor=visitor_from(body.model_dump()), settings=_settings(request)
        )
    return JSONResponse(shown, headers=_cors(str(origin)))


@router.get("/p/{survey_id}")
def public_start(request: Request, survey_id: str) -> Response:
    _guard(request)
    with request.app.state.store.session() as s:
        survey = public_survey(s, survey_id)
    return render_customer_page(request, "survey_start.html", survey=survey)


@router.post("/p/{survey_id}")
def public_begin(request: Request, survey_id: str) -> Response:
    _guard(request)
    with request.app.state.store.unit_of_work() as uow:
        token = start_public_link(uow, survey_id=survey_id, settings=_settings(request))
    return RedirectResponse(f"/s/{token}", status_code=303)
