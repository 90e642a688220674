"""The one mapping of errors to HTTP: ``{"error": {"code", "message", "data"}}`` — or, for a
browser asking for a page, the same message on an HTML error page.

Under ``/v1/`` (the Segment-compatible tracking API) the body also carries ``code`` and
``message`` at the top level: the Segment and RudderStack clients read ``payload["code"]`` and
treat a body without it as a transient failure, retrying a request that can never succeed.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from cxlens.errors import CxLensError, Overloaded
from cxlens.web.pages.customer_facing import CUSTOMER_PREFIXES, render_customer_page
from cxlens.web.pages.render import render

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

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        return _respond(request, 500, "internal_error", "Something went wrong on our side.")
