"""The rows each metric reads, as portable SQL over the workspace (customer attributes joined
through the canonical profile, so merged customers count once under their current segment)."""

from __future__ import annotations

from typing import Any

import narwhals as nw

from cxlens.storage.store import Session

FRAMES = {
    "responses": (
        "SELECT r.metric, r.score, r.channel, r.touchpoint, r.survey, r.source, r.answered_at, c.segment "
        "FROM responses r JOIN customers k ON k.customer_key = r.customer_key "
        "JOIN customers c ON c.customer_key = k.canonical_key"
    ),
}


def base_frame(s: Session, source: str) -> nw.LazyFrame[Any]:
    return s.lazy(FRAMES[source])
