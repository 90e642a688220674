"""The seeded demo world: Brightline, a smart-home company, as five import-ready tables.

``generate_world`` is pure: the same arguments give identical tables. The order of the steps
matters because the planted effects chain: cases (with handoffs) shape NPS answers, NPS answers
and unresolved cases shape churn, and churn cuts off everything that would have come after it.
Each step draws from its own random stream, so changing one step leaves the others' draws alone.
See docs/demo.md for the company, the sizes and the planted effects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from cxlens.demo import case_tables, cases, churn, commerce, interactions, nps, people, service_surveys, vocab
from cxlens.demo.answers import Answers, responses_table
from cxlens.demo.commerce import Calls, Orders
from cxlens.demo.engagement import renewals
from cxlens.demo.journeys import Life
from cxlens.demo.timeline import I64, US, Window, make_window
from cxlens.errors import InvalidInput

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
MAX_CUSTOMERS = 1_000_000
MAX_MONTHS = 60
HISTORY_MONTHS = 24  # the installed base signed up during the two years before the window
ENTITY_ORDER = ("customers", "interactions", "cases", "case_events", "responses")


@dataclass(frozen=True)
class DemoWorld:
    """One pyarrow table per entity, in the canonical import shapes of ``cxlens.ingest.base``."""

    customers: pa.Table
    interactions: pa.Table
    responses: pa.Table
    cases: pa.Table
    case_events: pa.Table
    start: datetime
    end: datetime
    defect_start: datetime  # planted effect 4: the two weeks of app crashes begin here
    defect_end: datetime

    def tables(self) -> dict[str, pa.Table]:
        """Entity name -> table, parents before children (responses refer to cases), which is the
        order an import should follow."""
        return {name: getattr(self, name) for name in ENTITY_ORDER}


def months_before(end: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the day capped at 28)."""
    index = end.year * 12 + end.month - 1 - months
    return end.replace(year=index // 12, month=index % 12 + 1, day=min(end.day, 28))


def _check(customers: int, months: int, end: datetime) -> None:
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise InvalidInput(f"customers must be between 1 and {MAX_CUSTOMERS}, got {customers}")
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(f"months must be between 1 and {MAX_MONTHS}, got {months}")
    if end.tzinfo is None:
        raise InvalidInput("end must be timezone-aware")


def generate_world(
    *, customers: int = 20_000, months: int = 12, seed: int = 7, end: datetime | None = None
) -> DemoWorld:
    end = DEFAULT_END if end is None else end
    _check(customers, months, end)
    end = end.astimezone(UTC)
    start = months_before(end, months)
    window = make_window(start, end, history_start=months_before(start, HISTORY_MONTHS))
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(16)]
    return _tables(streams, _settle(streams, window, customers))


@dataclass(frozen=True)
class _Settled:
    """Customers, their orders, cases and NPS answers after churn has cut off what came later."""

    life: Life
    orders: Orders
    book: cases.CaseBook
    state: cases.CaseState
    nps: Answers
    spike: cases.Spike


def _settle(streams: list[np.random.Generator], window: Window, customers: int) -> _Settled:
    pop = people.draw_population(streams[0], window, customers)
    spike = cases.spike_for(window)
    book = cases.draw_cases(streams[1], window, pop, spike=spike)
    state = cases.case_state(book, window.end)
    answers = nps.draw_nps(streams[2], window, pop, book=book, state=state, spike=spike)
    trigger = churn.risk_trigger(pop, book, state, nps=answers)
    churned_at, reason = churn.draw_churn(streams[3], window, pop, trigger=trigger)
    book = cases.subset(book, book.created < churned_at[book.cust])
    active_end = np.minimum(churned_at, window.end)
    orders = commerce.draw_orders(streams[4], window, pop, active_end=active_end)
    life = Life(
        window=window,
        pop=pop,
        active_end=active_end,
        churned_at=churned_at,
        churn_reason=reason,
        set_up=commerce.set_up_at(orders, pop),
    )
    return _Settled(
        life=life,
        orders=orders,
        book=book,
        state=cases.case_state(book, window.end),
        nps=answers.keep(answers.at < churned_at[answers.cust]),
        spike=spike,
    )


def _surveys(streams: list[np.random.Generator], world: _Settled, calls: Calls) -> list[Answers]:
    leaves, book, state = world.life.active_end, world.book, world.state
    surveys = [
        world.nps,
        service_surveys.csat_after_case(streams[6], book, state, leaves=leaves),
        service_surveys.ces_after_calls(streams[7], calls, leaves=leaves),
        service_surveys.ces_after_chats(streams[8], book, state, leaves=leaves),
        service_surveys.csat_after_delivery(streams[9], world.orders, leaves=leaves),
    ]
    # Orders of the installed base began before the window; so may their delivery surveys.
    return [answers.keep(answers.at >= world.life.window.start) for answers in surveys]


def _tables(streams: list[np.random.Generator], world: _Settled) -> DemoWorld:
    life, book, window, orders = world.life, world.book, world.life.window, world.orders
    calls = commerce.draw_calls(streams[5], window, life.pop, active_end=life.active_end, book=book)
    surveys = _surveys(streams, world, calls)
    csat = surveys[1]
    satisfaction = np.full(book.size, -1, dtype=np.int64)
    satisfaction[csat.case] = csat.score
    ids = people.user_ids(life.pop.size)
    batches = interactions.interaction_batches(streams[10], life, orders=orders, book=book, calls=calls)
    return DemoWorld(
        customers=people.customers_table(
            streams[11],
            life.pop,
            churned_at=life.churned_at,
            churn_reason=life.churn_reason,
            value_cents=_lifetime_value(life, orders),
        ),
        interactions=interactions.interactions_table(streams[12], batches, life, user_ids=ids),
        responses=responses_table(surveys, user_ids=ids, n_cases=book.size),
        cases=case_tables.cases_table(book, world.state, user_ids=ids, satisfaction=satisfaction),
        case_events=case_tables.case_events_table(streams[13], book, end=window.end, user_ids=ids),
        start=_moment(window.start),
        end=_moment(window.end),
        defect_start=_moment(world.spike.start),
        defect_end=_moment(world.spike.end),
    )


def _lifetime_value(life: Life, orders: Orders) -> I64:
    """What each customer has paid since signing up: orders plus plan renewals, in cents."""
    cust, _ = renewals(life)
    price = np.asarray(vocab.PLAN_MONTHLY_CENTS, dtype=np.int64)[life.pop.plan[cust]]
    spent = np.bincount(orders.cust, weights=orders.cents, minlength=life.pop.size)
    spent += np.bincount(cust, weights=price, minlength=life.pop.size)
    return np.rint(spent).astype(np.int64)


def _moment(us: int) -> datetime:
    return datetime.fromtimestamp(us / US, tz=UTC)
