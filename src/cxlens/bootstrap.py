"""The composition root: the one place that turns Settings into a wired store (and, later,
plugins, job queues and engines). Web, CLI, jobs and tests all call it."""

from __future__ import annotations

from cxlens.config import Settings
from cxlens.storage.duckdb_store import DuckDBStore


def open_store(settings: Settings) -> DuckDBStore:
    """Open (creating and migrating if needed) the workspace named by ``settings.db``."""
    settings.db.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBStore(
        str(settings.db),
        memory_limit=settings.memory_limit,
        threads=settings.threads,
        max_line_bytes=settings.max_line_bytes,
    )
