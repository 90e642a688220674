"""Credentials for tests that call the authenticated API: an API token made by the real service."""

from __future__ import annotations

from pathlib import Path

from cxlens.auth.model import Role
from cxlens.auth.service import create_token
from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.storage.store import Store


def api_token(store: Store, role: Role = Role.admin, name: str = "tests") -> str:
    with store.unit_of_work() as uow:
        token: str = create_token(uow, name=name, role=role)["token"]
    return token


def api_token_for(db: Path, role: Role = Role.admin, name: str = "tests") -> str:
    """A token created on a closed workspace file (before a server process opens it)."""
    store = open_store(Settings(db=db))
    try:
        return api_token(store, role, name)
    finally:
        store.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
