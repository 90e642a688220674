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

from cxlens.bootstrap import metrics_settings, open_store
from cxlens.config import Settings
from cxlens.metrics.library import describe_metrics
from cxlens.metrics.queries import run_comparison, run_consistency, run_metric
from cxlens.metrics.result import MetricResult
from cxlens.metrics.spec import MetricQuery, make_query


class Workspace:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = open_store(settings)
        self.config = metrics_settings(settings)

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
        query = self._query(
            name,
            by=by,
            grain=grain,
            where=where,
            since=since,
            until=until,
            confidence=confidence,
            min_n=min_n,
            options=options,
        )
        with self.store.session() as s:
            return run_metric(s, query, self.config.schedule)

    def compare(self, name: str, *, by: str, **filters: Any) -> list[dict[str, Any]]:
        """Each value of the dimension ``by`` against all the others, with Benjamini–Hochberg
        q-values (``filters``: ``where``, ``since``, ``until``, ``confidence``, ``min_n``)."""
        with self.store.session() as s:
            return run_comparison(s, self._query(name, by=[by], **filters), self.config.schedule)

    def consistency(self, name: str, *, by: str = "channel", **filters: Any) -> dict[str, Any]:
        """Do the values of ``by`` (default: the channels) differ significantly on this metric?"""
        with self.store.session() as s:
            return run_consistency(s, self._query(name, by=[by], **filters), self.config.schedule)

    def _query(self, name: str, **kwargs: Any) -> MetricQuery:
        return make_query(name, defaults=self.config, **kwargs)

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


def open_workspace(path: str | Path | None = None, **settings: Any) -> Workspace:
    base = Settings(**settings) if path is None else Settings(db=Path(path), **settings)
    return Workspace(base)
