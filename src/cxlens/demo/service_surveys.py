"""Transactional surveys: CSAT after a case, CES after support, CSAT after a delivery.

Planted effect 2: CES after a phone call falls by ``CES_PER_WAIT_MINUTE`` points per minute the
caller waited in the queue (the wait is in the answer's properties and in the call's
interactions). Planted effect 3: on chat cases only ``CSAT_TOP2_CHAT`` of CSAT answers are 4 or
5, against ``CSAT_TOP2`` on every other channel, every month.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cxlens.demo import text, vocab
from cxlens.demo.answers import Answers, with_comments
from cxlens.demo.cases import CaseBook, CaseState
from cxlens.demo.columns import draw, draw_rows, json_object, nulls, quoted
from cxlens.demo.columns import text as as_text
from cxlens.demo.commerce import Calls, Orders, call_ended, call_ids, order_ids
from cxlens.demo.timeline import DAY, I64, NEVER, US, lognormal_us

CSAT_RESPONSE_RATE = 0.35
CSAT_TOP2 = 0.80
CSAT_TOP2_CHAT = 0.55
CES_PHONE_RESPONSE_RATE = 0.30
CES_BASE = 6.4
CES_PER_WAIT_MINUTE = 0.22
CES_SD = 0.9
CES_CHAT_RESPONSE_RATE = 0.20
POST_PURCHASE_RESPONSE_RATE = 0.08
LATE_DELIVERY = 5 * DAY
CHAT = vocab.channel_index("chat")
# The comment theme that fits each case category (vocab.CASE_CATEGORIES order).
CATEGORY_THEME = np.array(
    [
        text.THEMES.index(t)
        for t in (
            "billing",
            "delivery",
            "app_crash",
            "unresolved",
            "product_quality",
            "delivery",
            "ease_of_use",
        )
    ]
)
STAFF, WAIT = text.THEMES.index("staff_friendliness"), text.THEMES.index("wait_time")
# CES comment themes: (negative, long wait), (negative, short wait), (positive, short), (positive, long).
CES_THEMES = np.array(
    [
        text.theme_weights({"wait_time": 0.7, "handoffs": 0.1, "unresolved": 0.1, "staff_friendliness": 0.1}),
        text.theme_weights({"handoffs": 0.35, "unresolved": 0.35, "staff_friendliness": 0.3}),
        text.theme_weights({"wait_time": 0.4, "staff_friendliness": 0.3, "unresolved": 0.3}),
        text.theme_weights({"staff_friendliness": 0.5, "unresolved": 0.5}),
    ]
)


def csat_scores(rng: np.random.Generator, top2: np.ndarray) -> I64:
    """1-5 scores where a share ``top2`` (per row) are 4 or 5."""
    n = len(top2)
    high = np.where(rng.random(n) < 0.6, 5, 4)
    low = 1 + draw(rng, n, (0.25, 0.30, 0.45))
    return np.where(rng.random(n) < top2, high, low).astype(np.int64)


def csat_after_case(rng: np.random.Generator, book: CaseBook, state: CaseState, *, leaves: I64) -> Answers:
    """``leaves``: per customer, when they stop answering (churn or the end of the window)."""
    solved = np.flatnonzero(state.solved_at != NEVER)
    asked = solved[rng.random(len(solved)) < CSAT_RESPONSE_RATE]
    at = state.solved_at[asked] + lognormal_us(rng, 6 * 3600.0, sigma=1.0, n=len(asked))
    kept = at < leaves[book.cust[asked]]
    asked, at = asked[kept], at[kept]
    n, channel = len(asked), book.channel[asked]
    score = csat_scores(rng, np.where(channel == CHAT, CSAT_TOP2_CHAT, CSAT_TOP2))
    u = rng.random(n)
    theme = np.select([u < 0.5, u < 0.8], [CATEGORY_THEME[book.category[asked]], STAFF], WAIT)
    comment = text.comments(rng, theme.astype(np.int64), score >= 4)
    return Answers(
        metric="csat",
        survey="CSAT after case",
        touchpoint="case_solved",
        cust=book.cust[asked],
        at=at,
        score=score,
        channel=channel,
        case=asked,
        comment=with_comments(rng, comment, 0.45),
        properties=nulls(n),
    )


def _ces_comments(rng: np.random.Generator, score: I64, wait_s: I64) -> pa.Array:
    """Long waits get talked about, with the minutes the caller actually waited."""
    positive = score >= 5
    situation = np.where(positive, np.where(wait_s < 240, 2, 3), np.where(wait_s >= 360, 0, 1))
    theme = draw_rows(rng, CES_THEMES, situation.astype(np.int64))
    minutes = np.maximum(1, np.rint(wait_s / 60)).astype(np.int64)
    return text.comments(rng, theme, positive, wait_minutes=minutes)


def ces_after_calls(rng: np.random.Generator, calls: Calls, *, leaves: I64) -> Answers:
    """An IVR survey a few minutes after the call; the longer the wait, the harder it felt."""
    asked = np.flatnonzero(rng.random(len(calls.cust)) < CES_PHONE_RESPONSE_RATE)
    at = call_ended(calls)[asked] + (rng.uniform(60, 600, len(asked)) * US).astype(np.int64)
    kept = at < leaves[calls.cust[asked]]
    asked, at = asked[kept], at[kept]
    n, wait_s = len(asked), calls.wait_s[asked]
    effort = CES_BASE - CES_PER_WAIT_MINUTE * wait_s / 60 + rng.normal(0.0, CES_SD, n)
    score = np.clip(np.rint(effort), 1, 7).astype(np.int64)
    comment = _ces_comments(rng, score, wait_s)
    properties = json_object(
        [
            ("wait_seconds", as_text(wait_s)),
            ("call_id", quoted(call_ids(len(calls.cust)).take(pa.array(asked)))),
        ]
    )
    return Answers(
        metric="ces",
        survey="CES after support",
        touchpoint="support_call",
        cust=calls.cust[asked],
        at=at,
        score=score,
        channel=np.full(n, vocab.channel_index("phone"), dtype=np.int64),
        case=calls.case[asked],
        comment=with_comments(rng, comment, 0.35),
        properties=properties,
    )


def ces_after_chats(rng: np.random.Generator, book: CaseBook, state: CaseState, *, leaves: I64) -> Answers:
    solved = np.flatnonzero((state.solved_at != NEVER) & (book.channel == CHAT))
    asked = solved[rng.random(len(solved)) < CES_CHAT_RESPONSE_RATE]
    at = state.solved_at[asked] + lognormal_us(rng, 2 * 3600.0, sigma=1.0, n=len(asked))
    kept = at < leaves[book.cust[asked]]
    asked, at = asked[kept], at[kept]
    n = len(asked)
    score = np.clip(np.rint(5.3 + rng.normal(0.0, 1.2, n)), 1, 7).astype(np.int64)
    situation = np.where(score >= 5, 3, 1).astype(np.int64)
    comment = text.comments(rng, draw_rows(rng, CES_THEMES, situation), score >= 5)
    return Answers(
        metric="ces",
        survey="CES after support",
        touchpoint="chat_closed",
        cust=book.cust[asked],
        at=at,
        score=score,
        channel=np.full(n, CHAT, dtype=np.int64),
        case=asked,
        comment=with_comments(rng, comment, 0.3),
        properties=nulls(n),
    )


def csat_after_delivery(rng: np.random.Generator, orders: Orders, *, leaves: I64) -> Answers:
    """A short email survey a day after delivery; late parcels please fewer people."""
    delivered = np.flatnonzero(orders.delivered != NEVER)
    asked = delivered[rng.random(len(delivered)) < POST_PURCHASE_RESPONSE_RATE]
    at = orders.delivered[asked] + lognormal_us(rng, 86_400.0, sigma=0.6, n=len(asked))
    kept = at < leaves[orders.cust[asked]]
    asked, at = asked[kept], at[kept]
    n = len(asked)
    late = orders.delivered[asked] - orders.placed[asked] > LATE_DELIVERY
    score = csat_scores(rng, np.where(late, 0.45, 0.85))
    theme = np.where(rng.random(n) < 0.6, text.THEMES.index("delivery"), text.THEMES.index("product_quality"))
    comment = text.comments(rng, theme.astype(np.int64), score >= 4)
    order = quoted(order_ids(len(orders.cust)).take(pa.array(asked)))
    return Answers(
        metric="csat",
        survey="CSAT after delivery",
        touchpoint="post_purchase",
        cust=orders.cust[asked],
        at=at,
        score=score,
        channel=np.full(n, vocab.channel_index("email"), dtype=np.int64),
        case=np.full(n, -1, dtype=np.int64),
        comment=with_comments(rng, comment, 0.4),
        properties=json_object([("order_id", order)]),
    )
