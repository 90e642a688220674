"""cxlens: open-source customer-experience management.

import cxlens
with cxlens.open("cxlens.duckdb") as ws:
    ws.metric("nps", by=["channel"], grain="month").to_pandas()
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cxlens.workspace import Workspace

from cxlens.version import __version__

__all__ = ["__version__", "open"]


def open(path: str | Path | None = None, **settings: Any) -> Workspace:
    """Open a workspace (default ``./cxlens.duckdb`` or ``CXLENS_DB``); ``settings`` override
    any ``CXLENS_*`` setting (``memory_limit="4GB"``)."""
    from cxlens.workspace import open_workspace  # imported on use: `import cxlens` stays instant

    return open_workspace(path, **settings)
