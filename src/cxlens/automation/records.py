"""Typed records of the automation reads that reach the ways in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class LoopRule:
    """A closing-the-loop rule: responses of ``metric`` scoring at most ``max_score`` (to ``survey``,
    or any survey when None) become follow-up cases for ``team``."""

    name: str
    metric: str
    max_score: float
    survey: str | None
    team: str
    priority: str
    resurvey: bool
    created_at: datetime
    disabled_at: datetime | None
