"""Domain events: facts in the past tense, handed on only after the unit of work commits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DomainEvent:
    """Base class; subclasses are named in the past tense (``CustomersMerged``)."""
