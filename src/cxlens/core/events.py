"""Domain events: facts in the past tense, handed on only after the unit of work commits.

A use case records an event on its unit of work (``uow.record(CasesOpened(...))``); the store hands
the events of each committed transaction to the ``EventBus`` wired in ``bootstrap``, which calls the
subscribers of each event's type. A rolled-back transaction publishes nothing. Subscribers run after
the data is safe, so a failing subscriber is logged and never undoes or fails the write: every
reaction (triggers, the loop) also has a periodic sweep that catches up after a crash or an error.
The catalogue of events is in docs/architecture.md.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger("cxlens.events")


@dataclass(frozen=True)
class DomainEvent:
    """Base class; subclasses are named in the past tense (``CasesOpened``)."""


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[DomainEvent], None]


class EventBus:
    """Subscribers by event type; ``publish`` is what the store calls after each commit."""

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)

    def subscribe(self, kind: type[E], handler: Callable[[E], None]) -> None:
        """Call ``handler`` with every committed event of ``kind`` (or of a subclass of it)."""
        self._handlers[kind].append(handler)  # type: ignore[arg-type]

    def publish(self, events: Iterable[DomainEvent]) -> None:
        for event in events:
            for kind in type(event).__mro__:
                for handler in self._handlers.get(kind, ()):
                    _deliver(handler, event)


def _deliver(handler: Handler, event: DomainEvent) -> None:
    try:
        handler(event)
    except Exception:  # the write is committed; the subscriber's sweep catches up later
        log.exception("subscriber %r failed on %r", handler, event)
