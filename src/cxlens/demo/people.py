"""The demo company's customers: when they first noticed Brightline and signed up, who they are,
and the customers table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import vocab
from cxlens.demo.columns import (
    BoolArray,
    constant,
    draw,
    draw_rows,
    labels,
    padded_ids,
    text,
    timestamps,
)
from cxlens.demo.timeline import DAY, F64, HOUR, I64, Window, lognormal_us, sample_times

EXISTING_SHARE = 0.35  # customers since before the window
ANONYMOUS_SHARE = 0.03  # newcomers who browsed anonymously first: a few hundred at default size


@dataclass(frozen=True)
class Population:
    """One entry per customer, indexed by customer number."""

    first_seen: I64
    signed_up: I64
    segment: I64
    plan: I64
    country: I64
    first_name: I64
    last_name: I64
    engagement: F64  # activity multiplier, log-normal with mean 1
    anonymous: BoolArray

    @property
    def size(self) -> int:
        return len(self.signed_up)


def draw_population(rng: np.random.Generator, window: Window, n: int) -> Population:
    """An installed base (``EXISTING_SHARE``, signed up during the two years before the window)
    and newcomers acquired during the window; only newcomers can have browsed anonymously, since
    earlier visits fall before the window."""
    existing = rng.random(n) < EXISTING_SHARE
    lo = np.where(existing, window.origin, window.start)
    hi = np.where(existing, window.start - 3 * DAY, window.end - 10 * DAY)
    first_seen = sample_times(rng, window, "acquisition", lo=lo, hi=hi)
    signed_up = np.minimum(
        first_seen + HOUR + lognormal_us(rng, 2 * 86_400, sigma=1.0, n=n), window.end - DAY
    )
    segment = draw(rng, n, vocab.SEGMENT_SHARE)
    return Population(
        first_seen=first_seen,
        signed_up=signed_up,
        segment=segment,
        plan=draw_rows(rng, np.array(vocab.PLAN_SHARE_BY_SEGMENT), segment),
        country=draw(rng, n, vocab.COUNTRY_SHARE),
        first_name=rng.integers(0, len(vocab.FIRST_NAMES), n),
        last_name=rng.integers(0, len(vocab.LAST_NAMES), n),
        engagement=rng.lognormal(-0.125, 0.5, n),
        anonymous=~existing & (rng.random(n) < ANONYMOUS_SHARE),
    )


def user_ids(n: int) -> pa.Array:
    return padded_ids("u", np.arange(n, dtype=np.int64), 6)


def emails(rng: np.random.Generator, pop: Population) -> pa.Array:
    """``ava.smith123@example.com``; the customer number keeps every address unique."""
    first = pc.utf8_lower(labels(vocab.FIRST_NAMES, pop.first_name))
    last = pc.replace_substring(pc.utf8_lower(labels(vocab.LAST_NAMES, pop.last_name)), " ", "")
    domain = labels(("example.com", "example.net", "example.org"), rng.integers(0, 3, pop.size))
    number = text(np.arange(pop.size, dtype=np.int64))
    return pc.binary_join_element_wise(first, ".", last, number, "@", domain, "")


def phones(rng: np.random.Generator, pop: Population) -> pa.Array:
    """E.164 numbers valid for the customer's country, unique because the subscriber digits
    encode the customer number."""
    number = np.arange(pop.size, dtype=np.int64)
    area = pc.if_else(
        pa.array(pop.country == vocab.COUNTRIES.index("CA")),
        labels(vocab.CA_AREAS, rng.integers(0, len(vocab.CA_AREAS), pop.size)),
        labels(vocab.US_AREAS, rng.integers(0, len(vocab.US_AREAS), pop.size)),
    )
    exchange = text(200 + (number // 10_000) % 800)
    line = pc.utf8_lpad(text(number % 10_000), width=4, padding="0")
    nanp = pc.binary_join_element_wise(area, exchange, line, "")
    prefix = labels(vocab.PHONE_PREFIXES, pop.country)
    width = np.where(pop.country == vocab.COUNTRIES.index("NL"), 7, 8)
    seven = pc.utf8_lpad(text(number), width=7, padding="0")
    eight = pc.utf8_lpad(text(number), width=8, padding="0")
    mobile = pc.if_else(pa.array(width == 7), seven, eight)
    is_nanp = pa.array(np.isin(pop.country, [vocab.COUNTRIES.index("US"), vocab.COUNTRIES.index("CA")]))
    return pc.binary_join_element_wise(prefix, pc.if_else(is_nanp, nanp, mobile), "")


def customers_table(
    rng: np.random.Generator, pop: Population, *, churned_at: I64, churn_reason: I64, value_cents: I64
) -> pa.Table:
    """The ``customers`` entity; ``churn_reason`` is -1 for active customers."""
    first = labels(vocab.FIRST_NAMES, pop.first_name)
    last = labels(vocab.LAST_NAMES, pop.last_name)
    return pa.table(
        {
            "user_id": user_ids(pop.size),
            "email": emails(rng, pop),
            "phone": phones(rng, pop),
            "name": pc.binary_join_element_wise(first, last, " "),
            "segment": labels(vocab.SEGMENTS, pop.segment),
            "value": pa.array(value_cents / 100.0, pa.float64()),
            "signed_up_at": timestamps(pop.signed_up),
            "churned_at": timestamps(churned_at),
            "churn_reason": labels(vocab.CHURN_REASONS, churn_reason),
            "plan": labels(vocab.PLANS, pop.plan),
            "country": labels(vocab.COUNTRIES, pop.country),
            "source": constant("demo", pop.size),
        }
    )
