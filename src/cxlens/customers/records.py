"""Typed records of what the customer reads return to the ways in (web, API, CLI): frozen, so a page
cannot change a profile it was handed, and checked by mypy where a ``dict[str, Any]`` checked nothing."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Identity:
    kind: str
    value: str
    source: str
    first_seen_at: datetime
    via_profile: str  # the (merged) profile that brought this identity


@dataclass(frozen=True, slots=True)
class MergeEntry:
    merge_id: str
    winner_id: str
    loser_id: str
    reason: str
    actor: str
    merged_at: datetime
    undone_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActivityCounts:
    interactions: int
    responses: int
    cases: int


@dataclass(frozen=True, slots=True)
class Customer:
    """One canonical customer (Customer 360): the profile, every identity of the profiles merged
    into it, its merge history and how much it did."""

    customer_key: int  # internal: never shown, never accepted from outside
    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    segment: str | None
    value: float | None
    attributes: Any
    signed_up_at: datetime | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    churned_at: datetime | None
    churn_reason: str | None
    created_at: datetime
    updated_at: datetime
    identities: tuple[Identity, ...]
    merges: tuple[MergeEntry, ...]
    counts: ActivityCounts
    merged_profiles: int

    def public(self) -> dict[str, Any]:
        """What the API and the CLI show: everything but the internal key."""
        shown = asdict(self)
        del shown["customer_key"]
        return shown


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """One search hit."""

    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    segment: str | None
    last_seen_at: datetime | None
