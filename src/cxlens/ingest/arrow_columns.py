"""Column helpers shared by the source adapters (pyarrow compute, no row loops)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def number_or_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Numbers as float64 when every value parses; otherwise the trimmed text as written, so the
    import pipeline rejects the bad rows with a reason instead of the adapter guessing."""
    text = pc.utf8_trim_whitespace(column)
    text = pc.if_else(pc.equal(text, ""), None, text)
    try:
        return pc.cast(text, pa.float64())
    except pa.ArrowInvalid:
        return text
