"""The synthetic demo company (seeded, with planted effects; docs/demo.md).

The names below are the slice's public API: the ways in (web/, cli/) import only these
(import-linter contract "Ways in use slices through their facades")."""

from __future__ import annotations

from cxlens.demo.build import build_demo, reset_demo_file, workspace_kind

__all__ = ["build_demo", "reset_demo_file", "workspace_kind"]
