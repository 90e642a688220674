"""Shared fixtures: a fresh workspace per test, built from an empty database by the migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.storage.duckdb_store import DuckDBStore

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ws.duckdb"


@pytest.fixture
def store(db_path: Path) -> Iterator[DuckDBStore]:
    store = open_store(Settings(db=db_path, memory_limit="1GB"))
    yield store
    store.close()


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, skipping the test when the data is not beside the checkout."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path
