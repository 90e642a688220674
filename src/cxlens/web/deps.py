"""Request-scoped dependencies: a read session on the app's store."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request

from cxlens.storage.store import Session, Store


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def read_session(request: Request) -> Iterator[Session]:
    with get_store(request).session() as session:
        yield session
