"""The storage contract the product rings depend on."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal, Protocol

import narwhals as nw
import pyarrow as pa

from cxlens.core.events import DomainEvent
from cxlens.storage.dialects import Dialect

Params = Sequence[Any] | Mapping[str, Any] | None
FileFormat = Literal["csv", "jsonl", "parquet"]


class Session(Protocol):
    """A connection-scoped view of the store, used for reads and by a unit of work for writes."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, params: Params = None) -> None: ...

    def fetch_all(self, sql: str, params: Params = None) -> list[dict[str, Any]]: ...

    def fetch_one(self, sql: str, params: Params = None) -> dict[str, Any] | None: ...

    def fetch_value(self, sql: str, params: Params = None) -> Any: ...

    def fetch_arrow(self, sql: str, params: Params = None) -> pa.Table: ...

    def lazy(self, sql: str) -> nw.LazyFrame[Any]:
        """The query as an engine-neutral lazy frame (narwhals): analytics written against it run
        unchanged on DuckDB here and on Spark. Valid while the session is open."""
        ...

    def put_arrow(self, name: str, table: pa.Table) -> None:
        """Materialise an Arrow table as a temporary table ``name`` (replacing it)."""
        ...

    def stage_file(self, name: str, path: Path, fmt: FileFormat) -> list[str]:
        """Expose a file as the temporary relation ``name``: every source column as text, plus
        ``_row`` (1-based record number) and ``_line`` (the physical line, or record number for
        Parquet); returns the source column names. It may be read lazily: call ``finish_staging``
        after reading it once."""
        ...

    def finish_staging(self, name: str, path: Path) -> None:
        """Records that could not be parsed are then in ``{name}_rejects`` (``_line``,
        ``column_name``, ``reason``); a file that is not UTF-8 raises ImportFailed."""
        ...

    def stage_lines(self, name: str, paths: list[Path]) -> int:
        """Expose the lines of ``paths`` (in order) as the temporary table ``name(_row, line)``;
        ``_row`` numbers them from 1 across all files. Returns the number of lines."""
        ...

    def drop_temp(self, *names: str) -> None: ...


class UnitOfWork(Session, Protocol):
    """One transaction. Domain events recorded here are published only after commit."""

    def record(self, event: DomainEvent) -> None: ...


class Store(Protocol):
    # Called with the domain events of each committed unit of work, after COMMIT (bootstrap appends
    # the event bus's ``publish``); a rolled-back unit of work calls nothing.
    on_commit: list[Callable[[list[DomainEvent]], None]]

    @property
    def path(self) -> str: ...

    def session(self) -> AbstractContextManager[Session]: ...

    def unit_of_work(self, session: Session | None = None) -> AbstractContextManager[UnitOfWork]:
        """A transaction; on ``session``'s connection when given, so its temp tables stay visible."""
        ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    """Half-open ``[start, stop)`` ranges of 1-based row numbers covering ``1..total``."""
    start = 1
    while start <= total:
        stop = min(start + size, total + 1)
        yield start, stop
        start = stop
