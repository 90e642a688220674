"""CORS for the tracking API only: browser libraries (Segment's analytics.js) post events to
``/v1`` from the brand's own site. Any origin may, because a write key authenticates a source,
not a person — it is published in the site's pages anyway — and no cookie is ever read there.
Everything else keeps the browser's same-origin default."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/v1/"
_ALLOW = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"POST, OPTIONS"),
    (b"access-control-allow-headers", b"Authorization, Content-Type, Content-Encoding, X-Write-Key"),
    (b"access-control-max-age", b"86400"),
]


class TrackingCors:
    """A pure ASGI middleware (cheaper than a BaseHTTPMiddleware on the hot path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":  # the preflight: answer it here, nothing to authenticate
            await send({"type": "http.response.start", "status": 204, "headers": _ALLOW})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), _ALLOW[0]]
            await send(message)

        await self.app(scope, receive, send_with_origin)
