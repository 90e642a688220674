"""The one mapping of errors to HTTP: ``{"error": {"code", "message", "data"}}`` — or, for a
browser asking for a page, the same message on an HTML error page.

Under ``/v1/`` (the Segment-compatible tracking API) the body also carries ``code`` and
``message`` at the top level: the Segment and RudderStack clients read ``payload["code"]`` and
treat a body without it as a transient failure, retrying a request that can never succeed.

An unexpected exception (a bug) becomes a complete 500 answer in ``UnexpectedErrors``, with its
trace in the log. Left to the server, it would be answered by Starlette's last-resort handler and
then re-raised to uvicorn, which closes the connection: a keep-alive client's next request failed.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxlens.errors import CxLensError, Overloaded
from cxlens.web.pages.customer_facing import CUSTOMER_PREFIXES, render_customer_page
from cxlens.web.pages.render import render

log = logging.getLogger("cxlens.web")

_TITLES = {
    400: "Not a valid request",
    403: "Not allowed",
    404: "Not found",
    413: "Too large",
    429: "Too many attempts",
}


def _wants_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api", "/v1/")) and "text/html" in request.headers.get("accept", "")


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    data: object = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if _wants_page(request):
        # A customer's expired or used link gets the brand's page, not the staff app's.
        customer = request.url.path.startswith(CUSTOMER_PREFIXES)
        page = (render_customer_page if customer else render)(
            request,
            "error.html",
            status=status,
            title=_TITLES.get(status, "Something went wrong"),
            message=message,
            customer=customer,
        )
        page.headers.update(headers or {})
        return page
    body: dict[str, object] = {"error": {"code": code, "message": message, "data": data or {}}}
    if request.url.path.startswith("/v1/"):
        body = {"code": code, "message": message, **body}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CxLensError)
    async def cxlens_error(request: Request, error: CxLensError) -> Response:
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Overloaded) else None
        return _respond(request, error.http_status, error.code, error.message, error.data, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = [{"loc": list(e["loc"]), "message": e["msg"]} for e in error.errors()]
        return _respond(request, 400, "invalid_input", "The request is not valid.", {"problems": problems})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return _respond(request, error.status_code, code, str(error.detail))

    @app.exception_handler(Exception)  # the last resort, for an error outside UnexpectedErrors
    async def unexpected(request: Request, error: Exception) -> Response:
        return _internal_error(request)


def _internal_error(request: Request) -> Response:
    return _respond(request, 500, "internal_error", "Something went wrong on our side.")


class UnexpectedErrors:
    """Pure ASGI middleware: an exception no handler took becomes a complete 500 (an HTML page for a
    browser, JSON for /api and /v1) and its trace is logged; the connection stays usable. Only when
    part of an answer was already sent is the error passed on, since closing the connection is then
    the one way to tell the client its answer is cut short."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception:
            log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await _answer(scope, receive, send)


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    try:
        response = _internal_error(request)
    except Exception:  # the error page itself failed (a broken template): plain JSON still answers
        log.exception("rendering the error page failed")
        response = _respond(_as_api(scope), 500, "internal_error", "Something went wrong on our side.")
    await response(scope, receive, send)


def _as_api(scope: Scope) -> Request:
    plain: dict[str, Any] = {**scope, "headers": [(b"accept", b"application/json")]}
    return Request(plain)
