"""Reads on sources: the list with activity, and the lookup of a presented write key."""

from __future__ import annotations

from typing import Any

from cxlens.storage.store import Session


def list_sources(s: Session) -> list[dict[str, Any]]:
    """Every source with its activity over the deduplication window (``tracking_events`` keeps
    the events of that window; older ones are on the timelines but no longer counted here)."""
    return s.fetch_all(
        "SELECT s.name, s.kind, s.key_hint, s.created_at, s.revoked_at, "
        "coalesce(e.events, 0) AS events, e.last_received_at, coalesce(r.rejected, 0) AS rejected "
        "FROM sources s "
        "LEFT JOIN (SELECT source, count(*) AS events, max(received_at) AS last_received_at "
        "           FROM tracking_events GROUP BY source) e ON e.source = s.name "
        "LEFT JOIN (SELECT source, count(*) AS rejected FROM tracking_rejects GROUP BY source) r "
        "ON r.source = s.name ORDER BY s.name"
    )


def active_key_hashes(s: Session) -> dict[str, str]:
    """Key hash -> source name of every active source (a small table, read whole)."""
    return {
        r["key_hash"]: r["name"]
        for r in s.fetch_all("SELECT key_hash, name FROM sources WHERE revoked_at IS NULL")
    }
