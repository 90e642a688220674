"""Small builders for test inputs."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any


def write_csv(path: Path, rows: list[dict[str, Any]], *, gz: bool = False) -> Path:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:  # type: ignore[operator]
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]], *, gz: bool = False) -> Path:
    opener = gzip.open if gz else open
    with opener(path, "wt", encoding="utf-8") as handle:  # type: ignore[operator]
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return path


def interaction(user: str = "u1", **overrides: Any) -> dict[str, Any]:
    row = {
        "user_id": user,
        "occurred_at": "2024-03-01T10:00:00Z",
        "channel": "web",
        "name": "page_view",
        "stage": "awareness",
    }
    row.update(overrides)
    return row
