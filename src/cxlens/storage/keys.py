"""Row keys: every table's integer key is allocated the same way, here.

Keys are ``max(key) + n``: increasing across chunks and imports, computed without a window function
or a sequence to keep in sync (cheaper than random ids at tens of millions of rows). Writers are
serialised by the store (one unit of work at a time), so two writers never read the same maximum.
"""

from __future__ import annotations

from typing import Any

from cxlens.storage.dialects import quote_ident
from cxlens.storage.store import Session


def next_key_base(s: Session, table: str, key: str) -> int:
    """The largest key in ``table`` (0 when empty): new rows take ``base + 1``, ``base + 2``, …"""
    return int(s.fetch_value(f"SELECT coalesce(max({quote_ident(key)}), 0) FROM {quote_ident(table)}"))


def insert_row(s: Session, table: str, key: str, values: dict[str, Any]) -> int:
    """Insert one row whose ``key`` column takes the next key; returns that key. ``values`` maps the
    other columns (named explicitly, so a column added later cannot shift them) to their values."""
    new_key = next_key_base(s, table, key) + 1
    columns = ", ".join(quote_ident(c) for c in (key, *values))
    marks = ", ".join("?" for _ in range(len(values) + 1))
    s.execute(f"INSERT INTO {quote_ident(table)} ({columns}) VALUES ({marks})", [new_key, *values.values()])
    return new_key
