"""Loading cases (upserted by source + external id) and their events (messages, status changes,
assignments, handoffs) through the cases slice, which owns both tables."""

from __future__ import annotations

from cxlens.cases.service import open_cases, record_case_events, update_cases
from cxlens.ingest.load import CHUNK, ChunkResult, chunk_source, resolve, touch_customers
from cxlens.storage.store import UnitOfWork


def load_cases(uow: UnitOfWork, identities: tuple[str, ...]) -> ChunkResult:
    result = ChunkResult()
    # The last row of a case in the file is its latest state; earlier rows are duplicates.
    result.duplicates = int(
        uow.fetch_value(
            f"DELETE FROM {CHUNK} WHERE _row IN (SELECT _row FROM (SELECT _row, row_number() OVER "
            f"(PARTITION BY source, external_id ORDER BY _row DESC) AS n FROM {CHUNK}) WHERE n > 1)"
        )
        or 0
    )
    source = chunk_source(uow)
    updates = update_cases(uow, rows=CHUNK, source=source)
    result.updated, result.duplicates = updates.updated, result.duplicates + updates.unchanged
    # Stored cases are done; only new ones need a customer.
    uow.execute(
        f"DELETE FROM {CHUNK} c WHERE EXISTS (SELECT 1 FROM cases k "
        "WHERE k.source = c.source AND k.external_id = c.external_id)"
    )
    resolve(uow, identities, result)
    uow.execute(
        f"CREATE OR REPLACE TEMP VIEW _chunk_cases AS SELECT c.*, rc.customer_key FROM {CHUNK} c "
        "JOIN _row_customer rc USING (_row)"
    )
    result.imported = open_cases(uow, rows="_chunk_cases", source=source)
    uow.drop_temp("_chunk_cases")
    touch_customers(uow, "created_at")
    return result


def load_case_events(uow: UnitOfWork, identities: tuple[str, ...]) -> ChunkResult:
    result = ChunkResult()
    source = chunk_source(uow)
    result.imported = record_case_events(uow, rows=CHUNK, source=source, deduplicated=True)
    return result
