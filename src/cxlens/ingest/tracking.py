"""Applying spooled tracking events to the data model, set-based, in one transaction per batch.

    spool lines -> _trk (one row per event) -> drop duplicates of (source, messageId)
      -> log them (tracking_events) -> identify/alias/group: profiles and identities (the bulk
      import pipeline, so identity resolution is the same) -> alias merges -> accounts
      -> track/page/screen: interactions -> record the segments as applied

Everything happens in one unit of work, so a crash anywhere leaves the database as it was and
the spool still holds the events: the next run applies them exactly once. Events the model
cannot take (an identify whose email is not an email) are kept in ``tracking_rejects`` with the
reason and the payload.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cxlens.customers.merges import merge_pairs
from cxlens.ingest.candidates import CAND
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import STAGED, drop_staging, load_staged
from cxlens.ingest.tracking_sql import (
    channel_expr,
    extracted_columns,
    extraction,
    identify_traits_expr,
    name_expr,
    properties_expr,
    stage_expr,
    traits_columns,
)
from cxlens.storage.spool import Segment
from cxlens.storage.store import Store, UnitOfWork

LINES = "_trk_lines"
EVENTS = "_trk"
# Segment treats timestamps without an offset as UTC; so do we.
_OPTIONS = ImportOptions(source="tracking", tz="UTC", max_listed_rejects=0)
_PROFILE_TYPES = "('identify', 'alias', 'group')"
# Whether the event came through a browser source's (public) key; a source unknown here (deleted
# since, or a test spool) counts as a server source, the kind every source had before kinds.
_BROWSER = "coalesce((SELECT k.kind = 'browser' FROM sources k WHERE k.name = source), FALSE)"
_BROWSER_ALIAS_REASON = (
    "a browser source may not merge profiles that have a user id: previousId is the user id of "
    "another profile (send this alias from a server source)"
)
_INTERACTION_TYPES = "('track', 'page', 'screen')"


@dataclass
class TrackingResult:
    """What applying a batch of segments did."""

    events: int = 0
    duplicates: int = 0
    applied: int = 0
    rejected: int = 0
    interactions: int = 0
    customers_created: int = 0
    merges: int = 0


def apply_segments(store: Store, segments: list[Segment]) -> TrackingResult:
    """Apply ``segments`` (oldest first) in one transaction; segments an earlier run already
    applied (it crashed before deleting them) are skipped."""
    result = TrackingResult()
    with store.session() as s, store.unit_of_work(s) as uow:
        done = _applied_names(uow, [seg.name for seg in segments])
        todo = [seg for seg in segments if seg.name not in done]
        if not todo:
            return result
        uow.stage_lines(LINES, [seg.path for seg in todo])
        try:
            _extract(uow)
            result.events = int(uow.fetch_value(f"SELECT count(*) FROM {EVENTS}"))
            result.duplicates = _deduplicate(uow)
            _log_events(uow)
            _apply_profiles(uow, result)
            _apply_interactions(uow, result)
            result.applied = result.events - result.duplicates - result.rejected
            uow.execute(
                "INSERT INTO tracking_segments (name, events, processed_at) SELECT unnest(?), unnest(?), now()",
                [[seg.name for seg in todo], [seg.events for seg in todo]],
            )
        finally:
            uow.drop_temp(LINES, EVENTS, "_trk_seen", "_alias_pairs")
    return result


def _applied_names(uow: UnitOfWork, names: list[str]) -> set[str]:
    rows = uow.fetch_all("SELECT name FROM tracking_segments WHERE name IN (SELECT unnest(?))", [names])
    return {r["name"] for r in rows}


def _extract(uow: UnitOfWork) -> None:
    """One row per readable event, its fields extracted in one pass over the JSON."""
    d = uow.dialect
    uow.execute(
        f"CREATE OR REPLACE TEMP TABLE {EVENTS} AS SELECT *, {identify_traits_expr()} AS traits, "
        f"{d.hash64('source || chr(31) || message_id')} AS id_hash, "
        f"{d.try_cast('received_text', 'TIMESTAMPTZ')} AS received_at, "
        f"coalesce({d.try_cast('timestamp_text', 'TIMESTAMPTZ')}, {d.try_cast('received_text', 'TIMESTAMPTZ')}) "
        f"AS occurred_at, {_BROWSER} AS browser FROM (SELECT _row, line AS j, {extracted_columns()} "
        f"FROM (SELECT _row, line, {extraction('line')} AS f FROM {LINES} WHERE json_valid(line))) "
        "WHERE source IS NOT NULL AND message_id IS NOT NULL"
    )


def _deduplicate(uow: UnitOfWork) -> int:
    """Keep the first of each (source, messageId) in the batch, and drop those applied before.
    Earlier events are found by a narrow hash column first; only hash matches (retries, in
    practice) are compared in full."""
    before = int(uow.fetch_value(f"SELECT count(*) FROM {EVENTS}"))
    uow.execute(
        f"DELETE FROM {EVENTS} WHERE _row NOT IN (SELECT min(_row) FROM {EVENTS} GROUP BY source, message_id)"
    )
    uow.execute(
        "CREATE OR REPLACE TEMP TABLE _trk_seen AS SELECT DISTINCT id_hash FROM tracking_events "
        f"WHERE id_hash IN (SELECT id_hash FROM {EVENTS})"
    )
    if uow.fetch_value("SELECT count(*) FROM _trk_seen"):
        uow.execute(
            f"DELETE FROM {EVENTS} t WHERE EXISTS (SELECT 1 FROM tracking_events e "
            "WHERE e.id_hash IN (SELECT id_hash FROM _trk_seen) AND e.id_hash = t.id_hash "
            "AND e.source = t.source AND e.message_id = t.message_id)"
        )
    return before - int(uow.fetch_value(f"SELECT count(*) FROM {EVENTS}"))


def _log_events(uow: UnitOfWork) -> None:
    uow.execute(
        "INSERT INTO tracking_events (source, message_id, id_hash, type, received_at, occurred_at, processed_at) "
        "SELECT source, message_id, id_hash, type, "
        f"coalesce(received_at, now()), coalesce(occurred_at, now()), now() FROM {EVENTS}"
    )


def _apply_profiles(uow: UnitOfWork, result: TrackingResult) -> None:
    """identify (traits and identities), alias (links the previous id) and group (resolves the
    member) go through the customers import; then alias merges and account links."""
    result.rejected += _refuse_browser_merges(uow)
    if not uow.fetch_value(f"SELECT count(*) FROM {EVENTS} WHERE type IN {_PROFILE_TYPES}"):
        return
    # Server events first, then browser events, which may only fill what the first left empty.
    for trusted in (True, False):
        _load_profiles(uow, result, trusted=trusted)
    result.merges += _merge_aliases(uow)
    _link_accounts(uow)


def _refuse_browser_merges(uow: UnitOfWork) -> int:
    """A browser key is public: an alias from one whose previousId is the user id of another
    profile would merge two identified customers. Such aliases go to the rejects, unapplied."""
    refused = (
        f"type = 'alias' AND browser AND EXISTS (SELECT 1 FROM identities ip "
        "JOIN customers cp ON cp.customer_key = ip.customer_key "
        f"WHERE ip.kind = 'user_id' AND ip.value = trim({EVENTS}.previous_id) AND NOT EXISTS ("
        "SELECT 1 FROM identities iu JOIN customers cu ON cu.customer_key = iu.customer_key "
        f"WHERE iu.kind = 'user_id' AND iu.value = trim({EVENTS}.user_id) "
        "AND cu.canonical_key = cp.canonical_key))"
    )
    count = int(
        uow.fetch_value(
            "INSERT INTO tracking_rejects (source, message_id, type, field, reason, payload, recorded_at) "
            "SELECT source, message_id, type, 'previousId', ?, CAST(j AS JSON), now() "
            f"FROM {EVENTS} WHERE {refused}",
            [_BROWSER_ALIAS_REASON],
        )
        or 0
    )
    if count:
        uow.execute(f"DELETE FROM {EVENTS} WHERE {refused}")
    return count


def _load_profiles(uow: UnitOfWork, result: TrackingResult, *, trusted: bool) -> None:
    """identify/alias/group calls of server sources (``trusted``) or of browser sources."""
    which = f"type IN {_PROFILE_TYPES} AND {'NOT ' if trusted else ''}browser"
    if not uow.fetch_value(f"SELECT count(*) FROM {EVENTS} WHERE {which}"):
        return
    traits = traits_columns()
    # An alias's previous id is an anonymous id, unless it is a known user id: then the two
    # profiles are merged below (two user ids are never linked by the identity rules alone).
    previous = (
        "CASE WHEN type = 'alias' AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.kind = 'user_id' "
        "AND i.value = previous_id) THEN previous_id END"
    )
    uow.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED} AS SELECT _row, _row AS _line, source, user_id, "
        f"coalesce({previous}, anonymous_id) AS anonymous_id, "
        + ", ".join(f"{expr} AS {name}" for name, expr in traits.items())
        + f" FROM {EVENTS} WHERE {which}"
    )
    columns = ["source", "user_id", "anonymous_id", *traits]
    try:
        report = load_staged(uow, "customers", columns, options=replace(_OPTIONS, trusted=trusted))
        result.customers_created += report.customers_created
        result.merges += report.merges
        result.rejected += _record_rejects(uow)
    finally:
        drop_staging(uow)


def _apply_interactions(uow: UnitOfWork, result: TrackingResult) -> None:
    if not uow.fetch_value(f"SELECT count(*) FROM {EVENTS} WHERE type IN {_INTERACTION_TYPES}"):
        return
    uow.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGED} AS SELECT _row, _row AS _line, source, "
        "message_id AS idempotency_key, user_id, anonymous_id, "
        "CAST(occurred_at AS VARCHAR) AS occurred_at, CAST(received_at AS VARCHAR) AS received_at, "
        f"{channel_expr()} AS channel, {name_expr()} AS name, {stage_expr()} AS stage, "
        f"CAST({properties_expr()} AS VARCHAR) AS properties "
        f"FROM {EVENTS} WHERE type IN {_INTERACTION_TYPES}"
    )
    columns = ["source", "idempotency_key", "user_id", "anonymous_id", "occurred_at", "received_at"]
    columns += ["channel", "name", "stage", "properties"]
    try:
        report = load_staged(uow, "interactions", columns, options=_OPTIONS)
        result.interactions += report.imported
        result.customers_created += report.customers_created
        result.merges += report.merges
        result.rejected += _record_rejects(uow)
    finally:
        drop_staging(uow)


def _record_rejects(uow: UnitOfWork) -> int:
    return int(
        uow.fetch_value(
            "INSERT INTO tracking_rejects (source, message_id, type, field, reason, payload, recorded_at) "
            "SELECT t.source, t.message_id, t.type, c._err_col, c._err_reason, "
            f"CAST(t.j AS JSON), now() FROM {CAND} c JOIN {EVENTS} t ON t._row = c._row WHERE c._err_reason IS NOT NULL"
        )
        or 0
    )


def _merge_aliases(uow: UnitOfWork) -> int:
    """``alias(previousId=A, userId=B)`` from a server source, where A and B are user ids of
    different profiles: merge A's profile into B's (one merge per profile, audited and reversible
    like any merge)."""
    uow.execute(
        "CREATE OR REPLACE TEMP TABLE _alias_pairs AS SELECT cp.canonical_key AS loser_key, "
        "min(cu.canonical_key) AS winner_key "
        f"FROM {EVENTS} a "
        "JOIN identities ip ON ip.kind = 'user_id' AND ip.value = trim(a.previous_id) "
        "JOIN customers cp ON cp.customer_key = ip.customer_key "
        "JOIN identities iu ON iu.kind = 'user_id' AND iu.value = trim(a.user_id) "
        "JOIN customers cu ON cu.customer_key = iu.customer_key "
        # Never for a browser source (see _refuse_browser_merges), even when a user id it names
        # only became known earlier in this same batch.
        "WHERE a.type = 'alias' AND NOT a.browser AND cp.canonical_key <> cu.canonical_key "
        "GROUP BY cp.canonical_key"
    )
    # A profile that wins one alias and loses another in the same batch waits for the next alias.
    uow.execute("DELETE FROM _alias_pairs WHERE winner_key IN (SELECT loser_key FROM _alias_pairs)")
    if not uow.fetch_value("SELECT count(*) FROM _alias_pairs"):
        return 0
    return merge_pairs(uow, pairs="_alias_pairs", reason="alias", actor="tracking")


def _link_accounts(uow: UnitOfWork) -> None:
    """``group``: create or update each account (traits merged in call order, the later value of a
    trait winning), then link the member — the holder of the call's user id, else its anonymous id."""
    if not uow.fetch_value(f"SELECT count(*) FROM {EVENTS} WHERE type = 'group'"):
        return
    uow.execute(
        "CREATE OR REPLACE TEMP TABLE _grp AS SELECT _row, trim(group_id) AS account_id, "
        "source, user_id, anonymous_id, received_at, CAST(top_traits AS JSON) AS traits "
        f"FROM {EVENTS} WHERE type = 'group'"
    )
    trait_path = "'$.\"' || replace(k, '\"', '\\\"') || '\"'"
    uow.execute(
        "CREATE OR REPLACE TEMP TABLE _grp_traits AS SELECT account_id, "
        "CAST(json_group_object(k, v) AS JSON) AS traits FROM ("
        f"SELECT account_id, k, arg_max(json_extract(traits, {trait_path}), _row) AS v FROM ("
        "SELECT account_id, _row, traits, unnest(json_keys(traits)) AS k FROM _grp WHERE traits IS NOT NULL) "
        "GROUP BY account_id, k) GROUP BY account_id"
    )
    uow.execute(
        "INSERT INTO accounts (account_id, name, traits, source, created_at, updated_at) "
        "SELECT g.account_id, json_extract_string(t.traits, '$.name'), t.traits, g.source, "
        "now(), now() FROM (SELECT account_id, min(source) AS source FROM _grp GROUP BY account_id) g "
        "LEFT JOIN _grp_traits t USING (account_id) "
        "ON CONFLICT (account_id) DO UPDATE SET name = coalesce(excluded.name, accounts.name), "
        "traits = CASE WHEN excluded.traits IS NULL THEN accounts.traits "
        "ELSE json_merge_patch(coalesce(accounts.traits, '{}'), excluded.traits) END, updated_at = now()"
    )
    uow.execute(
        "INSERT OR IGNORE INTO account_members (account_id, customer_key, source, linked_at) "
        "SELECT g.account_id, i.customer_key, min(g.source), "
        "min(g.received_at) FROM _grp g JOIN identities i ON "
        "i.kind = CASE WHEN g.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END "
        "AND i.value = trim(coalesce(g.user_id, g.anonymous_id)) GROUP BY g.account_id, i.customer_key"
    )
    uow.drop_temp("_grp", "_grp_traits")


def prune_tracking_log(uow: UnitOfWork, *, days: int) -> int:
    """Forget processed events older than the deduplication window (their interactions stay)."""
    return int(
        uow.fetch_value(f"DELETE FROM tracking_events WHERE received_at < now() - INTERVAL {int(days)} DAY")
        or 0
    )
