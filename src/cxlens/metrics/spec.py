"""What a metric question is: a frozen, validated spec (metric, dimensions, grain, filters, range)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

GRAINS = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q"}


@dataclass(frozen=True)
class MetricQuery:
    metric: str
    by: tuple[str, ...] = ()
    grain: str | None = None
    where: tuple[tuple[str, str], ...] = ()  # (dimension, value) pairs, all must hold
    since: datetime | date | None = None  # inclusive
    until: datetime | date | None = None  # exclusive
    confidence: float = 0.95
    min_n: int = 30
    options: dict[str, float] = field(default_factory=dict)  # metric parameters, e.g. csat threshold
