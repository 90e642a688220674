"""Real-data adapters: read a source's files into canonical tables, then load them through the
same pipeline as any file (so identity resolution, idempotency and reports are shared)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path

import pyarrow as pa

from cxlens.errors import ImportFailed, InvalidInput
from cxlens.ingest.base import ImportReport, RejectedRow
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import Progress, import_table
from cxlens.storage.store import Store

Reader = Callable[[Path], dict[str, pa.Table]]
# Adapter name -> (module, reader function, source name). Parents load before children.
ADAPTERS: dict[str, tuple[str, str, str]] = {
    "olist": ("cxlens.ingest.olist", "read_olist", "olist"),
    "xes": ("cxlens.ingest.xes", "read_xes", ""),
    "twcs": ("cxlens.ingest.twcs", "read_twcs", "twcs"),
    "telco": ("cxlens.ingest.telco", "read_telco", "telco"),
}
LOAD_ORDER = ("customers", "interactions", "cases", "case_events", "responses")


def import_source(
    store: Store, adapter: str, path: Path, *, options: ImportOptions, progress: Progress | None = None
) -> ImportReport:
    if adapter not in ADAPTERS:
        raise InvalidInput(f"Unknown source {adapter!r}; choose one of {', '.join(ADAPTERS)}.")
    if not path.exists():
        raise ImportFailed(f"{path} does not exist.")
    module, function, source = ADAPTERS[adapter]
    reader: Reader = getattr(import_module(module), function)
    tables = reader(path)
    total = ImportReport(entity=adapter, source_file=str(path))
    _fold_adapter_rejects(total, tables.get("rejected"))
    for entity in LOAD_ORDER:
        if entity not in tables:
            continue
        table = tables[entity]
        entity_source = source or _column_source(table) or adapter
        report = import_table(
            store, entity, table, options=_with_source(options, entity_source), progress=progress
        )
        total.add(report)
        total.per_entity[entity] = report.to_dict()
    return total


def _fold_adapter_rejects(report: ImportReport, rejected: pa.Table | None) -> None:
    """Records the adapter itself could not use (e.g. a malformed CSV record)."""
    if rejected is None or rejected.num_rows == 0:
        return
    report.rows_read += rejected.num_rows
    report.rejected_count += rejected.num_rows
    report.rejected.extend(
        RejectedRow(r["line"], r["column"], str(r["reason"])) for r in rejected.to_pylist()
    )


def _column_source(table: pa.Table) -> str | None:
    if "source" not in table.column_names or table.num_rows == 0:
        return None
    value = table.column("source")[0].as_py()
    return str(value) if value else None


def _with_source(options: ImportOptions, source: str) -> ImportOptions:
    from dataclasses import replace

    return replace(options, source=source)
