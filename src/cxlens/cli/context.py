"""What every command needs: Settings (with --db applied) and the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.storage.duckdb_store import DuckDBStore

DbOption = typer.Option(None, "--db", help="Workspace file (default ./cxlens.duckdb, or CXLENS_DB).")


def settings_for(db: Path | None) -> Settings:
    return Settings(db=db) if db is not None else Settings()


def store_for(db: Path | None) -> DuckDBStore:
    return open_store(settings_for(db))


@contextmanager
def workspace_store(db: Path | None) -> Iterator[DuckDBStore]:
    """The workspace's store for one command, closed however the command ends."""
    store = store_for(db)
    try:
        yield store
    finally:
        store.close()
