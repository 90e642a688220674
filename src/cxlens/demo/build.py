"""Build the demo workspace: generate the seeded world and load it through the same import
pipeline every user's data goes through."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cxlens.demo.survey_program import seed_survey_program
from cxlens.demo.world import generate_world
from cxlens.errors import Conflict
from cxlens.ingest.base import ImportReport
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.storage.store import Store

# Parents before children: cases must exist before their events and the CSAT responses about them.
LOAD_ORDER = ("customers", "interactions", "cases", "case_events", "responses")
Step = Callable[[str, int, int], None]  # (entity, rows done, rows total)


def reset_demo_file(path: Path, *, is_demo: Callable[[Path], bool]) -> None:
    """Remove an earlier demo workspace; refuse to touch a workspace that is not a demo."""
    if not path.exists():
        return
    if not is_demo(path):
        raise Conflict(f"{path} exists and is not a demo workspace; choose another file with --db.")
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)


def build_demo(
    store: Store, *, customers: int, months: int, seed: int, step: Step | None = None
) -> dict[str, ImportReport]:
    world = generate_world(customers=customers, months=months, seed=seed)
    options = ImportOptions(source="demo", chunk_rows=2_000_000)
    reports: dict[str, ImportReport] = {}
    for entity in LOAD_ORDER:
        table = getattr(world, entity)

        def progress(done: int, total: int, entity: str = entity) -> None:
            if step:
                step(entity, done, total)

        reports[entity] = import_table(store, entity, table, options=options, progress=progress)
    seed_survey_program(store)
    with store.unit_of_work() as uow:
        uow.execute(
            "INSERT OR REPLACE INTO workspace_meta (key, value) VALUES ('kind', 'demo'), ('seed', ?)",
            [str(seed)],
        )
    return reports


def workspace_kind(store: Store) -> str | None:
    with store.session() as s:
        value = s.fetch_value("SELECT value FROM workspace_meta WHERE key = 'kind'")
    return str(value) if value is not None else None
