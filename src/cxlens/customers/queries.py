"""Read side of customers: find, search, profile (Customer 360) and the unified timeline."""

from __future__ import annotations

import base64
from datetime import datetime

from cxlens.core.instants import in_range
from cxlens.customers.model import normalize_email, normalize_phone
from cxlens.customers.records import ActivityCounts, Customer, CustomerMatch, Identity, MergeEntry
from cxlens.errors import InvalidInput, NotFound
from cxlens.storage.store import Session

_PROFILE_COLUMNS = (
    "customer_id, name, email, phone, segment, value, attributes, signed_up_at, first_seen_at, "
    "last_seen_at, churned_at, churn_reason, created_at, updated_at"
)


def access_customer(s: Session, ref: str) -> Customer:
    """The (canonical) customer a reference names: a customer id, an email, a phone or any
    identity value. Raises NotFound without saying which kind of reference failed."""
    ref = ref.strip()
    key = s.fetch_value(
        "SELECT c.canonical_key FROM customers c WHERE c.customer_id = ? "
        "UNION ALL SELECT c.canonical_key FROM identities x JOIN customers c USING (customer_key) "
        "WHERE x.value IN (?, ?, ?) LIMIT 1",
        [ref, ref, normalize_email(ref), normalize_phone(ref) or ref],
    )
    if key is None:
        raise NotFound(f"No customer matches {ref!r}.")
    return get_profile(s, int(key))


def get_profile(s: Session, canonical_key: int) -> Customer:
    row = s.fetch_one(
        f"SELECT customer_key, {_PROFILE_COLUMNS} FROM customers WHERE customer_key = ?", [canonical_key]
    )
    if row is None:
        raise NotFound("No such customer.")
    members = member_keys(s, canonical_key)
    placeholders = ", ".join("?" * len(members))
    identities = s.fetch_all(
        "SELECT x.kind, x.value, x.source, x.first_seen_at, c.customer_id AS via_profile "
        f"FROM identities x JOIN customers c USING (customer_key) WHERE x.customer_key IN ({placeholders}) "
        "ORDER BY x.kind, x.value",
        members,
    )
    merges = s.fetch_all(
        "SELECT m.merge_id, w.customer_id AS winner_id, l.customer_id AS loser_id, m.reason, m.actor, "
        "m.merged_at, m.undone_at FROM merges m JOIN customers w ON w.customer_key = m.winner_key "
        f"JOIN customers l ON l.customer_key = m.loser_key WHERE m.winner_key IN ({placeholders}) "
        f"OR m.loser_key IN ({placeholders}) ORDER BY m.merged_at DESC",
        [*members, *members],
    )
    counts = s.fetch_one(
        f"SELECT (SELECT count(*) FROM interactions WHERE customer_key IN ({placeholders})) AS interactions, "
        f"(SELECT count(*) FROM responses WHERE customer_key IN ({placeholders})) AS responses, "
        f"(SELECT count(*) FROM cases WHERE customer_key IN ({placeholders})) AS cases",
        [*members, *members, *members],
    )
    assert counts is not None
    return Customer(
        **row,
        identities=tuple(Identity(**i) for i in identities),
        merges=tuple(MergeEntry(**m) for m in merges),
        counts=ActivityCounts(**counts),
        merged_profiles=len(members) - 1,
    )


def member_keys(s: Session, canonical_key: int) -> list[int]:
    rows = s.fetch_all(
        "SELECT customer_key FROM customers WHERE canonical_key = ? ORDER BY 1", [canonical_key]
    )
    return [int(r["customer_key"]) for r in rows] or [canonical_key]


def search_customers(s: Session, text: str, *, limit: int = 20) -> list[CustomerMatch]:
    """Customers whose name contains ``text`` or who hold an identity equal to it (or, for
    longer texts, starting with it)."""
    text = text.strip()
    if not text:
        raise InvalidInput("Give some text to search for.")
    pattern = "%" + text.replace("%", r"\%").replace("_", r"\_") + "%"
    prefix = text.lower() + "%" if len(text) >= 3 else text.lower()
    rows = s.fetch_all(
        "WITH hits AS ("
        "  SELECT canonical_key AS key FROM customers WHERE name ILIKE ? ESCAPE '\\' "
        "  UNION SELECT c.canonical_key FROM identities x JOIN customers c USING (customer_key) "
        "  WHERE x.value IN (?, ?, ?) OR lower(x.value) LIKE ? "
        "  UNION SELECT canonical_key FROM customers WHERE customer_id = ?) "
        "SELECT c.customer_id, c.name, c.email, c.phone, c.segment, c.last_seen_at FROM hits "
        "JOIN customers c ON c.customer_key = hits.key ORDER BY c.last_seen_at DESC NULLS LAST, c.customer_id "
        "LIMIT ?",
        [pattern, text, normalize_email(text), normalize_phone(text) or text, prefix, text, limit],
    )
    return [CustomerMatch(**row) for row in rows]


def encode_cursor(at: datetime, item_id: str) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{item_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, item_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        moment = datetime.fromisoformat(at)
        if not in_range(moment):  # a forged cursor must not reach the query as an absurd instant
            raise ValueError(at)
        return moment, item_id
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("The paging cursor is not valid; start again from the first page.") from error
