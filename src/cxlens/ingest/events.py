"""What the import pipeline and live tracking tell the rest of cxlens after each committed chunk.
(Cases and case events are recorded by the cases slice: ``cases.model``.)"""

from __future__ import annotations

from dataclasses import dataclass

from cxlens.core.events import DomainEvent


@dataclass(frozen=True)
class InteractionsIngested(DomainEvent):
    """Interactions (touchpoints) were stored, from a file, an adapter or live tracking."""

    source: str
    count: int


@dataclass(frozen=True)
class ResponsesRecorded(DomainEvent):
    """Survey responses were stored (answered links, imports, the demo)."""

    source: str
    count: int
