"""The first half of every customer's journey: awareness, consideration, purchase, fulfilment and
onboarding. Each stage's interactions fall in a span of the customer's own timeline (before
sign-up, around it, after it), which is what makes the journey progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cxlens.demo import vocab
from cxlens.demo.columns import draw, json_object, labels, money, nulls, owners, quoted, ranks, tenths
from cxlens.demo.columns import text as as_text
from cxlens.demo.commerce import Orders, order_ids
from cxlens.demo.people import Population
from cxlens.demo.text import pick
from cxlens.demo.timeline import DAY, F64, I64, NEVER, Rhythm, Window, lognormal_us, sample_times

PRODUCT_IDS = tuple(f"SKU-{i + 1:02d}" for i in range(len(vocab.PRODUCTS)))


@dataclass(frozen=True)
class Life:
    """What the interactions need to know about each customer's lifetime."""

    window: Window
    pop: Population
    active_end: I64  # churn, or the end of the window
    churned_at: I64
    churn_reason: I64
    set_up: I64  # first device in hand (see commerce.set_up_at); onboarding and usage follow it


@dataclass(frozen=True)
class Batch:
    """Interactions of one name and stage. ``at_churn`` marks the cancellation, which happens at
    the churn moment itself and so survives the cut-off at churn."""

    name: str
    stage: str
    cust: I64
    at: I64
    channel: I64
    properties: pa.Array
    at_churn: bool = False


def spread(
    rng: np.random.Generator, life: Life, rhythm: Rhythm, *, counts: I64, lo: I64, hi: I64
) -> tuple[I64, I64]:
    """``counts[i]`` interactions of customer ``i`` in ``[lo[i], hi[i])``."""
    cust = owners(counts)
    return cust, sample_times(rng, life.window, rhythm, lo=lo[cust], hi=hi[cust])


def monthly(rng: np.random.Generator, per_month: F64 | float, *, lo: I64, hi: I64) -> I64:
    """Poisson counts for a rate per 30 days over each customer's span."""
    counts: I64 = rng.poisson(np.asarray(per_month) / 30 * np.maximum(hi - lo, 0) / DAY).astype(np.int64)
    return counts


def channels(rng: np.random.Generator, n: int, mix: dict[str, float]) -> I64:
    return draw(rng, n, vocab.channel_weights(mix))


def one_of(rng: np.random.Generator, key: str, options: tuple[str, ...], *, n: int) -> pa.Array:
    """``{"key": "<one of options>"}`` per row."""
    return json_object([(key, quoted(pick(rng, options, n)))])


Properties = Callable[[np.random.Generator, int], pa.Array]


def choice(key: str, options: tuple[str, ...]) -> Properties:
    """Properties ``{"key": "<one of options>"}``."""
    return lambda rng, n: one_of(rng, key, options, n=n)


def product_properties(rng: np.random.Generator, n: int) -> pa.Array:
    product = draw(rng, n, vocab.PRODUCT_SHARE)
    category = labels([p[1] for p in vocab.PRODUCTS], product)
    return json_object([("product_id", quoted(labels(PRODUCT_IDS, product))), ("category", quoted(category))])


@dataclass(frozen=True)
class Early:
    """Interactions before and around sign-up: ``at_least`` plus Poisson(``extra``) per customer,
    in the part ``span`` = (from, to) of the time between first sight and sign-up (1.0 = sign-up),
    plus ``grace`` after it. ``first_at_sight`` puts the first one at the moment of first sight."""

    name: str
    stage: str
    at_least: int
    extra: float
    span: tuple[float, float]
    grace: int
    rhythm: Rhythm
    mix: dict[str, float]
    properties: Properties
    first_at_sight: bool = False


_SOCIAL_AD = {"social": 0.55, "web": 0.3, "email": 0.15}
_BROWSING = {"web": 0.6, "app": 0.25, "store": 0.15}
EARLY = (
    Early("ad_click", "awareness", 1, 1.2, (0.0, 0.6), 0, "consumer", _SOCIAL_AD, choice("campaign", vocab.CAMPAIGNS), True),
    Early("page_view", "awareness", 0, 1.0, (0.0, 0.6), 0, "consumer", {"web": 1.0}, choice("page", vocab.AWARENESS_PAGES)),
    Early("product_viewed", "consideration", 2, 3.0, (0.3, 1.0), 2 * DAY, "consumer", _BROWSING, product_properties),
    Early("page_view", "consideration", 0, 2.0, (0.3, 1.0), 2 * DAY, "consumer", {"web": 1.0}, choice("page", vocab.CONSIDERATION_PAGES)),
    Early("chat_started", "consideration", 0, 0.15, (0.3, 1.0), 2 * DAY, "business", {"chat": 1.0}, choice("topic", vocab.PRE_SALES_TOPICS)),
)  # fmt: skip


