"""What every command needs: Settings (with --db applied) and the store."""

from __future__ import annotations

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
