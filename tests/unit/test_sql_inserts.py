"""Every INSERT in cxlens names its columns: with a bare ``INSERT INTO t SELECT …`` a column added by a
later migration silently shifts every value after it into the wrong column."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The benchmarks write the same tables (bench_surveys broke when customers gained trusted_at).
SCANNED = (ROOT / "src" / "cxlens", ROOT / "benchmarks")
# INSERT [OR REPLACE|IGNORE] INTO <table or {placeholder}> then, after spaces or a string break, "("
INSERT = re.compile(
    r"INSERT\s+(?:OR\s+\w+\s+)?INTO\s+(\{[^}]+\}|[\w.\"]+)\s*(?:\"\s*\"|\"\s*f?\")?\s*(.)", re.S
)


def _inserts_without_columns(text: str) -> list[str]:
    return [m.group(0) for m in INSERT.finditer(text) if m.group(2) != "("]


def test_the_scanner_finds_a_bare_insert() -> None:
    assert _inserts_without_columns('s.execute("INSERT INTO t SELECT 1")') == ["INSERT INTO t S"]
    assert _inserts_without_columns('"INSERT INTO t "\n  "(a) SELECT 1"') == []
    assert _inserts_without_columns('f"INSERT OR IGNORE INTO {T} (a) VALUES (?)"') == []


def test_every_insert_names_its_columns() -> None:
    bare = {
        str(path.relative_to(ROOT)): found
        for folder in SCANNED
        for path in sorted(folder.rglob("*.py"))
        if (found := _inserts_without_columns(path.read_text()))
    }
    assert bare == {}
