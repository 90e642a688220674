"""The ASGI application: ``create_app(bootstrap.build(settings))``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from cxlens.auth import Permission
from cxlens.bootstrap import Container
from cxlens.version import __version__
from cxlens.web.api import customers, tracking
from cxlens.web.api import metrics as metrics_api
from cxlens.web.cors import TrackingCors
from cxlens.web.errors import UnexpectedErrors, install_error_handlers
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


def create_app(container: Container) -> FastAPI:
    """The app over a wired container (``bootstrap.build``). Its lifespan starts the container's job
    runner (live tracking, the survey pass, when serving) and stops it on shutdown."""
    store, runner = container.store, container.runner

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runner.start()
        try:
            yield
        finally:
            await runner.stop()

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
    web = container.web
    app.state.container = container
    app.state.store = store
    app.state.live = container.live
    app.state.wire_limits = container.wire_limits
    app.state.metrics = container.metrics
    app.state.auth = container.auth
    app.state.imports = ImportJobs(
        store, web.uploads_dir, max_bytes=web.upload_max_bytes, max_age=web.upload_max_age
    )
    # Per client address, on the public answer pages (/s/, /p/, /w/): CXLENS_SURVEY_ANSWERS_PER_MINUTE.
    app.state.survey_limiter = RateLimiter(limit=web.survey_answers_per_minute, window=60)
    app.state.survey_job = container.survey_job
    app.state.survey_scheduler = container.survey_job  # its name before the job runner (wake, stats)
    app.state.widget_settings = container.widgets
    install_error_handlers(app)
    # Outermost last: security headers on every answer; an unexpected error anywhere below becomes a
    # complete 500 (web/errors.py); CORS for /v1, then authentication.
    app.add_middleware(AuthGate, store=store)
    app.add_middleware(TrackingCors)
    app.add_middleware(UnexpectedErrors)
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
        if container.live is not None:
            body["tracking"] = container.live.stats()
        if container.survey_job is not None:
            body["surveys"] = container.survey_job.stats()
        return body

    return app
