"""Writing one chunk of candidate rows: deduplicate, resolve customers, insert or update.

Each loader runs inside one unit of work, so a chunk is committed whole or not at all; the
idempotency checks make the next run skip what an earlier, interrupted run committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from cxlens.customers.identity import resolve_customers
from cxlens.ingest.candidates import CAND
from cxlens.ingest.events import InteractionsIngested, ResponsesRecorded
from cxlens.storage.dialects import quote_ident
from cxlens.storage.keys import next_key_base
from cxlens.storage.store import Session, UnitOfWork

CHUNK = "_chunk"


@dataclass
class ChunkResult:
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    customers_created: int = 0
    conflicts: int = 0
    merges: int = 0


def take_chunk(s: Session, start: int, stop: int, *, keyed_table: str | None = None) -> int:
    """Copy the valid candidate rows ``[start, stop)`` into ``_chunk``; returns the duplicates.

    With ``keyed_table``, rows are keyed by (source, idempotency key) — the content hash when
    the file gives no key — and rows already stored there, or repeated earlier in the file, are
    left out in the same statement (the first occurrence is kept)."""
    valid = f"SELECT * FROM {CAND} WHERE _row >= {int(start)} AND _row < {int(stop)} AND _err_reason IS NULL"
    if keyed_table is None:
        s.execute(f"CREATE OR REPLACE TEMP TABLE {CHUNK} AS {valid}")
        return 0
    total = int(s.fetch_value(f"SELECT count(*) FROM ({valid})"))
    # Decide on narrow columns first (row number and key), then copy only the kept wide rows:
    # a window or join carrying every column would spill at tens of millions of rows.
    s.execute(
        "CREATE OR REPLACE TEMP TABLE _keep AS SELECT min(_row) AS _row FROM ("
        f"SELECT _row, source, coalesce(idempotency_key, _hash) AS k FROM ({valid})) c "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote_ident(keyed_table)} t "
        "WHERE t.source = c.source AND t.idempotency_key = c.k) GROUP BY source, k"
    )
    s.execute(
        f"CREATE OR REPLACE TEMP TABLE {CHUNK} AS "
        f"SELECT * REPLACE (coalesce(idempotency_key, _hash) AS idempotency_key) FROM ({valid}) "
        "WHERE _row IN (SELECT _row FROM _keep)"
    )
    s.drop_temp("_keep")
    return total - int(s.fetch_value(f"SELECT count(*) FROM {CHUNK}"))


def chunk_source(s: Session) -> str:
    """The source of the chunk's rows (one import has one source)."""
    return str(s.fetch_value(f"SELECT min(source) FROM {CHUNK}") or "import")


def resolve(s: Session, identities: tuple[str, ...], result: ChunkResult) -> None:
    resolution = resolve_customers(s, rows=CHUNK, identities=identities, source=chunk_source(s))
    result.customers_created += resolution.customers_created
    result.conflicts += resolution.conflicts
    result.merges += resolution.merges


def touch_customers(s: Session, time_column: str) -> None:
    """Keep first/last seen current for the customers this chunk touched."""
    s.execute(
        "UPDATE customers SET first_seen_at = CASE WHEN first_seen_at IS NULL OR t.first < first_seen_at "
        "THEN t.first ELSE first_seen_at END, last_seen_at = CASE WHEN last_seen_at IS NULL OR "
        "t.last > last_seen_at THEN t.last ELSE last_seen_at END "
        f"FROM (SELECT rc.customer_key, min(c.{time_column}) AS first, max(c.{time_column}) AS last "
        f"FROM {CHUNK} c JOIN _row_customer rc USING (_row) GROUP BY rc.customer_key) t "
        "WHERE customers.customer_key = t.customer_key"
    )


def load_interactions(s: UnitOfWork, identities: tuple[str, ...]) -> ChunkResult:
    result = ChunkResult()
    resolve(s, identities, result)
    base = next_key_base(s, "interactions", "interaction_key")
    result.imported = int(
        s.fetch_value(
            "INSERT INTO interactions (interaction_key, customer_key, occurred_at, received_at, channel, name, stage, "
            "source, properties, idempotency_key) "
            f"SELECT {base} + c._row, rc.customer_key, c.occurred_at, "
            "coalesce(c.received_at, now()), c.channel, c.name, c.stage, c.source, c.properties, "
            f"c.idempotency_key FROM {CHUNK} c JOIN _row_customer rc USING (_row)"
        )
        or 0
    )
    touch_customers(s, "occurred_at")
    if result.imported:
        s.record(InteractionsIngested(source=chunk_source(s), count=result.imported))
    return result


def load_responses(s: UnitOfWork, identities: tuple[str, ...]) -> ChunkResult:
    result = ChunkResult()
    resolve(s, identities, result)
    base = next_key_base(s, "responses", "response_key")
    result.imported = int(
        s.fetch_value(
            "INSERT INTO responses (response_key, customer_key, metric, scale_min, scale_max, score, comment, "
            "touchpoint, channel, survey, case_key, answered_at, source, properties, idempotency_key) "
            f"SELECT {base} + c._row, rc.customer_key, c.metric, c.scale_min, "
            "c.scale_max, c.score, c.comment, c.touchpoint, c.channel, c.survey, k.case_key, c.answered_at, "
            f"c.source, c.properties, c.idempotency_key FROM {CHUNK} c JOIN _row_customer rc USING (_row) "
            "LEFT JOIN cases k ON k.source = c.source AND k.external_id = c.case_external_id"
        )
        or 0
    )
    touch_customers(s, "answered_at")
    if result.imported:
        s.record(ResponsesRecorded(source=chunk_source(s), count=result.imported))
    return result
