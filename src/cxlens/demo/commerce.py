"""Orders and phone calls: the two things both interactions and surveys are built from.

A phone call's wait in the queue is stored once here and reused by the call's interactions and
by the CES answer that follows it, which is how planted effect 2 stays traceable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cxlens.demo import vocab
from cxlens.demo.cases import CaseBook
from cxlens.demo.columns import draw, first_per_group, owners, padded_ids
from cxlens.demo.people import Population
from cxlens.demo.timeline import DAY, I64, NEVER, Window, lognormal_us, sample_times, weekday_of

FIRST_ORDER_SHARE = 0.85
REPEAT_ORDERS_PER_MONTH = np.array([0.25, 0.5, 1.0])  # by segment
EXTRA_ITEMS = np.array([0.6, 2.0, 6.0])  # mean items beyond the first, by segment
ORDER_CHANNELS = vocab.channel_weights({"web": 0.55, "app": 0.3, "store": 0.1, "phone": 0.05})
CALLS_PER_MONTH = 0.08  # phone calls that never become a case (answered on the spot)
WAIT_MEDIAN_S = 150.0
MONDAY_WAIT = 1.35  # Monday queues are longer


@dataclass(frozen=True)
class Orders:
    """Sorted by placement time; the order number is the position."""

    cust: I64
    placed: I64
    channel: I64
    product: I64
    items: I64
    cents: I64
    shipped: I64  # NEVER for store purchases, which leave with the customer
    delivered: I64


def draw_orders(rng: np.random.Generator, window: Window, pop: Population, *, active_end: I64) -> Orders:
    n = pop.size
    first = np.flatnonzero(rng.random(n) < FIRST_ORDER_SHARE)
    first_at = pop.signed_up[first] + lognormal_us(rng, 3 * 3600.0, sigma=1.0, n=len(first))
    lo = pop.signed_up + 7 * DAY
    rate = REPEAT_ORDERS_PER_MONTH[pop.segment] * pop.engagement / 30
    repeat = owners(rng.poisson(rate * np.maximum(active_end - lo, 0) / DAY))
    repeat_at = sample_times(rng, window, "consumer", lo=lo[repeat], hi=active_end[repeat])
    cust = np.concatenate([first, repeat]).astype(np.int64)
    placed = np.concatenate([first_at, repeat_at])
    keep = placed < active_end[cust]
    order = np.flatnonzero(keep)[np.lexsort((cust[keep], placed[keep]))]
    cust, placed, m = cust[order], placed[order], len(order)
    channel = draw(rng, m, ORDER_CHANNELS)
    product = draw(rng, m, vocab.PRODUCT_SHARE)
    items = 1 + rng.poisson(EXTRA_ITEMS[pop.segment[cust]])
    price = np.array([p[2] for p in vocab.PRODUCTS], dtype=np.int64)
    in_store = channel == vocab.channel_index("store")
    handling = lognormal_us(rng, 20 * 3600.0, sigma=0.5, n=m)
    transit = lognormal_us(rng, 2.5 * 86_400, sigma=0.5, n=m)
    return Orders(
        cust=cust,
        placed=placed,
        channel=channel,
        product=product,
        items=items,
        cents=price[product] * items,
        shipped=np.where(in_store, NEVER, placed + handling),
        delivered=np.where(in_store, NEVER, placed + handling + transit),
    )


def set_up_at(orders: Orders, pop: Population) -> I64:
    """When each customer has their first device: the first delivery or store purchase; four
    days after sign-up for those who bought nothing (a device from a retailer, say)."""
    received = np.where(orders.delivered == NEVER, orders.placed, orders.delivered)
    first = first_per_group(orders.cust, received, pop.size)
    return np.where(first == NEVER, pop.signed_up + 4 * DAY, first)


@dataclass(frozen=True)
class Calls:
    """Phone calls sorted by when an agent answered; the call number is the position."""

    cust: I64
    answered: I64
    wait_s: I64
    duration_s: I64
    case: I64  # index into the cases; -1 for calls settled on the phone


def draw_calls(
    rng: np.random.Generator, window: Window, pop: Population, *, active_end: I64, book: CaseBook
) -> Calls:
    phone_case = np.flatnonzero(book.channel == vocab.channel_index("phone"))
    lo = np.maximum(pop.signed_up + DAY, window.start)
    quick = owners(rng.poisson(CALLS_PER_MONTH / 30 * np.maximum(active_end - lo, 0) / DAY))
    quick_at = sample_times(rng, window, "business", lo=lo[quick], hi=active_end[quick])
    cust = np.concatenate([book.cust[phone_case], quick]).astype(np.int64)
    answered = np.concatenate([book.created[phone_case], quick_at])
    case = np.concatenate([phone_case, np.full(len(quick), -1)]).astype(np.int64)
    order = np.lexsort((cust, answered))
    cust, answered, case, m = cust[order], answered[order], case[order], len(order)
    monday = np.where(weekday_of(answered) == 0, MONDAY_WAIT, 1.0)
    wait_s = np.maximum(5, np.rint(WAIT_MEDIAN_S * monday * rng.lognormal(0.0, 0.9, m))).astype(np.int64)
    duration_s = np.maximum(30, np.rint(360.0 * rng.lognormal(0.0, 0.6, m))).astype(np.int64)
    return Calls(cust=cust, answered=answered, wait_s=wait_s, duration_s=duration_s, case=case)


def call_ended(calls: Calls) -> I64:
    return calls.answered + calls.duration_s * 1_000_000


def order_ids(n: int) -> pa.Array:
    return padded_ids("O", np.arange(n, dtype=np.int64), 7)


def call_ids(n: int) -> pa.Array:
    return padded_ids("CALL", np.arange(n, dtype=np.int64), 7)
