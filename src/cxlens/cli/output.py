"""Rendering data for the terminal: a Rich table, JSON or CSV (``--format``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeAlias

from rich.console import Console
from rich.table import Table

from cxlens.core.csv_export import write_csv

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

console = Console()
err_console = Console(stderr=True)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_json(data: Any) -> str:
    return json.dumps(data, default=_plain, ensure_ascii=False, indent=2)


Row: TypeAlias = "Mapping[str, Any] | DataclassInstance"


def as_mapping(row: Row) -> Mapping[str, Any]:
    """Typed records (frozen dataclasses) print like the mappings they replaced."""
    return asdict(row) if is_dataclass(row) else row


def render_rows(records: Sequence[Row], fmt: OutputFormat, *, title: str | None = None) -> None:
    rows = [as_mapping(r) for r in records]
    if fmt is OutputFormat.json:
        print(to_json(list(rows)))
        return
    columns = list(rows[0].keys()) if rows else []
    if fmt is OutputFormat.csv:
        write_csv(sys.stdout, columns, ([r.get(c) for c in columns] for r in rows))
        return
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        # markup=False semantics: Text objects keep customer text inert in the terminal too.
        table.add_row(*[_cell(row.get(c)) for c in columns])
    console.print(table if rows else f"[dim]{title or 'Nothing'}: no rows[/dim]")


def _cell(value: Any) -> Any:
    from rich.text import Text

    if isinstance(value, datetime):
        return Text(value.strftime("%Y-%m-%d %H:%M"))  # tables are for people; JSON keeps full ISO
    return Text("" if value is None else str(_plain(value)))


def render_record(record: Row, fmt: OutputFormat, *, title: str | None = None) -> None:
    fields = as_mapping(record)
    if fmt is OutputFormat.json:
        print(to_json(fields))
        return
    render_rows([{"field": k, "value": v} for k, v in fields.items()], fmt, title=title)


def format_option() -> Any:
    import typer

    return typer.Option(OutputFormat.table, "--format", "-f", help="Output as a table, JSON or CSV.")
