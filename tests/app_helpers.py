"""The web app for tests, built the way ``cxlens serve`` builds it: Settings, then
``bootstrap.build``, then ``create_app``. Overrides are Settings fields (``metrics_min_n=5``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import FastAPI

from cxlens.bootstrap import Container, build
from cxlens.config import Settings
from cxlens.ingest.live import LiveIngest
from cxlens.jobs.runner import JobRunner
from cxlens.storage.store import Store
from cxlens.web.app import create_app


def settings_for(store: Store, **overrides: Any) -> Settings:
    """Settings of the workspace ``store`` is open on (uploads and spool beside it)."""
    return Settings(**{"db": store.path, "memory_limit": "1GB", **overrides})


def container_for(store: Store, *, serving: bool = False, **overrides: Any) -> Container:
    return build(settings_for(store, **overrides), serving=serving, store=store)


def app_for(store: Store, *, serving: bool = False, **overrides: Any) -> FastAPI:
    """The app over ``store``; ``serving`` adds the background jobs (live tracking, the survey pass)
    that the app's lifespan starts (enter ``TestClient`` as a context manager)."""
    return create_app(container_for(store, serving=serving, **overrides))


def with_live(container: Container, live: LiveIngest) -> Container:
    """``container`` serving tracking through ``live`` (a test's own processor interval) and nothing
    else in the background."""
    return replace(container, live=live, runner=JobRunner([live]))
