"""Use cases on customers: merge two profiles, undo a merge."""

from __future__ import annotations

from typing import Any

from cxlens.customers.merges import merge_pairs
from cxlens.customers.queries import access_customer
from cxlens.errors import Conflict, NotFound
from cxlens.storage.store import UnitOfWork


def merge_customers(uow: UnitOfWork, *, winner_ref: str, loser_ref: str, actor: str) -> dict[str, Any]:
    """Merge the customer ``loser_ref`` into ``winner_ref``; returns the merge record."""
    winner = access_customer(uow, winner_ref)
    loser = access_customer(uow, loser_ref)
    if winner.customer_key == loser.customer_key:
        raise Conflict(f"{winner_ref} and {loser_ref} are already the same customer ({winner.customer_id}).")
    uow.execute(
        "CREATE OR REPLACE TEMP TABLE _pair AS SELECT CAST(? AS BIGINT) AS loser_key, CAST(? AS BIGINT) AS winner_key",
        [loser.customer_key, winner.customer_key],
    )
    merge_pairs(uow, pairs="_pair", reason="manual merge", actor=actor)
    uow.drop_temp("_pair")
    merge = uow.fetch_one(
        "SELECT merge_id, merged_at FROM merges WHERE winner_key = ? AND loser_key = ? AND undone_at IS NULL "
        "ORDER BY merged_at DESC LIMIT 1",
        [winner.customer_key, loser.customer_key],
    )
    assert merge is not None
    return {**merge, "winner_id": winner.customer_id, "loser_id": loser.customer_id}


def unmerge(uow: UnitOfWork, *, merge_id: str, actor: str) -> dict[str, Any]:
    """Undo a merge: every profile it moved points at its previous customer again."""
    merge = uow.fetch_one("SELECT * FROM merges WHERE merge_id = ?", [merge_id])
    if merge is None:
        raise NotFound(f"No merge {merge_id!r}.")
    if merge["undone_at"] is not None:
        raise Conflict(f"Merge {merge_id} was already undone at {merge['undone_at']}.")
    later = uow.fetch_value(
        "SELECT min(m2.merge_id) FROM merge_members mm JOIN customers c USING (customer_key) "
        "JOIN merge_members m2 ON m2.customer_key = c.customer_key AND m2.merge_id <> mm.merge_id "
        "JOIN merges later ON later.merge_id = m2.merge_id AND later.undone_at IS NULL "
        "WHERE mm.merge_id = ? AND c.canonical_key <> ?",
        [merge_id, merge["winner_key"]],
    )
    if later is not None:
        raise Conflict(f"Merge {merge_id} was followed by merge {later}; undo that one first.")
    uow.execute(
        "UPDATE customers SET canonical_key = mm.previous_canonical_key, updated_at = now() "
        "FROM merge_members mm WHERE mm.merge_id = ? AND customers.customer_key = mm.customer_key",
        [merge_id],
    )
    uow.execute("UPDATE merges SET undone_at = now(), undone_by = ? WHERE merge_id = ?", [actor, merge_id])
    return {
        "merge_id": merge_id,
        "restored_profiles": int(
            uow.fetch_value("SELECT count(*) FROM merge_members WHERE merge_id = ?", [merge_id])
        ),
    }
