"""``cxlens import customers|interactions|responses|cases|case-events FILE`` and the real-data
adapters ``cxlens import olist|xes|twcs|telco``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cxlens.bootstrap import open_store
from cxlens.cli.context import DbOption, settings_for
from cxlens.cli.output import OutputFormat, err_console, format_option, render_rows, to_json
from cxlens.errors import ImportFailed
from cxlens.ingest import ImportOptions, ImportReport, import_file, parse_mapping, read_mapping_file
from cxlens.ingest import Progress as ProgressCallback
from cxlens.storage.duckdb_store import DuckDBStore

app = typer.Typer(help="Bulk-import files into the workspace.", no_args_is_help=True)

MapOption = typer.Option([], "--map", "-m", help="source_column=field (repeatable).")
MapFileOption = typer.Option(None, "--mapping", help="File of source_column=field lines, or a JSON object.")
TzOption = typer.Option(None, "--tz", help="IANA time zone of timestamps written without one.")
SourceOption = typer.Option("import", "--source", help="Name of the system the data comes from.")
StrictOption = typer.Option(False, "--strict", help="Write nothing if any row is invalid.")
FileFormatOption = typer.Option(None, "--file-format", help="csv, jsonl or parquet (default: from the name).")
SetOption = typer.Option([], "--set", help="field=value applied to every row (repeatable), e.g. channel=web.")


def _options(
    *,
    map_: list[str],
    mapping: Path | None,
    tz: str | None,
    source: str,
    strict: bool,
    file_format: str | None,
    set_: list[str],
    db: Path | None,
) -> ImportOptions:
    combined = read_mapping_file(mapping) if mapping else {}
    combined.update(parse_mapping(map_))
    settings = settings_for(db)
    return ImportOptions(
        mapping=combined,
        constants=parse_mapping(set_),
        tz=tz,
        source=source,
        strict=strict,
        fmt=file_format,  # type: ignore[arg-type]
        phone_region=settings.default_phone_region,
        chunk_rows=settings.import_chunk_rows,
    )


def run_with_progress(description: str, work: Callable[[ProgressCallback], ImportReport]) -> ImportReport:
    """Run ``work(progress_callback)`` under a progress bar on stderr."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return work(advance)


def show_report(report: ImportReport, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        print(to_json(report.to_dict()))
        return
    summary = {k: v for k, v in report.to_dict().items() if k not in ("rejected", "per_entity", "file")}
    render_rows([summary], fmt, title=f"Import of {report.entity}")
    if report.per_entity:
        counts = ("rows_read", "imported", "updated", "duplicates", "rejected_count")
        by_entity = [{"entity": k, **{c: v[c] for c in counts}} for k, v in report.per_entity.items()]
        render_rows(by_entity, fmt, title="By entity")
    if report.rejected:
        render_rows(
            [r.__dict__ for r in report.rejected], fmt, title=f"Rejected rows ({report.rejected_count})"
        )


def exit_for(report: ImportReport) -> None:
    """Good rows are kept, but a script must notice that some were rejected: exit code 6."""
    if report.rejected_count:
        err_console.print(
            f"{report.rejected_count} row(s) rejected; the other rows were imported.", highlight=False
        )
        raise typer.Exit(ImportFailed.exit_code)


def import_and_report(
    db: Path | None,
    fmt: OutputFormat,
    description: str,
    work: Callable[[DuckDBStore, ProgressCallback], ImportReport],
) -> None:
    """The shared body of every import command: open the workspace, run under a progress bar,
    show the report (also for --strict failures in JSON), set the exit code."""
    store = open_store(settings_for(db))
    try:
        report = run_with_progress(description, lambda cb: work(store, cb))
    except ImportFailed as failure:
        if failure.data and fmt is OutputFormat.json:
            print(to_json(failure.data))
        raise
    finally:
        store.close()
    show_report(report, fmt)
    exit_for(report)


def _import_entity(entity: str) -> None:
    def command(
        file: Path = typer.Argument(..., help="CSV, JSON Lines or Parquet file (gzip accepted)."),
        map_: list[str] = MapOption,
        mapping: Path | None = MapFileOption,
        tz: str | None = TzOption,
        source: str = SourceOption,
        strict: bool = StrictOption,
        file_format: str | None = FileFormatOption,
        set_: list[str] = SetOption,
        db: Path | None = DbOption,
        fmt: OutputFormat = format_option(),
    ) -> None:
        options = _options(
            map_=map_,
            mapping=mapping,
            tz=tz,
            source=source,
            strict=strict,
            file_format=file_format,
            set_=set_,
            db=db,
        )
        import_and_report(
            db,
            fmt,
            f"Importing {entity}",
            lambda store, cb: import_file(store, entity, file, options=options, progress=cb),
        )

    command.__doc__ = f"Import {entity.replace('_', ' ')} from FILE."
    app.command(entity.replace("_", "-"))(command)


for _entity in ("customers", "interactions", "responses", "cases", "case_events"):
    _import_entity(_entity)


def _import_adapter(name: str, help_text: str, argument_help: str) -> None:
    def command(
        path: Path = typer.Argument(..., help=argument_help),
        db: Path | None = DbOption,
        fmt: OutputFormat = format_option(),
    ) -> None:
        from cxlens.ingest import import_source

        settings = settings_for(db)
        options = ImportOptions(
            phone_region=settings.default_phone_region, chunk_rows=settings.import_chunk_rows
        )
        import_and_report(
            db,
            fmt,
            f"Importing {name}",
            lambda store, cb: import_source(store, name, path, options=options, progress=cb),
        )

    command.__doc__ = help_text
    app.command(name)(command)


_import_adapter(
    "olist",
    "Olist e-commerce export: customers, order steps as interactions, reviews as CSAT.",
    "Folder holding the olist_*_dataset.csv(.gz) files.",
)
_import_adapter(
    "xes",
    "XES incident event log: traces become cases, group changes become handoffs.",
    "An .xes or .xes.gz file.",
)
_import_adapter(
    "twcs",
    "Customer-support tweets: conversations become social cases with messages.",
    "The twcs CSV (optionally .gz).",
)
_import_adapter(
    "telco",
    "IBM telco churn: customers with attributes and churn status.",
    "The Telco-Customer-Churn CSV (optionally .gz).",
)
