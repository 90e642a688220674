"""What an import produces and accepts: entity field specs and the import report.

Each entity has canonical field names; a file whose columns carry these names imports without a
mapping. Identity columns (``user_id``, ``email``, ``phone``, ``anonymous_id``, ``customer_id``,
``external:<system>``, ``social:<network>``) tie each row to its customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cxlens.cases.model import CASE_EVENT_KINDS, CASE_STATUSES, PRIORITIES, PRIORITY_SYNONYMS, STATUS_SYNONYMS
from cxlens.customers.model import IDENTITY_FIELDS, is_identity_field

__all__ = ["CASE_EVENT_KINDS", "CASE_STATUSES", "IDENTITY_FIELDS", "PRIORITIES", "is_identity_field"]

FieldType = Literal["text", "timestamp", "number", "integer", "json", "enum"]

CHANNELS = ("web", "app", "email", "phone", "chat", "social", "store", "other")
STAGES = (
    "awareness",
    "consideration",
    "purchase",
    "fulfilment",
    "onboarding",
    "usage",
    "support",
    "retention",
    "advocacy",
)
METRICS = ("nps", "csat", "ces", "other")
DIRECTIONS = ("in", "out", "internal")

# Words other systems use for the same value (Zendesk "hold", Chatwoot "resolved", ...).
SYNONYMS: dict[str, dict[str, str]] = {
    "channel": {
        "website": "web",
        "online": "web",
        "mobile": "app",
        "ios": "app",
        "android": "app",
        "mail": "email",
        "e-mail": "email",
        "call": "phone",
        "voice": "phone",
        "sms": "phone",
        "livechat": "chat",
        "messenger": "chat",
        "whatsapp": "chat",
        "twitter": "social",
        "facebook": "social",
        "instagram": "social",
        "shop": "store",
        "retail": "store",
        "in-store": "store",
    },
    "status": STATUS_SYNONYMS,
    "priority": PRIORITY_SYNONYMS,
    "direction": {
        "inbound": "in",
        "outbound": "out",
        "incoming": "in",
        "outgoing": "out",
        "note": "internal",
    },
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class EntitySpec:
    name: str
    fields: tuple[FieldSpec, ...]
    needs_customer: bool = True
    # Where source columns that map to no field end up (a JSON column), if anywhere.
    extras_field: str | None = None

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _f(
    name: str, type_: FieldType, required: bool = False, choices: tuple[str, ...] = (), d: str = ""
) -> FieldSpec:
    return FieldSpec(name, type_, required, choices, d)


_SOURCE = _f("source", "text", d="System the row comes from; scopes idempotency keys (default: import).")
_KEY = _f("idempotency_key", "text", d="Unique per source; default: a hash of the row.")

ENTITIES: dict[str, EntitySpec] = {
    "customers": EntitySpec(
        "customers",
        (
            _f("name", "text"),
            _f("segment", "text"),
            _f("value", "number", d="Lifetime value."),
            _f("signed_up_at", "timestamp"),
            _f("churned_at", "timestamp"),
            _f("churn_reason", "text"),
            _f("attributes", "json"),
            _SOURCE,
        ),
        extras_field="attributes",
    ),
    "interactions": EntitySpec(
        "interactions",
        (
            _f("occurred_at", "timestamp", required=True),
            _f("received_at", "timestamp"),
            _f("channel", "enum", required=True, choices=CHANNELS),
            _f("name", "text", required=True),
            _f("stage", "enum", choices=STAGES),
            _f("properties", "json"),
            _SOURCE,
            _KEY,
        ),
        extras_field="properties",
    ),
    "responses": EntitySpec(
        "responses",
        (
            _f("metric", "enum", required=True, choices=METRICS),
            _f("score", "number", required=True),
            _f("scale_min", "integer", d="Default by metric: nps 0, csat 1, ces 1."),
            _f("scale_max", "integer", d="Default by metric: nps 10, csat 5, ces 7."),
            _f("comment", "text"),
            _f("touchpoint", "text"),
            _f("channel", "enum", choices=CHANNELS),
            _f("survey", "text"),
            _f("answered_at", "timestamp", required=True),
            _f("case_external_id", "text", d="Links the response to a case of the same source."),
            _f("properties", "json"),
            _SOURCE,
            _KEY,
        ),
        extras_field="properties",
    ),
    "cases": EntitySpec(
        "cases",
        (
            _f("external_id", "text", required=True, d="The case's id in its source system."),
            _f("channel", "enum", required=True, choices=CHANNELS),
            _f("subject", "text"),
            _f("status", "enum", required=True, choices=CASE_STATUSES),
            _f("priority", "enum", choices=PRIORITIES),
            _f("team", "text"),
            _f("assignee", "text"),
            _f("category", "text"),
            _f("created_at", "timestamp", required=True),
            _f("first_response_at", "timestamp"),
            _f("solved_at", "timestamp"),
            _f("closed_at", "timestamp"),
            _f("reopen_count", "integer"),
            _f("satisfaction", "number"),
            _f("properties", "json"),
            _SOURCE,
        ),
        extras_field="properties",
    ),
    "case_events": EntitySpec(
        "case_events",
        (
            _f("case_external_id", "text", required=True),
            _f("occurred_at", "timestamp", required=True),
            _f("kind", "enum", required=True, choices=CASE_EVENT_KINDS),
            _f("direction", "enum", choices=DIRECTIONS),
            _f("author", "text"),
            _f("channel", "enum", choices=CHANNELS),
            _f("body", "text"),
            _f("from_value", "text"),
            _f("to_value", "text"),
            _SOURCE,
            _KEY,
        ),
        needs_customer=False,
    ),
}

METRIC_SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


@dataclass(frozen=True)
class RejectedRow:
    line: int | None  # None when the source has no line (e.g. a record an adapter could not place)
    column: str | None
    reason: str


@dataclass
class ImportReport:
    """What an import did. ``rejected`` lists at most ``max_listed`` rows; ``rejected_count`` is exact."""

    entity: str
    source_file: str
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected_count: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    customers_created: int = 0
    identity_conflicts: int = 0
    merges: int = 0
    chunks_committed: int = 0
    strict: bool = False
    per_entity: dict[str, dict[str, Any]] = field(default_factory=dict)  # adapters: one report each

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "file": self.source_file,
            "rows_read": self.rows_read,
            "imported": self.imported,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "rejected_count": self.rejected_count,
            "rejected": [r.__dict__ for r in self.rejected],
            "customers_created": self.customers_created,
            "identity_conflicts": self.identity_conflicts,
            "merges": self.merges,
            **({"per_entity": self.per_entity} if self.per_entity else {}),
        }

    def add(self, other: ImportReport) -> None:
        """Fold a sub-import (one entity of an adapter) into a combined total."""
        self.rows_read += other.rows_read
        self.imported += other.imported
        self.updated += other.updated
        self.duplicates += other.duplicates
        self.rejected_count += other.rejected_count
        self.rejected.extend(other.rejected)
        self.customers_created += other.customers_created
        self.identity_conflicts += other.identity_conflicts
        self.merges += other.merges
