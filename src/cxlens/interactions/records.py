"""The typed record of one entry of the unified timeline, as the ways in receive it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """An interaction, a response, a case or a case event, in one shape (interactions/queries.py
    says which column each kind fills)."""

    occurred_at: datetime
    id: str  # int_…, rsp_…, case_…, cev_…: unique across kinds, the keyset tiebreaker
    type: str  # interaction | response | case | case_<event kind>
    channel: str | None
    title: str | None
    stage: str | None
    source: str
    metric: str | None
    score: float | None
    text: str | None
    case_id: str | None
    detail: str | None
