"""The embedded DuckDB store: one file, one writer process, many reader threads."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import duckdb
import narwhals as nw
import pyarrow as pa

from cxlens.core.events import DomainEvent
from cxlens.errors import ImportFailed, WorkspaceBusy, WorkspaceError
from cxlens.storage.dialects import DuckDBDialect, quote_ident, quote_literal
from cxlens.storage.migrations import LEDGER_DDL, available_migrations, statements
from cxlens.storage.store import FileFormat, Params, Session

_LOCK_PID = re.compile(r"PID (\d+)")
# Delimiter that never occurs in JSON text (control characters must be escaped inside strings),
# so a JSON Lines file reads as one text column per physical line.
_JSONL_DELIMITER = "\x1e"
# DuckDB evaluates both sides of AND, so json_type must be guarded by a CASE on json_valid.
_IS_OBJECT = "CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END"


def _workspace_busy(path: str, error: duckdb.IOException) -> WorkspaceBusy:
    pid = _LOCK_PID.search(str(error))
    holder = f" (process {pid.group(1)})" if pid else ""
    return WorkspaceBusy(
        f"The workspace {path} is in use by another cxlens process{holder}, most likely "
        "`cxlens serve`. Stop that process, or use its HTTP API while it runs, then try again.",
        data={"path": path, "pid": int(pid.group(1)) if pid else None},
    )


class DuckDBSession:
    """A cursor on the shared database; safe to use from one thread at a time."""

    dialect = DuckDBDialect()

    def __init__(self, cursor: duckdb.DuckDBPyConnection, *, max_line_bytes: int) -> None:
        self._cur = cursor
        self._max_line_bytes = max_line_bytes
        self.events: list[DomainEvent] = []

    # -- reads and writes -------------------------------------------------------------------
    def execute(self, sql: str, params: Params = None) -> None:
        self._cur.execute(sql, params)

    def fetch_all(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        self._cur.execute(sql, params)
        names = [d[0] for d in self._cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in self._cur.fetchall()]

    def fetch_one(self, sql: str, params: Params = None) -> dict[str, Any] | None:
        rows = self.fetch_all(sql, params)
        return rows[0] if rows else None

    def fetch_value(self, sql: str, params: Params = None) -> Any:
        # fetchall, not fetchone: a result left unfinished blocks the cursor's next relation query.
        rows = self._cur.execute(sql, params).fetchall()
        return rows[0][0] if rows else None

    def fetch_arrow(self, sql: str, params: Params = None) -> pa.Table:
        return self._cur.sql(sql, params=params).to_arrow_table()

    def lazy(self, sql: str) -> nw.LazyFrame[Any]:
        return nw.from_native(self._cur.sql(sql))

    def put_arrow(self, name: str, table: pa.Table) -> None:
        view = f"_arrow_{name}"
        self._cur.register(view, table)
        try:
            self._cur.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS SELECT * FROM {view}")
        finally:
            self._cur.unregister(view)

    def drop_temp(self, *names: str) -> None:
        views = {
            r[0] for r in self._cur.execute("SELECT view_name FROM duckdb_views() WHERE temporary").fetchall()
        }
        for name in names:
            kind = "VIEW" if name in views else "TABLE"
            self._cur.execute(f"DROP {kind} IF EXISTS {quote_ident(name)}")

    def record(self, event: DomainEvent) -> None:
        self.events.append(event)

    # -- staging files ----------------------------------------------------------------------
    def stage_file(self, name: str, path: Path, fmt: FileFormat) -> list[str]:
        readers = {"csv": self._stage_csv, "jsonl": self._stage_jsonl, "parquet": self._stage_parquet}
        try:
            readers[fmt](name, path)
        except duckdb.InvalidInputException as error:
            raise ImportFailed(_explain_read_error(path, error)) from error
        except duckdb.IOException as error:
            raise ImportFailed(f"Cannot read {path}: {_first_line(error)}") from error
        columns = self.fetch_all(f"DESCRIBE {quote_ident(name)}")
        return [c["column_name"] for c in columns if c["column_name"] not in ("_row", "_line")]

    def _stage_csv(self, name: str, path: Path) -> None:
        # A view, not a table: the file is parsed once, while the candidates are built, instead of
        # being materialised twice (memory and time both matter at tens of millions of rows).
        # Record numbers map to lines exactly unless earlier records span several lines.
        self._cur.execute(
            f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS "
            "SELECT CAST(row_number() OVER () AS BIGINT) AS _row, "
            "CAST(row_number() OVER () + 1 AS BIGINT) AS _line, * "
            f"FROM read_csv({quote_literal(str(path))}, all_varchar = true, header = true, "
            f"store_rejects = true, max_line_size = {self._max_line_bytes})"
        )

    def finish_staging(self, name: str, path: Path) -> None:
        """After the staged rows were read: record parse rejects; refuse a mis-encoded file."""
        if self.fetch_value(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary", [name + "_rejects"]
        ):
            return
        self._cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_ident(name + '_rejects')} AS "
            "SELECT CAST(line AS BIGINT) AS _line, column_name, "
            "error_type || ': ' || error_message AS reason FROM reject_errors"
        )
        bad_encoding = self.fetch_value(
            "SELECT min(line) FROM reject_errors WHERE error_type = 'INVALID ENCODING'"
        )
        if bad_encoding is not None:
            # A mis-encoded file is a file-level problem: importing only its ASCII rows would mislead.
            raise ImportFailed(
                f"{path} is not valid UTF-8 text (first bad byte on line {bad_encoding}). Re-encode it "
                "as UTF-8 (for example `iconv -f latin1 -t utf-8 in.csv > out.csv`) and import again."
            )

    def _stage_jsonl(self, name: str, path: Path) -> None:
        raw = f"{name}_lines"
        self._cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_ident(raw)} AS "
            "SELECT CAST(row_number() OVER () AS BIGINT) AS _line, line FROM read_csv(?, "
            f"columns = {{'line': 'VARCHAR'}}, header = false, delim = {quote_literal(_JSONL_DELIMITER)}, "
            f"quote = '', escape = '', max_line_size = {self._max_line_bytes}, "
            "strict_mode = false)",
            [str(path)],
        )
        keys = [
            r["key"]
            for r in self.fetch_all(
                f"SELECT DISTINCT unnest(json_keys(CASE WHEN {_IS_OBJECT} THEN line END)) AS key FROM {quote_ident(raw)} "
                f"WHERE {_IS_OBJECT} ORDER BY key"
            )
        ]
        extracted = ", ".join(
            f"json_extract_string(line, {quote_literal(json_path(k))}) AS {quote_ident(k)}" for k in keys
        )
        valid = _IS_OBJECT
        self._cur.execute(
            f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS SELECT "
            f"CAST(row_number() OVER (ORDER BY _line) AS BIGINT) AS _row, _line"
            f"{', ' + extracted if extracted else ''} FROM {quote_ident(raw)} "
            f"WHERE {valid}"
        )
        self._cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_ident(name + '_rejects')} AS "
            "SELECT _line, CAST(NULL AS VARCHAR) AS column_name, "
            "CASE WHEN json_valid(line) THEN 'not a JSON object' ELSE 'not valid JSON' END AS reason "
            f"FROM {quote_ident(raw)} WHERE line IS NOT NULL AND trim(line) <> '' AND NOT ({valid})"
        )

    def stage_lines(self, name: str, paths: list[Path]) -> int:
        if not paths:
            self._cur.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} (_row BIGINT, line VARCHAR)")
            return 0
        files = "[" + ", ".join(quote_literal(str(p)) for p in paths) + "]"
        self._cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS "
            "SELECT CAST(row_number() OVER () AS BIGINT) AS _row, line FROM read_csv("
            f"{files}, columns = {{'line': 'VARCHAR'}}, header = false, "
            f"delim = {quote_literal(_JSONL_DELIMITER)}, quote = '', escape = '', "
            f"max_line_size = {self._max_line_bytes}, strict_mode = false) WHERE line IS NOT NULL"
        )
        return int(self.fetch_value(f"SELECT count(*) FROM {quote_ident(name)}"))

    def _stage_parquet(self, name: str, path: Path) -> None:
        described = self.fetch_all("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)])
        cols = ", ".join(
            f"CAST({quote_ident(c['column_name'])} AS VARCHAR) AS {quote_ident(c['column_name'])}"
            for c in described
        )
        self._cur.execute(
            f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS SELECT "
            "CAST(file_row_number + 1 AS BIGINT) AS _row, CAST(file_row_number + 1 AS BIGINT) AS _line, "
            f"{cols} FROM read_parquet({quote_literal(str(path))}, file_row_number = true)"
        )
        self._cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_ident(name + '_rejects')} "
            "(_line BIGINT, column_name VARCHAR, reason VARCHAR)"
        )


def json_path(key: str) -> str:
    return "$." + '"' + key.replace('"', '\\"') + '"'


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def _explain_read_error(path: Path, error: Exception) -> str:
    text = str(error)
    if "unicode" in text.lower() or "utf-8" in text.lower() or "utf8" in text.lower():
        return (
            f"{path} is not valid UTF-8 text. Re-encode it as UTF-8 "
            "(for example `iconv -f latin1 -t utf-8 in.csv > out.csv`) and import again."
        )
    if "maximum line size" in text.lower() or "max_line_size" in text.lower():
        return f"{path} has a line longer than the configured limit (CXLENS_MAX_LINE_BYTES)."
    return f"Cannot read {path}: {_first_line(error)}"


class DuckDBStore:
    """Owns the single DuckDB connection of this process."""

    dialect = DuckDBDialect()

    def __init__(
        self, path: str, *, memory_limit: str = "1600MB", threads: int = 0, max_line_bytes: int = 16 << 20
    ) -> None:
        self.path = path
        self._max_line_bytes = max_line_bytes
        self._write_lock = threading.Lock()
        # Called with the domain events of each committed unit of work (after commit, never inside).
        self.on_commit: list[Callable[[list[DomainEvent]], None]] = []
        config: dict[str, Any] = {
            "memory_limit": memory_limit,
            "TimeZone": "UTC",
            "autoinstall_known_extensions": False,
            # Checkpoint after 256 MB of WAL rather than 16 MB: live ingestion commits a batch every
            # second or so, and a checkpoint on each of them cost more than the batch itself
            # (docs/decisions/0003-tracking-spool.md). A restart replays at most that much WAL.
            "checkpoint_threshold": "256MB",
        }
        if threads:
            config["threads"] = threads
        try:
            self._conn = duckdb.connect(path, config=config)
        except duckdb.IOException as error:
            if "lock" in str(error).lower():
                raise _workspace_busy(path, error) from error
            raise WorkspaceError(f"Cannot open the workspace {path}: {_first_line(error)}") from error
        except duckdb.Error as error:
            raise WorkspaceError(f"{path} is not a cxlens workspace: {_first_line(error)}") from error
        self._schema_version: int | None = None
        self._migrate()

    def _migrate(self) -> None:
        with self._write_lock:
            cur = self._conn.cursor()
            cur.execute(LEDGER_DDL)
            applied = {r[0] for r in cur.execute("SELECT version FROM schema_migrations").fetchall()}
            for migration in available_migrations():
                if migration.version in applied:
                    continue
                cur.execute("BEGIN TRANSACTION")
                for statement in statements(migration.sql):
                    cur.execute(statement)
                cur.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, now())",
                    [migration.version, migration.name],
                )
                cur.execute("COMMIT")

    def schema_version(self) -> int:
        """The schema version, read once: it only changes when a workspace is opened (migrated),
        and health checks must not queue behind a long transaction or a checkpoint."""
        if self._schema_version is None:
            value = self._conn.cursor().execute("SELECT max(version) FROM schema_migrations").fetchone()
            self._schema_version = int(value[0]) if value and value[0] is not None else 0
        return self._schema_version

    @contextmanager
    def session(self) -> Iterator[DuckDBSession]:
        cursor = self._conn.cursor()
        cursor.execute("SET enable_progress_bar = false")
        try:
            yield DuckDBSession(cursor, max_line_bytes=self._max_line_bytes)
        finally:
            cursor.close()

    @contextmanager
    def unit_of_work(self, session: Session | None = None) -> Iterator[DuckDBSession]:
        """A transaction, on ``session``'s connection when given (its temp tables stay visible).
        Writers are serialised: DuckDB allows one writer process, and optimistic concurrency
        between threads would otherwise surface to users as conflicts."""
        with self._write_lock, ExitStack() as stack:
            if session is not None and not isinstance(session, DuckDBSession):
                raise TypeError("a DuckDB unit of work needs a DuckDB session")
            uow = session if session is not None else stack.enter_context(self.session())
            uow.events = []
            uow.execute("BEGIN TRANSACTION")
            try:
                yield uow
            except BaseException:
                uow.execute("ROLLBACK")
                raise
            uow.execute("COMMIT")
            events, uow.events = uow.events, []
        for handler in self.on_commit:
            handler(events)

    def close(self) -> None:
        self._conn.close()
