"""``cxlens init``."""

from __future__ import annotations

from pathlib import Path

from cxlens.cli.context import DbOption, store_for
from cxlens.cli.output import OutputFormat, console, format_option, render_record


def init(db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """Create (or upgrade) a workspace: one DuckDB file with the current schema."""
    store = store_for(db)
    info = {"workspace": store.path, "schema_version": store.schema_version()}
    store.close()
    if fmt is OutputFormat.table:
        console.print(f"Workspace [bold]{info['workspace']}[/bold] ready (schema v{info['schema_version']}).")
    else:
        render_record(info, fmt)
