"""The quarterly relationship NPS survey, carrying planted effect 1.

Planted effect 1: an answer given after the customer's second handoff on a case is drawn around
``NPS_MEAN_AFTER_HANDOFFS`` (about 4) instead of the usual ~8. An answer given while one of the
customer's cases sits unresolved is drawn around ``NPS_MEAN_WHILE_UNRESOLVED``, which (with
planted effect 5 in ``churn``) makes detractors with open cases common enough to study.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cxlens.demo import text
from cxlens.demo.answers import Answers, with_comments
from cxlens.demo.cases import CaseBook, CaseState, Spike
from cxlens.demo.columns import draw, draw_rows, first_per_group, nulls, owners, ranks
from cxlens.demo.people import Population
from cxlens.demo.timeline import DAY, F64, I64, Window, lognormal_us
from cxlens.demo.vocab import channel_weights

NPS_FIRST_AFTER = 30 * DAY
NPS_EVERY = 91 * DAY
NPS_RESPONSE_RATE = 0.32
NPS_COMMENT_SHARE = 0.6
NPS_MEAN = np.array([8.3, 8.1, 7.8])  # by segment; ~8 on the 0-10 scale after rounding and capping
NPS_MEAN_AFTER_HANDOFFS = 3.6
NPS_MEAN_WHILE_UNRESOLVED = 5.0
NPS_SD = 1.7
NPS_CHANNELS = channel_weights({"email": 0.8, "app": 0.2})
DEFECT_ECHO = 21 * DAY  # how long after the defect customers still bring it up


# What comments talk about, by the situation of the answer (rows of draw_rows).
POSITIVE, NEGATIVE, HANDED_OFF, UNRESOLVED, DEFECT = range(5)
COMMENT_THEMES = np.array(
    [
        text.theme_weights(
            {
                "staff_friendliness": 0.2,
                "product_quality": 0.25,
                "ease_of_use": 0.2,
                "delivery": 0.15,
                "price": 0.1,
                "app_crash": 0.1,
            }
        ),
        text.theme_weights(
            {
                "billing": 0.18,
                "delivery": 0.18,
                "app_crash": 0.08,
                "staff_friendliness": 0.06,
                "wait_time": 0.14,
                "product_quality": 0.14,
                "price": 0.14,
                "handoffs": 0.04,
                "ease_of_use": 0.04,
            }
        ),
        text.theme_weights(
            {"handoffs": 0.6, "wait_time": 0.15, "unresolved": 0.15, "staff_friendliness": 0.1}
        ),
        text.theme_weights(
            {"unresolved": 0.55, "wait_time": 0.15, "handoffs": 0.1, "billing": 0.1, "delivery": 0.1}
        ),
        text.theme_weights(
            {"app_crash": 0.6, "ease_of_use": 0.1, "product_quality": 0.1, "billing": 0.1, "delivery": 0.1}
        ),
    ]
)


def _invited_and_answered(rng: np.random.Generator, window: Window, pop: Population) -> tuple[I64, I64]:
    """Invitations every 91 days from 30 days after sign-up; about a third answer within days."""
    start = pop.signed_up + NPS_FIRST_AFTER
    invites = np.where(window.end > start, (window.end - start - 1) // NPS_EVERY + 1, 0)
    cust = owners(invites)
    at = start[cust] + ranks(invites) * NPS_EVERY + lognormal_us(rng, 20 * 3600.0, sigma=1.0, n=len(cust))
    answered = (rng.random(len(cust)) < NPS_RESPONSE_RATE) & (at >= window.start) & (at < window.end)
    return cust[answered], at[answered]


def draw_nps(
    rng: np.random.Generator,
    window: Window,
    pop: Population,
    *,
    book: CaseBook,
    state: CaseState,
    spike: Spike,
) -> Answers:
    cust, at = _invited_and_answered(rng, window, pop)
    n = len(cust)
    handed_off = at > first_per_group(book.cust, book.handoff_at[:, 1], pop.size)[cust]
    open_case = state.unresolved
    waiting = at > first_per_group(book.cust[open_case], book.created[open_case], pop.size)[cust]
    usual = NPS_MEAN[pop.segment[cust]]
    mean = np.where(handed_off, NPS_MEAN_AFTER_HANDOFFS, np.where(waiting, NPS_MEAN_WHILE_UNRESOLVED, usual))
    score = np.clip(np.rint(mean + rng.normal(0.0, NPS_SD, n)), 0, 10).astype(np.int64)
    in_defect = (at >= spike.start) & (at < spike.end + DEFECT_ECHO)
    comment = _comments(rng, score, handed_off=handed_off, waiting=waiting, in_defect=in_defect)
    return Answers(
        metric="nps",
        survey="NPS quarterly",
        touchpoint="quarterly",
        cust=cust,
        at=at,
        score=score,
        channel=draw(rng, n, NPS_CHANNELS),
        case=np.full(n, -1, dtype=np.int64),
        comment=with_comments(rng, comment, NPS_COMMENT_SHARE),
        properties=nulls(n),
    )


def _comments(
    rng: np.random.Generator,
    score: I64,
    *,
    handed_off: np.ndarray,
    waiting: np.ndarray,
    in_defect: np.ndarray,
) -> pa.Array:
    n = len(score)
    positive = (score >= 9) | ((score >= 7) & (rng.random(n) < 0.5))
    situation = np.select(
        [positive, handed_off, waiting, in_defect & (rng.random(n) < 0.5)],
        [POSITIVE, HANDED_OFF, UNRESOLVED, DEFECT],
        NEGATIVE,
    ).astype(np.int64)
    return theme_comments(rng, COMMENT_THEMES, situation, positive=positive)


def theme_comments(rng: np.random.Generator, table: F64, situation: I64, *, positive: np.ndarray) -> pa.Array:
    """Comments whose themes follow ``table[situation]``; a third get a second, different theme."""
    theme = draw_rows(rng, table, situation)
    second = draw_rows(rng, table, situation)
    second = np.where((second == theme) | (rng.random(len(theme)) >= 0.33), -1, second)
    return text.comments(rng, theme, positive, second_theme=second)
