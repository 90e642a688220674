"""Who is on the other end: the one definition of a request's client address, used by the survey
rate limit and the sign-in lockout.

It is the connection's peer. Behind a reverse proxy the peer is the proxy, so uvicorn replaces it
with the address the proxy forwards (``X-Forwarded-For``), but only for proxies named in
``CXLENS_TRUSTED_PROXIES`` (``cli/serve.py`` passes them as ``forwarded_allow_ips``; none by
default). A forwarded header from anyone else changes nothing: otherwise any client could dodge the
rate limit with a new address per request, or lock a chosen address out of sign-in.
"""

from __future__ import annotations

from starlette.requests import Request


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
