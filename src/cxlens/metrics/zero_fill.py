"""Counts over time include the periods with nothing to count: a day without cases is a day with
0 cases, drawn as 0, not a gap the chart's line silently bridges.

The engine only returns the periods that have rows. Between the first and the last period of the
answer (across its groups), each group gets a row for every period, with zero counts where the
engine had none. Outside that span nothing is added: before the first record, an empty period may
mean the data was not loaded yet, not that nothing happened. The grid is built on the small
aggregated table, never on the rows.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import pyarrow as pa

from cxlens.metrics.periods import period_grid
from cxlens.metrics.spec import utc


def zero_filled(table: pa.Table, *, by: list[str], period: str, grain: str) -> pa.Table:
    """``table`` (``by`` columns, ``period``, count columns) with a zero row for each missing
    (group, period) between the first and the last period it holds."""
    if not table.num_rows:
        return table
    starts = [utc(p) for p in table.column(period).to_pylist()]
    groups = list(dict.fromkeys(zip(*(table.column(k).to_pylist() for k in by), strict=True))) if by else [()]
    labels = [row[:-1] for row in zip(*(table.column(k).to_pylist() for k in by), starts, strict=True)]
    seen = {(*label, start) for label, start in zip(labels, starts, strict=True)}
    counts = [name for name in table.column_names if name not in (*by, period)]
    missing: list[dict[str, Any]] = [
        {**dict(zip(by, group, strict=True)), period: start, **dict.fromkeys(counts, 0)}
        for group, start in product(groups, period_grid(min(starts), max(starts), grain))
        if (*group, start) not in seen
    ]
    if not missing:
        return table
    filled = pa.concat_tables([table, pa.Table.from_pylist(missing, schema=table.schema)])
    return filled.sort_by([(k, "ascending") for k in (*by, period)])
