"""The automation slice.

The names below are the slice's public API: the ways in (web/, cli/) import only these
(import-linter contract "Ways in use slices through their facades")."""

from __future__ import annotations

from cxlens.automation.loop import (
    DEFAULT_MAX_SCORE,
    add_rule,
    disable_rule,
    list_rules,
    loop_summary,
    recent_followups,
    run_loop,
)
from cxlens.automation.loop_queries import period_bound
from cxlens.automation.triggers import KINDS, add_trigger, disable_trigger, list_triggers

__all__ = [
    "DEFAULT_MAX_SCORE",
    "KINDS",
    "add_rule",
    "add_trigger",
    "disable_rule",
    "disable_trigger",
    "list_rules",
    "list_triggers",
    "loop_summary",
    "period_bound",
    "recent_followups",
    "run_loop",
]
