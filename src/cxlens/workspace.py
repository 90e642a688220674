"""The Python entry point: ``ws = cxlens.open("cxlens.duckdb")``, then ``ws.metric(...)``.

A thin facade over the composition root: it opens the store from Settings and runs queries on it;
every rule lives in the slices it calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.errors import InvalidInput
from cxlens.metrics.frames import base_frame
from cxlens.metrics.library import describe_metrics
from cxlens.metrics.result import MetricResult
from cxlens.metrics.runner import compute_metric, metric_def
from cxlens.metrics.spec import MetricQuery


class Workspace:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = open_store(settings)

    def metric(  # noqa: PLR0913 - the documented query API: every argument is keyword-only
        self,
        name: str,
        *,
        by: Sequence[str] = (),
        grain: str | None = None,
        where: Mapping[str, str] | None = None,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        confidence: float = 0.95,
        min_n: int | None = None,
        options: Mapping[str, float] | None = None,
    ) -> MetricResult:
        """``name`` by the dimensions ``by`` and the time ``grain`` (day, week, month, quarter),
        for rows matching ``where`` (dimension -> value) in ``[since, until)``."""
        query = MetricQuery(
            metric=name,
            by=tuple(by),
            grain=grain,
            where=tuple(sorted((where or {}).items())),
            since=as_time(since, "since"),
            until=as_time(until, "until"),
            confidence=confidence,
            min_n=self.settings.metrics_min_n if min_n is None else min_n,
            options=dict(options or {}),
        )
        with self.store.session() as s:
            return compute_metric(base_frame(s, metric_def(name).source), query)

    def metrics(self) -> list[dict[str, Any]]:
        """Every metric with its definition, unit, dimensions and comparison test."""
        return describe_metrics()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def as_time(value: datetime | date | str | None, name: str) -> datetime | date | None:
    """Dates and date-times as given; text as ISO 8601 (``2024-05-01``, ``2024-05-01T12:00Z``)."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput(f"{name}: {value!r} is not an ISO date (YYYY-MM-DD) or date-time.") from error


def open_workspace(path: str | Path | None = None, **settings: Any) -> Workspace:
    base = Settings(**settings) if path is None else Settings(db=Path(path), **settings)
    return Workspace(base)
