"""Merging and unmerging profiles. Rows are never rewritten: a merge points every member of the
losing profile at the winner (``canonical_key``) and records which members it moved, so an unmerge
restores both timelines exactly."""

from __future__ import annotations

from cxlens.storage.dialects import quote_ident
from cxlens.storage.store import Session


def merge_pairs(s: Session, *, pairs: str, reason: str, actor: str) -> int:
    """Merge every ``(loser_key, winner_key)`` of table ``pairs`` (canonical keys) in one pass.
    Returns how many merges were recorded."""
    table = quote_ident(pairs)
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _merge_batch AS "
        f"SELECT 'mrg_' || {s.dialect.random_hex(24)} AS merge_id, loser_key, winner_key FROM {table}"
    )
    s.execute(
        "INSERT INTO merges (merge_id, winner_key, loser_key, reason, actor, merged_at) "
        "SELECT merge_id, winner_key, loser_key, ?, ?, now() FROM _merge_batch",
        [reason, actor],
    )
    s.execute(
        "INSERT INTO merge_members (merge_id, customer_key, previous_canonical_key) "
        "SELECT b.merge_id, c.customer_key, c.canonical_key FROM _merge_batch b "
        "JOIN customers c ON c.canonical_key = b.loser_key"
    )
    s.execute(
        "UPDATE customers SET canonical_key = b.winner_key, updated_at = now() FROM _merge_batch b "
        "WHERE customers.canonical_key = b.loser_key"
    )
    count = int(s.fetch_value("SELECT count(*) FROM _merge_batch"))
    s.drop_temp("_merge_batch")
    return count
