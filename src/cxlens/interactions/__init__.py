"""Interactions: the touchpoint stream, and the unified customer timeline.

The names below are the slice's public API: the ways in (web/, cli/) import only these
(import-linter contract "Ways in use slices through their facades")."""

from __future__ import annotations

from cxlens.interactions.queries import get_timeline
from cxlens.interactions.records import TimelineItem

__all__ = ["TimelineItem", "get_timeline"]
