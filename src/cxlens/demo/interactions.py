"""The ``interactions`` table: every stage's batches, cut off at churn, with the anonymous web
visits of a few hundred customers, sorted by time."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import engagement, journeys, vocab
from cxlens.demo.cases import CaseBook
from cxlens.demo.columns import constant, labels, padded_ids, timestamps
from cxlens.demo.commerce import Calls, Orders
from cxlens.demo.journeys import Batch, Life
from cxlens.demo.timeline import I64

WEB = vocab.channel_index("web")
_HEX = tuple("0123456789abcdef")


def interaction_batches(
    rng: np.random.Generator, life: Life, *, orders: Orders, book: CaseBook, calls: Calls
) -> list[Batch]:
    return [
        *journeys.early(rng, life),
        *journeys.purchase(rng, life, orders),
        *journeys.fulfilment(rng, orders),
        *journeys.onboarding(rng, life),
        *engagement.steady(rng, life),
        engagement.cases_opened(book),
        *engagement.phone_calls(calls, book),
        *engagement.emails(rng, life),
        engagement.renewed(life),
        engagement.cancelled(rng, life),
    ]


def anonymous_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """Cookie-style ids: ``anon-`` and 16 random hex digits."""
    digits = rng.integers(0, 16, (16, n))
    return pc.binary_join_element_wise("anon-", *(labels(_HEX, row) for row in digits), "")


def _kept_in_order(batches: list[Batch], life: Life) -> I64:
    """Positions of the rows inside the window and before the customer left (the cancellation,
    at the churn moment itself, included), in time order."""
    cust = np.concatenate([b.cust for b in batches])
    at = np.concatenate([b.at for b in batches])
    at_churn = np.concatenate([np.full(len(b.cust), b.at_churn) for b in batches])
    kept = np.flatnonzero(((at < life.active_end[cust]) | at_churn) & (at >= life.window.start))
    order: I64 = kept[np.lexsort((cust[kept], at[kept]))]
    return order


def interactions_table(
    rng: np.random.Generator, batches: list[Batch], life: Life, *, user_ids: pa.Array
) -> pa.Table:
    """Customers flagged anonymous browsed the website before signing up: those rows carry only an
    ``anonymous_id``; their web rows from sign-up on carry both ids, which links the two."""
    order = _kept_in_order(batches, life)
    take, pop = pa.array(order), life.pop
    cust = np.concatenate([b.cust for b in batches])[order]
    at = np.concatenate([b.at for b in batches])[order]
    before_signup = pop.anonymous[cust] & (at <= pop.signed_up[cust])
    channel = np.where(before_signup, WEB, np.concatenate([b.channel for b in batches])[order])
    anonymous = pop.anonymous[cust] & (channel == WEB)

    def constants(name: str) -> pa.Array:
        return pa.concat_arrays([constant(getattr(b, name), len(b.cust)) for b in batches]).take(take)

    return pa.table(
        {
            "user_id": user_ids.take(pa.array(cust, mask=pop.anonymous[cust] & (at < pop.signed_up[cust]))),
            "anonymous_id": anonymous_ids(rng, pop.size).take(pa.array(cust, mask=~anonymous)),
            "occurred_at": timestamps(at),
            "channel": labels(vocab.CHANNELS, channel),
            "name": constants("name"),
            "stage": constants("stage"),
            "properties": pa.concat_arrays([b.properties for b in batches]).take(take),
            "source": constant("demo", len(order)),
            "idempotency_key": padded_ids("i", np.arange(len(order), dtype=np.int64), 8),
        }
    )
