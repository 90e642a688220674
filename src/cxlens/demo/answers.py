"""Survey answers of every kind, and the ``responses`` table they become."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import vocab
from cxlens.demo.case_tables import case_ids
from cxlens.demo.columns import BoolArray, constant, labels, padded_ids, timestamps
from cxlens.demo.timeline import I64


@dataclass(frozen=True)
class Answers:
    """The answers to one survey: one row each, with the survey's fixed labels."""

    metric: str
    survey: str
    touchpoint: str
    cust: I64
    at: I64
    score: I64
    channel: I64
    case: I64  # index into the cases, -1 when the survey is not about a case
    comment: pa.Array  # null when the customer wrote nothing
    properties: pa.Array  # JSON text or null

    def keep(self, mask: BoolArray) -> Answers:
        take = pa.array(np.flatnonzero(mask))
        return Answers(
            metric=self.metric,
            survey=self.survey,
            touchpoint=self.touchpoint,
            cust=self.cust[mask],
            at=self.at[mask],
            score=self.score[mask],
            channel=self.channel[mask],
            case=self.case[mask],
            comment=self.comment.take(take),
            properties=self.properties.take(take),
        )


def with_comments(rng: np.random.Generator, comment: pa.Array, share: float) -> pa.Array:
    """Keep a comment on about ``share`` of the rows; the rest left the box empty."""
    blank = rng.random(len(comment)) >= share
    return pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), comment)


def responses_table(surveys: list[Answers], *, user_ids: pa.Array, n_cases: int) -> pa.Table:
    cust = np.concatenate([s.cust for s in surveys])
    at = np.concatenate([s.at for s in surveys])
    order = np.lexsort((cust, at))
    take = pa.array(order)

    def fixed(name: str) -> pa.Array:
        return pa.concat_arrays([constant(getattr(s, name), len(s.cust)) for s in surveys]).take(take)

    def joined(name: str) -> pa.Array:
        return pa.concat_arrays([getattr(s, name) for s in surveys]).take(take)

    case = np.concatenate([s.case for s in surveys])[order]
    return pa.table(
        {
            "user_id": user_ids.take(pa.array(cust[order])),
            "metric": fixed("metric"),
            "score": pa.array(np.concatenate([s.score for s in surveys])[order], pa.int64()),
            "comment": joined("comment"),
            "touchpoint": fixed("touchpoint"),
            "channel": labels(vocab.CHANNELS, np.concatenate([s.channel for s in surveys])[order]),
            "survey": fixed("survey"),
            "answered_at": timestamps(at[order]),
            "case_external_id": case_ids(max(n_cases, 1)).take(pa.array(case, pa.int64(), mask=case < 0)),
            "properties": joined("properties"),
            "source": constant("demo", len(order)),
            "idempotency_key": padded_ids("r", np.arange(len(order), dtype=np.int64), 8),
        }
    )
