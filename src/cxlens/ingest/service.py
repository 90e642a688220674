"""Use cases: import a file or an Arrow table of one entity into the workspace.

    stage (text) -> candidates (typed, validated) -> for each chunk, in one transaction:
    deduplicate -> resolve customers -> insert/update

Nothing here loops over rows in Python; chunks exist so that a crash loses at most the chunk in
flight (the next run completes it exactly, thanks to idempotency keys) and so progress can be shown.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pyarrow as pa

from cxlens.errors import ImportFailed, InvalidInput
from cxlens.ingest.base import ENTITIES, IDENTITY_FIELDS, EntitySpec, ImportReport, RejectedRow
from cxlens.ingest.candidates import CAND, build_candidates
from cxlens.ingest.coerce import Plan, plan_columns
from cxlens.ingest.load import CHUNK, ChunkResult, load_interactions, load_responses, take_chunk
from cxlens.ingest.load_cases import load_case_events, load_cases
from cxlens.ingest.load_customers import load_customers
from cxlens.ingest.options import Format, ImportOptions, detect_format
from cxlens.storage.dialects import quote_ident
from cxlens.storage.store import Session, Store, UnitOfWork, chunks

Progress = Callable[[int, int], None]  # (rows done, rows total)
Loader = Callable[[UnitOfWork, tuple[str, ...]], ChunkResult]

LOADERS: dict[str, Loader] = {
    "customers": load_customers,
    "interactions": load_interactions,
    "responses": load_responses,
    "cases": load_cases,
    "case_events": load_case_events,
}
STAGED = "_staged"
# Entities deduplicated by (source, idempotency key) against the table they land in.
KEYED_TABLES = {"interactions": "interactions", "responses": "responses", "case_events": "case_events"}


def entity_spec(entity: str) -> EntitySpec:
    key = entity.replace("-", "_")
    if key not in ENTITIES:
        raise InvalidInput(f"Unknown kind of data {entity!r}; choose one of {', '.join(ENTITIES)}.")
    return ENTITIES[key]


def import_file(
    store: Store, entity: str, path: Path, *, options: ImportOptions, progress: Progress | None = None
) -> ImportReport:
    spec = entity_spec(entity)
    _check_readable(path)
    fmt = detect_format(path, options.fmt)
    with store.session() as s:
        columns = s.stage_file(STAGED, path, fmt)
        return _run(store, s, spec, columns, options, progress, source_file=str(path), path=path)


def import_table(
    store: Store, entity: str, table: pa.Table, *, options: ImportOptions, progress: Progress | None = None
) -> ImportReport:
    """Import an Arrow table whose columns carry field names (adapters and the demo use this)."""
    spec = entity_spec(entity)
    text = pa.table({name: table.column(name).cast(pa.string()) for name in table.column_names})
    numbered = text.append_column("_row", pa.array(range(1, table.num_rows + 1), pa.int64()))
    numbered = numbered.append_column("_line", numbered.column("_row"))
    with store.session() as s:
        s.put_arrow(STAGED, numbered)
        s.execute(
            f"CREATE OR REPLACE TEMP TABLE {STAGED}_rejects (_line BIGINT, column_name VARCHAR, reason VARCHAR)"
        )
        return _run(store, s, spec, list(table.column_names), options, progress, source_file=f"<{entity}>")


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise ImportFailed(f"{path} does not exist.")
    if path.is_dir():
        raise ImportFailed(f"{path} is a folder; give a file.")
    if path.stat().st_size == 0:
        raise ImportFailed(f"{path} is empty: there is nothing to import.")


def _run(
    store: Store,
    s: Session,
    spec: EntitySpec,
    columns: list[str],
    options: ImportOptions,
    progress: Progress | None,
    *,
    source_file: str,
    path: Path | None = None,
) -> ImportReport:
    try:
        plan, report = _prepare(s, spec, columns, options, source_file=source_file, path=path)
        if options.strict and report.rejected_count:
            raise ImportFailed(
                f"{report.rejected_count} row(s) are invalid and --strict is set: nothing was imported.",
                data=report.to_dict(),
            )
        _load_chunks(store, s, spec, plan, options, report, progress)
        return report
    finally:
        drop_staging(s)


def _prepare(
    s: Session,
    spec: EntitySpec,
    columns: list[str],
    options: ImportOptions,
    *,
    source_file: str,
    path: Path | None = None,
) -> tuple[Plan, ImportReport]:
    plan = plan_columns(spec, columns, options)
    build_candidates(s, spec=spec, staged=STAGED, plan=plan, options=options)
    if path is not None:
        s.finish_staging(STAGED, path)
    return plan, _validation_report(s, spec, source_file, options)


def load_staged(uow: UnitOfWork, entity: str, columns: list[str], *, options: ImportOptions) -> ImportReport:
    """Load every valid row of the staged table ``_staged`` (text columns named after fields, plus
    ``_row``/``_line``) inside the caller's transaction, without the idempotency anti-join: the
    caller has deduplicated already (live tracking does, on message ids). Invalid rows stay in
    ``_cand`` (``_err_col``, ``_err_reason``) until ``drop_staging``."""
    spec = entity_spec(entity)
    uow.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED}_rejects (_line BIGINT, column_name VARCHAR, reason VARCHAR)"
    )
    plan, report = _prepare(uow, spec, columns, options, source_file=f"<{entity}>")
    total = int(uow.fetch_value(f"SELECT coalesce(max(_row), 0) FROM {CAND}"))
    take_chunk(uow, 1, total + 1)
    _fold(report, _loader(spec, options)(uow, plan.identities))
    return report


def _loader(spec: EntitySpec, options: ImportOptions) -> Loader:
    if spec.name == "customers" and not options.trusted:
        return partial(load_customers, trusted=False)
    return LOADERS[spec.name]


def drop_staging(s: Session) -> None:
    s.drop_temp(
        STAGED, f"{STAGED}_lines", f"{STAGED}_rejects", CAND, CHUNK, "_row_customer", "_new_customers"
    )


def _validation_report(
    s: Session, spec: EntitySpec, source_file: str, options: ImportOptions
) -> ImportReport:
    report = ImportReport(entity=spec.name, source_file=source_file, strict=options.strict)
    parse_rejects = int(s.fetch_value(f"SELECT count(*) FROM {STAGED}_rejects"))
    report.rows_read = int(s.fetch_value(f"SELECT count(*) FROM {CAND}")) + parse_rejects
    report.rejected_count = parse_rejects + int(
        s.fetch_value(f"SELECT count(*) FROM {CAND} WHERE _err_reason IS NOT NULL")
    )
    listed = s.fetch_all(
        f"SELECT _line, column_name, reason FROM {STAGED}_rejects UNION ALL "
        f"SELECT _line, _err_col, _err_reason FROM {CAND} WHERE _err_reason IS NOT NULL "
        "ORDER BY 1 LIMIT ?",
        [options.max_listed_rejects],
    )
    report.rejected = [RejectedRow(int(r["_line"]), r["column_name"], r["reason"]) for r in listed]
    return report


def _load_chunks(
    store: Store,
    s: Session,
    spec: EntitySpec,
    plan: Plan,
    options: ImportOptions,
    report: ImportReport,
    progress: Progress | None,
) -> None:
    total = int(s.fetch_value(f"SELECT coalesce(max(_row), 0) FROM {CAND}"))
    loader = _loader(spec, options)
    for start, stop in chunks(total, options.chunk_rows):
        with store.unit_of_work(s) as uow:
            duplicates = take_chunk(uow, start, stop, keyed_table=KEYED_TABLES.get(spec.name))
            result = loader(uow, plan.identities)
            result.duplicates += duplicates
        _fold(report, result)
        report.chunks_committed += 1
        if progress:
            progress(stop - 1, total)


def _fold(report: ImportReport, result: ChunkResult) -> None:
    report.imported += result.imported
    report.updated += result.updated
    report.duplicates += result.duplicates
    report.customers_created += result.customers_created
    report.identity_conflicts += result.conflicts
    report.merges += result.merges


PREVIEWED = "_previewed"


def preview_file(
    store: Store, path: Path, *, fmt: Format | None = None, rows: int = 5
) -> tuple[list[str], list[dict[str, str]]]:
    """A file's columns and first ``rows`` rows as text, read by the same reader an import uses
    (so what the preview shows is what the import will see)."""
    _check_readable(path)
    with store.session() as s:
        columns = s.stage_file(PREVIEWED, path, detect_format(path, fmt))
        quoted = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns)
        found = s.fetch_all(f"SELECT {quoted} FROM {PREVIEWED} LIMIT ?", [rows]) if columns else []
    return columns, found


# Column names (lower-cased, spaces and dashes as underscores) that name an identity, beyond the
# identity's own name: what CRMs, shops and spreadsheets call them.
IDENTITY_SYNONYMS = {
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "mail": "email",
    "phone_number": "phone",
    "telephone": "phone",
    "tel": "phone",
    "mobile": "phone",
    "mobile_phone": "phone",
    "cell": "phone",
    "userid": "user_id",
    "user": "user_id",
    "anonymousid": "anonymous_id",
    "anon_id": "anonymous_id",
}


def identity_choices(entity: str) -> tuple[str, ...]:
    """The identity fields a column of ``entity`` can be mapped to (none for case events, which
    belong to a case rather than a customer)."""
    return (*IDENTITY_FIELDS, "customer_id") if entity_spec(entity).needs_customer else ()


def guess_mapping(entity: str, columns: list[str]) -> dict[str, str]:
    """Source column -> field or identity, for columns whose name is a field's or an identity's
    (or a common name of one: ``E-mail``, ``Phone number``) once lower-cased with spaces and dashes
    as underscores; the rest stay unmapped (kept as extras where the entity has them). Each target
    is guessed for one column at most, the first."""
    fields = set(entity_spec(entity).field_names)
    identities = set(identity_choices(entity))
    guessed: dict[str, str] = {}
    for column in columns:
        name = column.strip().lower().replace(" ", "_").replace("-", "_")
        target = name if name in fields or name in identities else IDENTITY_SYNONYMS.get(name)
        if target and (target in fields or target in identities) and target not in guessed.values():
            guessed[column] = target
    return guessed
