"""Signing in and out. The login form is public; its POST needs no CSRF token (there is no session
yet) but is throttled per email and per client (cxlens.auth.service.login)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from cxlens.auth import AuthSettings, login, logout
from cxlens.errors import Overloaded, Unauthenticated
from cxlens.web.clients import client_address
from cxlens.web.pages.render import render
from cxlens.web.security import SESSION_COOKIE

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//evil.example`` or ``https://…`` (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=safe_next(next), error=None)


@router.post("/login")
def login_submit(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    settings: AuthSettings = request.app.state.auth
    client = client_address(request)
    try:
        with request.app.state.store.unit_of_work() as uow:
            result = login(uow, email=email, password=password, client=client, settings=settings)
    except (Unauthenticated, Overloaded) as error:
        status = 429 if isinstance(error, Overloaded) else 401
        page = render(
            request, "login.html", status=status, next=safe_next(next), error=error.message, email=email
        )
        if isinstance(error, Overloaded):
            page.headers["Retry-After"] = str(error.retry_after)
        return page
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout_submit(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with request.app.state.store.unit_of_work() as uow:
            logout(uow, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    if request.headers.get("hx-request"):
        response.headers["HX-Redirect"] = "/login"
    return response
