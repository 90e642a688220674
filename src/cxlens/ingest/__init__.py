"""Getting data in: files (CSV, JSON Lines, Parquet), source adapters (Olist, XES, TWCS, Telco)
and, later, the live tracking API. Every path ends in the same set-based pipeline.

The names below are the slice's public API: the ways in (web/, cli/) import only these
(import-linter contract "Ways in use slices through their facades")."""

from __future__ import annotations

from cxlens.ingest.adapters import import_source
from cxlens.ingest.base import ENTITIES, ImportReport
from cxlens.ingest.live import LiveIngest
from cxlens.ingest.options import ImportOptions, parse_mapping, read_mapping_file
from cxlens.ingest.segment_wire import CALL_TYPES, WireLimits, decode_body, normalize_events, write_key_from
from cxlens.ingest.service import (
    Progress,
    entity_spec,
    guess_mapping,
    identity_choices,
    import_file,
    preview_file,
)

__all__ = [
    "CALL_TYPES",
    "ENTITIES",
    "ImportOptions",
    "ImportReport",
    "LiveIngest",
    "Progress",
    "WireLimits",
    "decode_body",
    "entity_spec",
    "guess_mapping",
    "identity_choices",
    "import_file",
    "import_source",
    "normalize_events",
    "parse_mapping",
    "preview_file",
    "read_mapping_file",
    "write_key_from",
]
