"""Words people write: survey comments and case messages, from templates.

Comments combine a theme sentence (positive or negative variant, sometimes with a detail such as
"40 minutes" or "Sentry Cam"), an optional second theme, and an opener and closer, so text
analytics later finds themes and sentiment without the demo repeating one string."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import vocab
from cxlens.demo.columns import BoolArray, labels, text
from cxlens.demo.timeline import I64

THEMES = (
    "billing",
    "delivery",
    "app_crash",
    "staff_friendliness",
    "wait_time",
    "product_quality",
    "price",
    "handoffs",
    "ease_of_use",
    "unresolved",
)
# (positive variants, negative variants) per theme; "{}" takes a detail (see _details).
_SENTENCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "billing": (
        (
            "Billing is clear and the {} plan is fairly priced.",
            "The refund came through quickly.",
            "Invoices are simple and always correct.",
        ),
        (
            "I was charged twice for my {} plan.",
            "The invoice was wrong again and nobody could explain the fees.",
            "Billing is a mess, it took three emails to get a refund.",
            "Unexpected charges on my card this month.",
        ),
    ),
    "delivery": (
        (
            "Delivery was fast, it arrived in {} days.",
            "The courier was on time and the packaging was great.",
            "Shipping was quicker than promised.",
        ),
        (
            "My order arrived {} days late.",
            "The parcel got lost and delivery took forever.",
            "Delivery was delayed twice without any notice.",
            "The box arrived damaged.",
        ),
    ),
    "app_crash": (
        ("The app is stable and the {} works perfectly.", "No crashes since I started using the app."),
        (
            "The app keeps crashing when I open the {}.",
            "Since the last update the app crashes constantly.",
            "The app crashed every time I tried to log in.",
            "App freezes and crashes, I can't control my devices.",
        ),
    ),
    "staff_friendliness": (
        (
            "{} from support was incredibly friendly and helpful.",
            "Staff were friendly and patient.",
            "The agent was kind and really listened.",
            "Lovely people in the store, very helpful.",
        ),
        (
            "The agent was rude and didn't listen.",
            "Support staff were unfriendly and dismissive.",
            "{} was impatient with me on the phone.",
        ),
    ),
    "wait_time": (
        (
            "I got through to someone almost immediately.",
            "Only waited {} minutes, very quick.",
            "No waiting at all, great service.",
        ),
        (
            "I waited {} minutes on hold before anyone answered.",
            "Waiting times on the phone are far too long.",
            "Spent ages in the queue just to ask a simple question.",
        ),
    ),
    "product_quality": (
        (
            "The {} is excellent quality.",
            "Great product, works exactly as described.",
            "Build quality of the {} is superb.",
        ),
        (
            "The {} stopped working after a week.",
            "Build quality of the {} is poor.",
            "The device feels cheap and broke quickly.",
        ),
    ),
    "price": (
        ("Good value for money.", "Fair prices compared to other brands.", "The {} was a bargain."),
        ("Too expensive for what you get.", "The price went up again.", "The {} is overpriced."),
    ),
    "handoffs": (
        (
            "One person handled my issue from start to finish.",
            "No need to repeat myself, the team was well organised.",
        ),
        (
            "I was passed from one team to another and had to repeat my problem every time.",
            "Transferred {} times and still no answer.",
            "Nobody owns the problem, every department sends me elsewhere.",
        ),
    ),
    "ease_of_use": (
        ("Setting up the {} was really easy.", "The app is simple and intuitive.", "Everything just works."),
        (
            "Setting up the {} was confusing.",
            "The app is hard to navigate.",
            "Too many steps to do anything simple.",
        ),
    ),
    "unresolved": (
        ("My problem was fixed on the first contact.", "Issue solved quickly and for good."),
        (
            "My issue is still not fixed after {} days.",
            "Nobody has solved my problem yet.",
            "Still waiting for a fix, I keep getting promises.",
        ),
    ),
}


def theme_weights(weights: dict[str, float]) -> tuple[float, ...]:
    """``{"billing": 0.5, ...}`` -> weights over every theme, in ``THEMES`` order."""
    return tuple(weights.get(theme, 0.0) for theme in THEMES)


_OPENERS = ("", "", "", "", "Long-time customer here. ", "Mixed feelings. ", "Quick feedback: ", "Well. ")
_CLOSERS = (
    ("", "", " Thanks!", " Would recommend.", " Keep it up.", " Very happy overall."),
    ("", "", " Please fix this.", " Not happy.", " Really disappointed.", " Considering other options."),
)


def _flatten() -> tuple[list[str], list[str], list[bool], I64, I64]:
    pre: list[str] = []
    post: list[str] = []
    slot: list[bool] = []
    offsets = np.zeros((len(THEMES), 2), dtype=np.int64)
    counts = np.zeros((len(THEMES), 2), dtype=np.int64)
    for t, theme in enumerate(THEMES):
        for polarity, variants in enumerate(_SENTENCES[theme]):  # 0 = positive, 1 = negative
            offsets[t, polarity], counts[t, polarity] = len(pre), len(variants)
            for variant in variants:
                head, _, tail = variant.partition("{}")
                pre.append(head)
                post.append(tail)
                slot.append("{}" in variant)
    return pre, post, slot, offsets, counts


_PRE, _POST, _SLOT, _OFFSETS, _COUNTS = _flatten()
_AGENT_FIRST_NAMES = tuple(agent.split()[0] for agent in vocab.AGENTS)


def _details(rng: np.random.Generator, theme: I64, positive: BoolArray, *, wait_minutes: I64) -> pa.Array:
    """The "{}" detail per row; which detail depends on the theme."""
    n = len(theme)
    plan = labels(vocab.PLANS[1:], rng.integers(0, len(vocab.PLANS) - 1, n))
    product = labels([p[0] for p in vocab.PRODUCTS], rng.integers(0, len(vocab.PRODUCTS), n))
    days = text(np.where(positive, rng.integers(2, 4, n), rng.integers(4, 15, n)))
    by_theme = {
        "billing": plan,
        "delivery": days,
        "app_crash": labels(vocab.FEATURES, rng.integers(0, len(vocab.FEATURES), n)),
        "staff_friendliness": labels(_AGENT_FIRST_NAMES, rng.integers(0, len(_AGENT_FIRST_NAMES), n)),
        "wait_time": text(wait_minutes),
        "handoffs": text(rng.integers(3, 6, n)),
        "unresolved": text(rng.integers(5, 31, n)),
    }
    detail = product
    for name, values in by_theme.items():
        detail = pc.if_else(pa.array(theme == THEMES.index(name)), values, detail)
    return detail


def sentences(
    rng: np.random.Generator, theme: I64, positive: BoolArray, *, wait_minutes: I64 | None = None
) -> pa.Array:
    n = len(theme)
    if wait_minutes is None:
        wait_minutes = np.where(positive, rng.integers(1, 4, n), rng.integers(20, 61, n))
    polarity = np.where(positive, 0, 1)
    index = _OFFSETS[theme, polarity] + (rng.random(n) * _COUNTS[theme, polarity]).astype(np.int64)
    slot = pa.array(np.asarray(_SLOT)[index])
    detail = pc.if_else(slot, _details(rng, theme, positive, wait_minutes=wait_minutes), "")
    return pc.binary_join_element_wise(labels(_PRE, index), detail, labels(_POST, index), "")


def comments(
    rng: np.random.Generator,
    theme: I64,
    positive: BoolArray,
    *,
    second_theme: I64 | None = None,
    wait_minutes: I64 | None = None,
) -> pa.Array:
    """One comment per row; ``second_theme`` (-1 for none) adds a second sentence of the same tone."""
    n = len(theme)
    body = sentences(rng, theme, positive, wait_minutes=wait_minutes)
    if second_theme is not None:
        extra = sentences(rng, np.maximum(second_theme, 0), positive)
        extra = pc.if_else(pa.array(second_theme >= 0), pc.binary_join_element_wise(" ", extra, ""), "")
        body = pc.binary_join_element_wise(body, extra, "")
    opener = labels(_OPENERS, rng.integers(0, len(_OPENERS), n))
    closer = pc.if_else(
        pa.array(positive),
        labels(_CLOSERS[0], rng.integers(0, len(_CLOSERS[0]), n)),
        labels(_CLOSERS[1], rng.integers(0, len(_CLOSERS[1]), n)),
    )
    return pc.binary_join_element_wise(opener, body, closer, "")


def pick(rng: np.random.Generator, options: Sequence[str], n: int) -> pa.Array:
    return labels(options, rng.integers(0, len(options), n))


def pick_by(rng: np.random.Generator, table: Sequence[Sequence[str]], codes: I64) -> pa.Array:
    """For each row, one of ``table[code]``'s options."""
    flat = [option for options in table for option in options]
    sizes = np.array([len(options) for options in table], dtype=np.int64)
    offsets = np.cumsum(sizes) - sizes
    index = offsets[codes] + (rng.random(len(codes)) * sizes[codes]).astype(np.int64)
    return labels(flat, index)