def early(rng: np.random.Generator, life: Life) -> list[Batch]:
    """Awareness and consideration: ads and landing pages first, then products, pricing pages and
    pre-sales chats, so the journey moves forward in each customer's own time."""
    pop = life.pop
    courtship = pop.signed_up - pop.first_seen
    batches = []
    for spec in EARLY:
        lo = pop.first_seen + (courtship * spec.span[0]).astype(np.int64)
        hi = pop.first_seen + (courtship * spec.span[1]).astype(np.int64) + spec.grace + 1
        counts = spec.at_least + rng.poisson(spec.extra, pop.size)
        cust, at = spread(rng, life, spec.rhythm, counts=counts, lo=lo, hi=hi)
        if spec.first_at_sight:
            at = np.where(ranks(counts) == 0, pop.first_seen[cust], at)
        channel = channels(rng, len(cust), spec.mix)
        batches.append(Batch(spec.name, spec.stage, cust, at, channel, spec.properties(rng, len(cust))))
    return batches


def purchase(rng: np.random.Generator, life: Life, orders: Orders) -> list[Batch]:
    pop = life.pop
    everyone = np.arange(pop.size, dtype=np.int64)
    signup = Batch(
        "account_created",
        "purchase",
        everyone,
        pop.signed_up,
        channels(rng, pop.size, {"web": 0.7, "app": 0.2, "store": 0.1}),
        json_object([("plan", quoted(labels(vocab.PLANS, pop.plan)))]),
    )
    currency = labels(vocab.CURRENCIES, pop.country[orders.cust])
    properties = json_object(
        [
            ("order_id", quoted(order_ids(len(orders.cust)))),
            ("amount", money(orders.cents)),
            ("currency", quoted(currency)),
            ("items", as_text(orders.items)),
            ("product_id", quoted(labels(PRODUCT_IDS, orders.product))),
        ]
    )
    placed = Batch("order_placed", "purchase", orders.cust, orders.placed, orders.channel, properties)
    return [signup, placed]


def fulfilment(rng: np.random.Generator, orders: Orders) -> list[Batch]:
    shipped = np.flatnonzero(orders.shipped != NEVER)
    ids = quoted(order_ids(len(orders.cust)).take(pa.array(shipped)))
    n = len(shipped)
    days = (orders.delivered[shipped] - orders.placed[shipped]) * 10 // DAY
    return [
        Batch(
            "order_shipped",
            "fulfilment",
            orders.cust[shipped],
            orders.shipped[shipped],
            np.full(n, vocab.channel_index("email")),
            json_object([("order_id", ids), ("carrier", quoted(pick(rng, vocab.CARRIERS, n)))]),
        ),
        Batch(
            "order_delivered",
            "fulfilment",
            orders.cust[shipped],
            orders.delivered[shipped],
            np.full(n, vocab.channel_index("other")),
            json_object([("order_id", ids), ("days_to_deliver", tenths(days))]),
        ),
    ]


def onboarding(rng: np.random.Generator, life: Life) -> list[Batch]:
    """Installing the app, pairing the device and the tutorial, once the first device is in hand."""
    devices = tuple(p[0] for p in vocab.PRODUCTS)
    steps = (
        ("app_installed", 0.8, 6 * 3600.0, choice("platform", ("ios", "android"))),
        ("device_paired", 0.75, 86_400.0, choice("device", devices)),
        ("tutorial_completed", 0.55, 2 * 86_400.0, lambda rng, n: nulls(n)),
    )
    batches = []
    for name, share, median_s, properties in steps:
        cust = np.flatnonzero(rng.random(life.pop.size) < share).astype(np.int64)
        at = life.set_up[cust] + lognormal_us(rng, median_s, sigma=0.8, n=len(cust))
        app = np.full(len(cust), vocab.channel_index("app"))
        batches.append(Batch(name, "onboarding", cust, at, app, properties(rng, len(cust))))
    return batches
