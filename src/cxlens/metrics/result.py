"""A metric's answer: one row per group and period, convertible to Arrow, pandas and Polars."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pyarrow as pa

from cxlens.errors import MissingExtra
from cxlens.metrics.spec import MetricQuery

COLUMNS = (
    "n",
    "value",
    "ci_low",
    "ci_high",
    "components",
    "previous_value",
    "change",
    "p_value",
    "significant",
    "flags",
)


@dataclass(frozen=True)
class MetricResult:
    query: MetricQuery
    unit: str
    test: str
    rows: list[dict[str, Any]]

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows)

    def to_pandas(self) -> Any:
        _optional("pandas", feature="MetricResult.to_pandas()")  # pyarrow imports it, with a bare error
        return self.to_arrow().to_pandas()

    def to_polars(self) -> Any:
        pl = _optional("polars", feature="MetricResult.to_polars()")
        return pl.from_arrow(self.to_arrow())


def _optional(module: str, *, feature: str) -> ModuleType:
    """Import an optional library (the extra of the same name installs it) or say how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtra(feature=feature, module=module, extra=module) from error
