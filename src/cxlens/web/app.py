"""The ASGI application: built from a store by ``create_app`` (the composition root calls it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from cxlens.ingest.live import LiveIngest
from cxlens.ingest.segment_wire import WireLimits
from cxlens.metrics.spec import MetricsSettings
from cxlens.storage.store import Store
from cxlens.version import __version__
from cxlens.web.api import customers, tracking
from cxlens.web.api import metrics as metrics_api
from cxlens.web.cors import TrackingCors
from cxlens.web.errors import install_error_handlers


def create_app(
    store: Store,
    *,
    live: LiveIngest | None = None,
    limits: WireLimits | None = None,
    metrics: MetricsSettings | None = None,
) -> FastAPI:
    """``live`` runs the tracking API (``/v1``); without it those routes answer 503."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if live is not None:
            await live.start()
        try:
            yield
        finally:
            if live is not None:
                await live.stop()

    # No /docs or /redoc: FastAPI's built-in pages load their scripts from a CDN, and cxlens works
    # offline. The OpenAPI document stays at /openapi.json.
    app = FastAPI(
        title="cxlens",
        version=__version__,
        description="Customer-experience management API.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.live = live
    app.state.wire_limits = limits or WireLimits()
    app.state.metrics = metrics or MetricsSettings()
    install_error_handlers(app)
    app.add_middleware(TrackingCors)
    app.include_router(customers.router)
    app.include_router(tracking.router)
    app.include_router(metrics_api.router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "ok",
            "version": __version__,
            "schema_version": store.schema_version(),
        }
        if live is not None:
            body["tracking"] = live.stats()
        return body

    return app
