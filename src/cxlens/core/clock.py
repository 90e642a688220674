"""The clock. Code asks for ``utcnow()`` so tests can reason about time zones; naive datetimes are
never produced."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(tz=UTC)
