"""The ASGI application: built from a store by ``create_app`` (the composition root calls it)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI

from cxlens.auth.model import Permission
from cxlens.auth.service import AuthSettings
from cxlens.ingest.live import LiveIngest
from cxlens.ingest.segment_wire import WireLimits
from cxlens.jobs.survey_pass import SurveyScheduler
from cxlens.metrics.spec import MetricsSettings
from cxlens.storage.store import Store
from cxlens.surveys.widgets import WidgetSettings
from cxlens.version import __version__
from cxlens.web.api import customers, tracking
from cxlens.web.api import metrics as metrics_api
from cxlens.web.cors import TrackingCors
from cxlens.web.errors import install_error_handlers
from cxlens.web.imports import ImportJobs
from cxlens.web.pages import (
    customer_facing,
    explore,
    imports,
    login,
    overview,
    survey_answer,
    survey_send,
    surveys_admin,
    widget,
)
from cxlens.web.pages import customers as customer_pages
from cxlens.web.pages import loop as loop_pages
from cxlens.web.ratelimit import RateLimiter
from cxlens.web.security import AuthGate, SecurityHeaders, require
from cxlens.web.templating import mount_static


def create_app(  # noqa: PLR0913 - the composition root's parts, each optional and keyword-only
    store: Store,
    *,
    live: LiveIngest | None = None,
    limits: WireLimits | None = None,
    metrics: MetricsSettings | None = None,
    auth: AuthSettings | None = None,
    imports_dir: Path | None = None,
    upload_max_bytes: int = 512 << 20,
    scheduler: SurveyScheduler | None = None,
    widgets: WidgetSettings | None = None,
) -> FastAPI:
    """``live`` runs the tracking API (``/v1``); without it those routes answer 503. Uploads for
    the import page are kept in ``imports_dir`` (a temporary folder when None). ``scheduler`` runs
    survey triggers, invitations and reminders in the background while the app serves."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if live is not None:
            await live.start()
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
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
    app.state.auth = auth or AuthSettings()
    folder = imports_dir or Path(tempfile.mkdtemp(prefix="cxlens-uploads-"))
    app.state.imports = ImportJobs(store, folder, max_bytes=upload_max_bytes)
    app.state.survey_limiter = RateLimiter(limit=60, window=60)  # per client, on public answer pages
    app.state.survey_scheduler = scheduler
    app.state.widget_settings = widgets or WidgetSettings()  # the web widget and public links (/w/, /p/)
    install_error_handlers(app)
    # Outermost last: security headers on every answer, CORS for /v1, then authentication.
    app.add_middleware(AuthGate, store=store)
    app.add_middleware(TrackingCors)
    app.add_middleware(SecurityHeaders)
    mount_static(app)
    app.include_router(customers.router, dependencies=[Depends(require(Permission.view_customers))])
    app.include_router(tracking.router)
    app.include_router(metrics_api.router, dependencies=[Depends(require(Permission.view_metrics))])
    app.include_router(customer_facing.router)  # /brand.css
    app.include_router(loop_pages.router)  # the literal /surveys/loop before the pages' /surveys/{name}/…
    for pages in (
        login,
        overview,
        explore,
        customer_pages,
        imports,
        survey_answer,
        widget,
        survey_send,
        surveys_admin,
    ):
        app.include_router(pages.router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "ok",
            "version": __version__,
            "schema_version": store.schema_version(),
        }
        if live is not None:
            body["tracking"] = live.stats()
        if scheduler is not None:
            body["surveys"] = scheduler.stats()
        return body

    return app
