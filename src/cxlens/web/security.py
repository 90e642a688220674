"""Who is asking, and may they: the one place the web layer authenticates requests, checks CSRF
tokens and roles, and sets the browser's security headers.

* Deny by default. ``AuthGate`` resolves every request's principal — a browser session (cookie)
  or an API token (``Authorization: Bearer cxt_…``) — and refuses any request without one, except
  the public paths below. A route added later is protected without anyone remembering to.
* Roles are checked by ``require(permission)`` against the matrix in ``cxlens.auth.model``.
* CSRF: a cookie-authenticated request that changes state must carry the session's token in the
  ``X-CSRF-Token`` header (app.js adds it to every HTMX request) and, when the browser says where
  it comes from, an ``Origin`` of this host. Token-authenticated API calls carry no ambient
  credential and need neither.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, MutableMapping
from typing import Any
from urllib.parse import quote

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from cxlens.auth import Permission, Principal, session_principal, token_principal
from cxlens.errors import PermissionDenied
from cxlens.storage.store import Store

SESSION_COOKIE = "cxlens_session"
CSRF_HEADER = "x-csrf-token"
TOKEN_PREFIX = "Bearer "
# Public: health, the login page, static assets, the tracking API (which authenticates each call by
# its source's write key, web/api/tracking.py) and survey answer pages (the link's token is the
# credential, web/pages/survey_answer.py), the web widget's endpoint and public survey links (anyone may
# answer; the widget checks its allowed origins, web/pages/widget.py).
PUBLIC_PATHS = frozenset({"/health", "/login", "/brand.css"})  # brand.css: customer pages' colour
PUBLIC_PREFIXES = ("/static/", "/v1/", "/s/", "/w/", "/p/")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def framable_by(origins: list[str]) -> list[tuple[bytes, bytes]]:
    """The security headers of a page these origins may frame (a survey in a brand's web widget):
    the same policy with their names as frame-ancestors, and no X-Frame-Options, which cannot name them."""
    policy = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors " + " ".join(origins))
    kept = [h for h in SECURITY_HEADERS if h[0] not in (b"content-security-policy", b"x-frame-options")]
    return [(b"content-security-policy", policy.encode()), *kept]


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def wants_json(path: str, headers: Headers) -> bool:
    """API clients get JSON errors; browsers asking for a page are sent to the login page."""
    return path.startswith("/api") or path == "/openapi.json" or "text/html" not in headers.get("accept", "")


def identify(store: Store, headers: Headers, cookies: dict[str, str]) -> tuple[Principal, str | None] | None:
    """The request's principal and, for a browser session, its CSRF token (None for API tokens)."""
    authorization = headers.get("authorization", "")
    with store.session() as s:
        if authorization.startswith(TOKEN_PREFIX):
            principal = token_principal(s, authorization.removeprefix(TOKEN_PREFIX).strip())
            return (principal, None) if principal is not None else None
        token = cookies.get(SESSION_COOKIE)
        return session_principal(s, token) if token else None


def csrf_ok(headers: Headers, expected: str, host: str) -> bool:
    """The session's token is in the header, and the request comes from this site."""
    origin = headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != host:
        return False
    return hmac.compare_digest(headers.get(CSRF_HEADER, ""), expected)


class AuthGate:
    """Pure ASGI middleware: authenticate, check CSRF, put the principal on ``request.state``."""

    def __init__(self, app: ASGIApp, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        found = await run_in_threadpool(identify, self.store, request.headers, request.cookies)
        if found is None:
            await _refuse_unauthenticated(request, send)
            return
        principal, csrf_token = found
        forged = request.method in _UNSAFE and csrf_token is not None
        if forged and not csrf_ok(request.headers, csrf_token or "", request.headers.get("host", "")):
            message = "This form has expired or did not come from cxlens. Reload the page and try again."
            await _send_json(send, 403, "csrf_failed", message)
            return
        scope.setdefault("state", {})
        scope["state"]["principal"] = principal
        scope["state"]["csrf_token"] = csrf_token
        await self.app(scope, receive, send)


async def _refuse_unauthenticated(request: Request, send: Send) -> None:
    if wants_json(request.url.path, request.headers):
        await _send_json(
            send, 401, "unauthenticated", "Sign in, or send an API token: Authorization: Bearer cxt_…"
        )
        return
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login?next=" + quote(target, safe="")
    if request.headers.get("hx-request"):  # an HTMX fragment: send the whole page to the login form
        await _send(send, 401, b"", [(b"hx-redirect", location.encode())])
        return
    await _send(send, 303, b"", [(b"location", location.encode())])


async def _send_json(send: Send, status: int, code: str, message: str) -> None:
    body = orjson.dumps(
        {"code": code, "message": message, "error": {"code": code, "message": message, "data": {}}}
    )
    await _send(send, status, body, [(b"content-type", b"application/json")])


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": body})


def with_image_origins(headers: list[tuple[bytes, bytes]], origins: list[str]) -> list[tuple[bytes, bytes]]:
    """The same headers, the CSP's ``img-src`` also naming ``origins``."""
    extra = " ".join(origins).encode()
    return [
        (name, value.replace(b"img-src 'self' data:", b"img-src 'self' data: " + extra))
        if name == b"content-security-policy"
        else (name, value)
        for name, value in headers
    ]


class SecurityHeaders:
    """Pure ASGI middleware: the CSP and friends on every response; pages are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                # A page a widget shows names the origins that may frame it (request.state, set by
                # the answer page for a widget's link); every other page may not be framed at all.
                # A response with its own CSP keeps it, and then gets no X-Frame-Options DENY: its
                # frame-ancestors decides, and DENY would contradict a policy that allows framing.
                framers = scope.get("state", {}).get("frame_ancestors")
                headers = framable_by(framers) if framers else SECURITY_HEADERS
                # A customer page showing the brand's logo from its https host (customer_facing.py).
                if images := scope.get("state", {}).get("image_origins"):
                    headers = with_image_origins(headers, images)
                if b"content-security-policy" in present:
                    present.add(b"x-frame-options")
                extra = [h for h in headers if h[0] not in present]
                if not scope["path"].startswith("/static/") and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def principal_of(request: Request) -> Principal | None:
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal


def require(permission: Permission) -> Callable[[Request], Principal]:
    """A dependency: the request's principal, if its role has ``permission`` (403 otherwise)."""

    def check(request: Request) -> Principal:
        principal = principal_of(request)
        if principal is None or not principal.can(permission):
            role = principal.role if principal else "anonymous"
            raise PermissionDenied(f"Your role ({role}) does not allow this ({permission}).")
        return principal

    check.__name__ = f"require_{permission}"
    return check
