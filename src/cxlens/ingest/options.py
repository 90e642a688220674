"""How to read one input: column mapping, time zone, strictness."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cxlens.errors import MappingError

Format = Literal["csv", "jsonl", "parquet"]


@dataclass(frozen=True)
class ImportOptions:
    """``mapping`` maps a source column to a field (``{"Order Date": "occurred_at"}``);
    ``constants`` sets a field to a fixed value for every row (``{"channel": "web"}``);
    ``tz`` is the IANA zone of naive timestamps (without it they are rejected);
    ``source`` is the default source system name; ``strict`` writes nothing if any row is bad;
    ``trusted`` is False for rows from a browser source: they fill empty profile fields and add
    attributes, but never overwrite what an import or a server source set (docs/api.md)."""

    mapping: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    tz: str | None = None
    source: str = "import"
    strict: bool = False
    fmt: Format | None = None
    phone_region: str | None = None
    chunk_rows: int = 1_000_000
    max_listed_rejects: int = 1000
    trusted: bool = True


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["Order Date=occurred_at", "mail=email"]`` -> ``{"Order Date": "occurred_at", ...}``."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.rpartition("=")
        if not sep or not source.strip() or not target.strip():
            raise MappingError(f"--map expects source_column=field, got {pair!r}")
        mapping[source.strip()] = target.strip()
    return mapping


def read_mapping_file(path: Path) -> dict[str, str]:
    """A mapping file holds ``source_column=field`` lines (``#`` comments) or a JSON object."""
    import json

    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise MappingError(f"Cannot read mapping file {path}: {error.strerror}") from error
    if text.lstrip().startswith("{"):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as error:
            raise MappingError(f"Mapping file {path} is not valid JSON: {error.msg}") from error
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise MappingError(f"Mapping file {path} must be an object of column -> field names")
        return {str(k): v for k, v in loaded.items()}
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return parse_mapping(lines)


def detect_format(path: Path, explicit: Format | None) -> Format:
    from cxlens.errors import UnknownFormat

    if explicit:
        return explicit
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".gzip")]
    last = suffixes[-1] if suffixes else ""
    known: dict[str, Format] = {
        ".csv": "csv",
        ".tsv": "csv",
        ".txt": "csv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".json": "jsonl",
        ".parquet": "parquet",
        ".pq": "parquet",
    }
    if last not in known:
        raise UnknownFormat(
            f"Cannot tell the format of {path.name}: use a .csv, .jsonl or .parquet file "
            "(optionally .gz), or pass --file-format csv|jsonl|parquet."
        )
    return known[last]
