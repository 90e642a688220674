"""The second half of the journey: usage, support, retention and advocacy, from a few days after
sign-up (or the window start, for the installed base) until the customer leaves or the window
ends."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import vocab
from cxlens.demo.case_tables import case_ids
from cxlens.demo.cases import CaseBook
from cxlens.demo.columns import json_object, labels, money, nulls, quoted
from cxlens.demo.columns import text as as_text
from cxlens.demo.commerce import Calls, call_ended, call_ids
from cxlens.demo.journeys import (
    PRODUCT_IDS,
    Batch,
    Life,
    Properties,
    channels,
    choice,
    monthly,
    product_properties,
    spread,
)
from cxlens.demo.text import pick
from cxlens.demo.timeline import DAY, HOUR, I64, NEVER, lognormal_us

RENEWAL_EVERY = 30 * DAY
EMAIL_OPEN_RATE = 0.35
EMAIL_CLICK_RATE = 0.25
REVIEW_RATINGS = (0.08, 0.07, 0.10, 0.30, 0.45)  # 1..5 stars


def _review(rng: np.random.Generator, n: int) -> pa.Array:
    rating = 1 + np.searchsorted(np.cumsum(REVIEW_RATINGS), rng.random(n) * sum(REVIEW_RATINGS))
    stars = as_text(rating.astype(np.int64))
    return json_object([("rating", stars), ("product_id", quoted(pick(rng, PRODUCT_IDS, n)))])


@dataclass(frozen=True)
class Steady:
    """Interactions at a steady rate per 30 days (times the customer's engagement), from
    ``start_after`` past sign-up -- or past set-up (first device in hand) when ``after_setup`` --
    until the customer leaves."""

    name: str
    stage: str
    per_month: float
    start_after: int
    mix: dict[str, float]
    properties: Properties
    after_setup: bool = False


def _invitees(rng: np.random.Generator, n: int) -> pa.Array:
    return json_object([("invitees", as_text(rng.integers(1, 4, n)))])


_BOTH = {"app": 0.5, "web": 0.5}
STEADY = (
    Steady("login", "usage", 1.1, DAY, {"app": 0.7, "web": 0.3}, lambda rng, n: nulls(n), True),
    Steady("feature_used", "usage", 1.8, DAY, {"app": 0.85, "web": 0.15}, choice("feature", vocab.FEATURES), True),
    Steady("page_view", "usage", 0.6, DAY, {"web": 1.0}, choice("page", vocab.ACCOUNT_PAGES), True),
    Steady("product_viewed", "usage", 0.4, DAY, _BOTH, product_properties, True),
    Steady("help_article_viewed", "support", 0.3, 0, {"web": 1.0}, choice("article", vocab.HELP_ARTICLES)),
    Steady("push_notification_opened", "retention", 0.4, 7 * DAY, {"app": 1.0}, choice("campaign", vocab.CAMPAIGNS)),
    Steady("review_posted", "advocacy", 0.05, 30 * DAY, {"web": 0.7, "social": 0.3}, _review, True),
    Steady("referral_sent", "advocacy", 0.04, 30 * DAY, {"email": 0.5, "app": 0.3, "social": 0.2}, _invitees, True),
    Steady("social_mention", "advocacy", 0.03, 30 * DAY, {"social": 1.0}, choice("network", vocab.NETWORKS), True),
)  # fmt: skip


def _rated(
    rng: np.random.Generator, life: Life, *, per_month: float, start_after: int, after_setup: bool = False
) -> tuple[I64, I64]:
    anchor = life.set_up if after_setup else life.pop.signed_up
    lo = np.maximum(anchor + start_after, life.window.start)
    counts = monthly(rng, per_month * life.pop.engagement, lo=lo, hi=life.active_end)
    return spread(rng, life, "consumer", counts=counts, lo=lo, hi=life.active_end)


def steady(rng: np.random.Generator, life: Life) -> list[Batch]:
    batches = []
    for spec in STEADY:
        cust, at = _rated(
            rng, life, per_month=spec.per_month, start_after=spec.start_after, after_setup=spec.after_setup
        )
        channel = channels(rng, len(cust), spec.mix)
        batches.append(Batch(spec.name, spec.stage, cust, at, channel, spec.properties(rng, len(cust))))
    return batches


def cases_opened(book: CaseBook) -> Batch:
    """Cases raised in writing (phone cases show up as calls instead)."""
    written = np.flatnonzero(book.channel != vocab.channel_index("phone"))
    case = quoted(case_ids(book.size).take(pa.array(written)))
    category = quoted(labels(vocab.CASE_CATEGORIES, book.category[written]))
    properties = json_object([("case_id", case), ("category", category)])
    return Batch(
        "case_opened", "support", book.cust[written], book.created[written], book.channel[written], properties
    )


def phone_calls(calls: Calls, book: CaseBook) -> list[Batch]:
    """Each call twice: the queue wait measured when an agent picks up, and the call record when
    it ends (with the case it opened, if any). Both carry ``wait_seconds``."""
    phone = np.full(len(calls.cust), vocab.channel_index("phone"))
    fields = [("call_id", quoted(call_ids(len(calls.cust)))), ("wait_seconds", as_text(calls.wait_s))]
    measured = Batch("wait_time_measured", "support", calls.cust, calls.answered, phone, json_object(fields))
    fields.append(("duration_seconds", as_text(calls.duration_s)))
    about = quoted(case_ids(max(book.size, 1)).take(pa.array(calls.case, mask=calls.case < 0)))
    record = pc.if_else(
        pa.array(calls.case >= 0), json_object([*fields, ("case_id", about)]), json_object(fields)
    )
    return [measured, Batch("support_call", "support", calls.cust, call_ended(calls), phone, record)]


def emails(rng: np.random.Generator, life: Life) -> list[Batch]:
    """Campaign emails; about a third are opened within hours, a quarter of those clicked."""
    cust, at = _rated(rng, life, per_month=1.4, start_after=7 * DAY)
    campaigns = pick(rng, vocab.CAMPAIGNS, len(cust))
    opened = np.flatnonzero(rng.random(len(cust)) < EMAIL_OPEN_RATE)
    clicked = opened[rng.random(len(opened)) < EMAIL_CLICK_RATE]
    steps = (
        ("email_sent", np.arange(len(cust)), at),
        ("email_opened", opened, at[opened] + lognormal_us(rng, 3 * 3600.0, sigma=1.0, n=len(opened))),
        (
            "email_clicked",
            clicked,
            at[clicked] + 4 * HOUR + lognormal_us(rng, 300.0, sigma=1.0, n=len(clicked)),
        ),
    )
    email = vocab.channel_index("email")
    return [
        Batch(name, "retention", cust[rows], times, np.full(len(rows), email),
              json_object([("campaign", quoted(campaigns.take(pa.array(rows))))]))
        for name, rows, times in steps
    ]  # fmt: skip


def renewals(life: Life) -> tuple[I64, I64]:
    """Monthly renewals of paid plans: (customer, time), every 30 days after sign-up."""
    paid = np.asarray(vocab.PLAN_MONTHLY_CENTS)[life.pop.plan] > 0
    months = np.where(paid, (life.active_end - life.pop.signed_up - 1) // RENEWAL_EVERY, 0)
    cust = np.repeat(np.arange(life.pop.size, dtype=np.int64), months)
    starts = np.cumsum(months) - months
    k = 1 + np.arange(len(cust)) - np.repeat(starts, months)
    return cust, life.pop.signed_up[cust] + k * RENEWAL_EVERY + 2 * HOUR


def renewed(life: Life) -> Batch:
    cust, at = renewals(life)
    plan = life.pop.plan[cust]
    price = np.asarray(vocab.PLAN_MONTHLY_CENTS, dtype=np.int64)[plan]
    currency = labels(vocab.CURRENCIES, life.pop.country[cust])
    properties = json_object(
        [
            ("plan", quoted(labels(vocab.PLANS, plan))),
            ("amount", money(price)),
            ("currency", quoted(currency)),
        ]
    )
    billing = np.full(len(cust), vocab.channel_index("other"))
    return Batch("subscription_renewed", "retention", cust, at, billing, properties)


def cancelled(rng: np.random.Generator, life: Life) -> Batch:
    cust = np.flatnonzero(life.churned_at != NEVER).astype(np.int64)
    reason = json_object([("reason", quoted(labels(vocab.CHURN_REASONS, life.churn_reason[cust])))])
    channel = channels(rng, len(cust), {"web": 0.6, "phone": 0.3, "app": 0.1})
    return Batch(
        "subscription_cancelled", "retention", cust, life.churned_at[cust], channel, reason, at_churn=True
    )
