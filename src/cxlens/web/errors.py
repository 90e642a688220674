"""The one mapping of errors to HTTP: ``{"error": {"code", "message", "data"}}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from cxlens.errors import CxLensError


def _body(code: str, message: str, data: object = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "data": data or {}}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CxLensError)
    async def cxlens_error(_: Request, error: CxLensError) -> JSONResponse:
        return JSONResponse(error.to_dict(), status_code=error.http_status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [{"loc": list(e["loc"]), "message": e["msg"]} for e in error.errors()]
        return JSONResponse(_body("invalid_input", "The request is not valid.", {"problems": problems}), 400)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(_body(code, str(error.detail)), error.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse(_body("internal_error", "Something went wrong on our side."), 500)
