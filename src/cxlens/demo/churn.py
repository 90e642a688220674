"""Who leaves, when and why, carrying planted effect 5.

Every customer has a base hazard by segment. Planted effect 5: once a customer is both a
detractor (an NPS answer of 0-6) and has a case that is never resolved, they churn with
probability ``RISK_CHURN_SHARE`` at a uniformly random moment between that point and the end of
the window (reason ``unresolved_issue`` or ``poor_support``) -- several times the base rate.
"""

from __future__ import annotations

import numpy as np

from cxlens.demo import vocab
from cxlens.demo.answers import Answers
from cxlens.demo.cases import CaseBook, CaseState
from cxlens.demo.columns import draw, first_per_group
from cxlens.demo.people import Population
from cxlens.demo.timeline import DAY, HOUR, I64, NEVER, Window

MONTHLY_CHURN = np.array([0.012, 0.008, 0.004])  # by segment
RISK_CHURN_SHARE = 0.6


def risk_trigger(pop: Population, book: CaseBook, state: CaseState, *, nps: Answers) -> I64:
    """The moment each customer became a detractor with an unresolved case (``NEVER`` if not)."""
    detractor = nps.score <= 6
    detracted = first_per_group(nps.cust[detractor], nps.at[detractor], pop.size)
    open_case = state.unresolved
    opened = first_per_group(book.cust[open_case], book.created[open_case], pop.size)
    both = (detracted != NEVER) & (opened != NEVER)
    return np.where(both, np.maximum(detracted, opened), NEVER)


def draw_churn(rng: np.random.Generator, window: Window, pop: Population, *, trigger: I64) -> tuple[I64, I64]:
    """``(churned_at, reason code)`` per customer; ``NEVER`` and -1 for customers who stay."""
    n = pop.size
    days_to_leave = rng.exponential(30.0 / MONTHLY_CHURN[pop.segment])
    # The installed base is, by construction, still here when the window opens.
    base = np.maximum(pop.signed_up, window.start) + (np.minimum(days_to_leave, 10 * 365) * DAY).astype(
        np.int64
    )
    span = np.where(trigger == NEVER, 0, window.end - HOUR - np.minimum(trigger, window.end))
    at_risk = (span > 0) & (rng.random(n) < RISK_CHURN_SHARE)
    risk = np.where(
        at_risk, trigger + HOUR + (rng.random(n) * np.maximum(span - HOUR, 0)).astype(np.int64), NEVER
    )
    churned_at = np.minimum(base, risk)
    churned_at = np.where(churned_at < window.end, churned_at, NEVER)
    reason = np.where(
        risk <= base,
        draw(rng, n, vocab.RISK_CHURN_REASON_SHARE),
        draw(rng, n, vocab.BASE_CHURN_REASON_SHARE),
    )
    return churned_at, np.where(churned_at == NEVER, -1, reason)
