"""The ASGI application: built from a store by ``create_app`` (the composition root calls it)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from cxlens import __version__
from cxlens.storage.store import Store
from cxlens.web.api import customers
from cxlens.web.errors import install_error_handlers


def create_app(store: Store) -> FastAPI:
    # No /docs or /redoc: FastAPI's built-in pages load their scripts from a CDN, and cxlens works
    # offline. The OpenAPI document stays at /openapi.json.
    app = FastAPI(
        title="cxlens",
        version=__version__,
        description="Customer-experience management API.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    install_error_handlers(app)
    app.include_router(customers.router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "schema_version": store.schema_version()}

    return app
