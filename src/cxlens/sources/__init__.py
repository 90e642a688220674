"""Sources: the systems that send events to the tracking API, each with its own write key.

The names below are the slice's public API: the ways in (web/, cli/) import only these
(import-linter contract "Ways in use slices through their facades")."""

from __future__ import annotations

from cxlens.sources.model import SourceKind
from cxlens.sources.queries import list_sources
from cxlens.sources.service import create_source, revoke_source

__all__ = ["SourceKind", "create_source", "list_sources", "revoke_source"]
