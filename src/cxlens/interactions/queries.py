"""The unified timeline: interactions, responses, cases and case events of every profile merged
into a customer, newest first, keyset-paged."""

from __future__ import annotations

from typing import Any

from cxlens.core.paging import Page
from cxlens.customers.queries import decode_cursor, encode_cursor, member_keys
from cxlens.interactions.records import TimelineItem
from cxlens.storage.store import Session

# One timeline: the Customer 360 page and the loop's "recent timeline" of a follow-up read this.
_ITEMS = """
SELECT customer_key, occurred_at, 'int_' || interaction_key AS id, 'interaction' AS type, channel, name AS title,
       stage, source, NULL AS metric, NULL AS score, NULL AS text, NULL AS case_id,
       CAST(properties AS VARCHAR) AS detail
FROM interactions WHERE customer_key IN ({keys})
UNION ALL
SELECT customer_key, answered_at, 'rsp_' || response_key, 'response', channel, coalesce(survey, metric), NULL,
       source, metric, score, comment, (SELECT case_id FROM cases k WHERE k.case_key = r.case_key), touchpoint
FROM responses r WHERE customer_key IN ({keys})
UNION ALL
SELECT customer_key, created_at, case_id, 'case', channel, subject, NULL, source, NULL, satisfaction,
       NULL, case_id, status || coalesce(' · ' || team, '')
FROM cases WHERE customer_key IN ({keys})
UNION ALL
SELECT k.customer_key, e.occurred_at, 'cev_' || e.event_key, 'case_' || e.kind, coalesce(e.channel, k.channel),
       CASE e.kind WHEN 'message' THEN coalesce(e.direction, '') || ' message'
                   WHEN 'handoff' THEN 'handoff ' || coalesce(e.from_value, '?') || ' -> ' || coalesce(e.to_value, '?')
                   ELSE e.kind || ' ' || coalesce(e.from_value || ' -> ', '') || coalesce(e.to_value, '') END,
       NULL, e.source, NULL, NULL, e.body, k.case_id, e.author
FROM case_events e JOIN cases k USING (case_key) WHERE k.customer_key IN ({keys})
"""


def timeline_items_sql(keys: str) -> str:
    """Every timeline item of the profiles whose keys ``keys`` gives (a list or a subquery)."""
    return _ITEMS.format(keys=keys)


def get_timeline(
    s: Session, canonical_key: int, *, before: str | None = None, limit: int = 50
) -> Page[TimelineItem]:
    keys = ", ".join(str(int(k)) for k in member_keys(s, canonical_key))
    params: list[Any] = []
    where = ""
    if before:
        at, item_id = decode_cursor(before)
        where = "WHERE (occurred_at < ? OR (occurred_at = ? AND id < ?))"
        params = [at, at, item_id]
    rows = s.fetch_all(
        f"SELECT * EXCLUDE (customer_key) FROM ({timeline_items_sql(keys)}) {where} "
        "ORDER BY occurred_at DESC, id DESC LIMIT ?",
        [*params, limit + 1],
    )
    items = [TimelineItem(**row) for row in rows[:limit]]
    cursor = encode_cursor(items[-1].occurred_at, items[-1].id) if len(rows) > limit and items else None
    return Page(items=items, next_cursor=cursor)
