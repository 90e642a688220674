"""Request-scoped dependencies: a read session on the app's store, and the principals survey pages
require (one definition each, used by every route that needs them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from cxlens.auth import Permission, Principal
from cxlens.bootstrap import Container
from cxlens.storage.store import Session, Store
from cxlens.web.security import require


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def read_session(request: Request) -> Iterator[Session]:
    with get_store(request).session() as session:
        yield session


Reader = Annotated[Session, Depends(read_session)]
ResponsesViewer = Annotated[Principal, Depends(require(Permission.view_responses))]
SurveyManager = Annotated[Principal, Depends(require(Permission.manage_surveys))]


def get_container(request: Request) -> Container:
    """Everything bootstrap wired (``app.state.container``); the other ``app.state`` names are parts of it."""
    container: Container = request.app.state.container
    return container
