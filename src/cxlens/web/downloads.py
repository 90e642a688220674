"""File downloads: a CSV answer written by the one safe writer, under a filename any browser takes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

from cxlens.core.csv_export import csv_text

_NOT_PLAIN = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the exact name in RFC 6266 ``filename*``: a survey
    name is the user's own text (quotes, spaces, accents), and a raw one could break the header."""
    fallback = _NOT_PLAIN.sub("_", filename).strip("_") or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_download(filename: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    return Response(
        csv_text(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": content_disposition(filename)},
    )
