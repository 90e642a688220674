"""Rendering a page: the template plus what every page needs (who is signed in, the CSRF token)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from cxlens.web.security import principal_of
from cxlens.web.templating import templates


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    response: HTMLResponse = templates().TemplateResponse(
        request,
        template,
        {
            "principal": principal_of(request),
            "csrf_token": getattr(request.state, "csrf_token", None),
            **context,
        },
        status_code=status,
    )
    return response


def is_fragment(request: Request) -> bool:
    """An HTMX request for part of a page (the rest of the page is already on screen)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"
