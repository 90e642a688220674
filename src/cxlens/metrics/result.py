"""A metric's answer: one row per group and period, convertible to Arrow, pandas and Polars."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from cxlens.errors import InvalidInput
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
        return self.to_arrow().to_pandas()

    def to_polars(self) -> Any:
        try:
            import polars as pl
        except ImportError as error:
            raise InvalidInput("Polars is not installed: `pip install polars` to use to_polars().") from error
        return pl.from_arrow(self.to_arrow())
