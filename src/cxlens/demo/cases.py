"""Support cases: how many, when, about what, and each case's lifecycle milestones.

A case is drawn as milestone times (first response, handoffs, a wait for the customer, solves,
reopens, or a stall that never resolves). Its status at the end of the window, and its
status-change events, both follow from the milestones that happened before the end, so the
cases table and the case events can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from cxlens.demo import vocab
from cxlens.demo.columns import draw, draw_rows, last_in_sorted, owners
from cxlens.demo.people import Population
from cxlens.demo.timeline import DAY, HOUR, I64, MINUTE, NEVER, Window, lognormal_us, sample_times

CASES_PER_MONTH = 0.10  # per customer, before the segment and engagement multipliers
SEGMENT_CASE_FACTOR = np.array([1.0, 1.5, 2.5])
APP_CRASH = vocab.CASE_CATEGORIES.index("app_crash")
SPIKE_DAYS = 14
SPIKE_EXTRA = 3.0  # extra app_crash cases per usual one during the defect: 4x the usual volume
HANDOFF_SHARE = (0.55, 0.27, 0.12, 0.06)  # 0, 1, 2, 3 handoffs
STALL_SHARE = 0.04  # cases that get stuck on hold or pending and are never solved
PENDING_SHARE = 0.35
REOPEN_SHARE = (0.89, 0.09, 0.02)
CLOSE_AFTER = 4 * DAY  # solved cases close automatically, as in Zendesk
# Per channel, in CHANNELS order (web, app, email, phone, chat, social, store, other).
FRT_MEDIAN_S = np.array([8 * 3600, 8 * 3600, 5 * 3600, 60, 120, 5400, 600, 8 * 3600], dtype=np.float64)
RESOLUTION_MEDIAN_S = np.array([24, 24, 20, 4, 2, 10, 6, 24], dtype=np.float64) * 3600
PRIORITY_SPEED = np.array([1.4, 1.0, 0.7, 0.4])
APP_CRASH_CHANNEL_MIX = {"app": 0.35, "chat": 0.3, "email": 0.2, "social": 0.1, "phone": 0.05}

STATUS = {name: i for i, name in enumerate(vocab.CASE_STATUSES)}
SOLVED_STATES = (STATUS["solved"], STATUS["closed"])


@dataclass(frozen=True)
class Spike:
    """The two weeks of the app defect."""

    start: int
    end: int


def spike_for(window: Window) -> Spike:
    """Four months before the end; in windows too short for that, mid-window."""
    start = window.end - 120 * DAY
    if start - window.start < 30 * DAY:
        start = window.start + (window.end - window.start) // 2 - SPIKE_DAYS * DAY // 2
    return Spike(start=start, end=start + SPIKE_DAYS * DAY)


@dataclass(frozen=True)
class CaseBook:
    """One row per case, sorted by creation; times in µs, ``NEVER`` for what does not happen."""

    cust: I64
    created: I64
    channel: I64
    category: I64
    variant: I64  # which of the category's subjects (and first messages) the customer wrote
    priority: I64
    handoffs: I64  # planned handoffs, 0..3
    teams: I64  # (n, 4): the team before handoff k; column 0 is the first team
    agents: I64  # (n, 4): the agent (index into vocab.AGENTS) for each team
    assigned: I64
    first_response: I64
    handoff_at: I64  # (n, 3)
    pending: I64  # (n, 2): waiting for the customer from, until
    solves: I64  # (n, 3)
    reopens: I64  # (n, 2)
    stall: I64
    stall_status: I64

    @property
    def size(self) -> int:
        return len(self.created)


def subset(book: CaseBook, keep: I64 | np.ndarray) -> CaseBook:
    return CaseBook(**{f.name: getattr(book, f.name)[keep] for f in fields(book)})


def draw_cases(rng: np.random.Generator, window: Window, pop: Population, *, spike: Spike) -> CaseBook:
    lo = np.maximum(pop.signed_up + DAY, window.start)
    rate = CASES_PER_MONTH / 30 * SEGMENT_CASE_FACTOR[pop.segment] * np.sqrt(pop.engagement)
    cust = owners(rng.poisson(rate * np.maximum(window.end - lo, 0) / DAY))
    created = sample_times(rng, window, "business", lo=lo[cust], hi=np.full(len(cust), window.end))
    category = draw(rng, len(cust), vocab.CATEGORY_SHARE)
    in_spike = int(((created >= spike.start) & (created < spike.end)).sum())
    extra_cust, extra_created = _defect_cases(rng, window, pop, spike=spike, in_spike=in_spike)
    cust = np.concatenate([cust, extra_cust])
    created = np.concatenate([created, extra_created])
    category = np.concatenate([category, np.full(len(extra_cust), APP_CRASH, dtype=np.int64)])
    order = np.lexsort((cust, created))
    return _lifecycle(rng, cust[order], created[order], category=category[order])


def _defect_cases(
    rng: np.random.Generator, window: Window, pop: Population, *, spike: Spike, in_spike: int
) -> tuple[I64, I64]:
    """The planted defect: ``SPIKE_EXTRA`` times the usual app_crash volume on top, for 14 days."""
    n = round(SPIKE_EXTRA * vocab.CATEGORY_SHARE[APP_CRASH] * in_spike)
    eligible = np.flatnonzero(pop.signed_up + DAY < spike.end - HOUR)
    if n == 0 or len(eligible) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cust = rng.choice(eligible, n).astype(np.int64)
    lo = np.maximum(spike.start, pop.signed_up[cust] + DAY)
    return cust, sample_times(rng, window, "business", lo=lo, hi=np.full(n, spike.end))


def _lifecycle(rng: np.random.Generator, cust: I64, created: I64, *, category: I64) -> CaseBook:
    who = _routing_profile(rng, category)
    return CaseBook(cust=cust, created=created, category=category, **who, **_milestones(rng, created, who))


def _routing_profile(rng: np.random.Generator, category: I64) -> dict[str, I64]:
    """Channel, priority, what the customer wrote, and the path through teams and agents."""
    n = len(category)
    channel_table = np.array([vocab.channel_weights(vocab.CASE_CHANNEL_MIX)] * len(vocab.CASE_CATEGORIES))
    channel_table[APP_CRASH] = vocab.channel_weights(APP_CRASH_CHANNEL_MIX)
    teams = _team_paths(rng, category)
    return {
        "channel": draw_rows(rng, channel_table, category),
        "variant": rng.integers(0, 3, n),
        "priority": draw(rng, n, vocab.PRIORITY_SHARE),
        "handoffs": draw(rng, n, HANDOFF_SHARE),
        "teams": teams,
        "agents": teams * vocab.AGENTS_PER_TEAM + rng.integers(0, vocab.AGENTS_PER_TEAM, (n, 4)),
    }


def _milestones(rng: np.random.Generator, created: I64, who: dict[str, I64]) -> dict[str, I64]:
    n, channel, handoffs = len(created), who["channel"], who["handoffs"]
    stalled = rng.random(n) < STALL_SHARE
    frt = lognormal_us(rng, FRT_MEDIAN_S[channel], sigma=1.0, n=n)
    # Every handoff adds roughly another median resolution time: the queue starts over.
    median = RESOLUTION_MEDIAN_S[channel] * (1 + handoffs) * PRIORITY_SPEED[who["priority"]]
    duration = lognormal_us(rng, median, sigma=1.25, n=n) + 10 * MINUTE
    first_response = created + np.where(stalled, frt, np.minimum(frt, duration // 4))
    stall = np.where(stalled, first_response + lognormal_us(rng, 86_400.0, sigma=0.8, n=n), NEVER)
    reopen_count = np.where(stalled, 0, draw(rng, n, REOPEN_SHARE))
    solves, reopens = _solve_times(created, duration, reopen_count, stalled=stalled)
    first_stop = np.where(stalled, stall, solves[:, 0])
    waits = ~stalled & (rng.random(n) < PENDING_SHARE)
    pending = _between(rng, first_response, first_stop, count=np.full(n, 2), width=2)
    routing_delay = lognormal_us(rng, 90.0, sigma=0.5, n=n)
    return {
        "assigned": created + np.minimum(routing_delay, (first_response - created) // 2),
        "first_response": first_response,
        "handoff_at": _between(rng, first_response, first_stop, count=handoffs, width=3),
        "pending": np.where(waits[:, None], pending, NEVER),
        "solves": solves,
        "reopens": reopens,
        "stall": stall,
        "stall_status": np.where(rng.random(n) < 0.5, STATUS["on_hold"], STATUS["pending"]),
    }


def _team_paths(rng: np.random.Generator, category: I64) -> I64:
    """Most cases start in Tier 1 and move to the category's specialists; later handoffs go to
    any other team."""
    n = len(category)
    specialist = np.asarray(vocab.CATEGORY_TEAM)[category]
    teams = np.empty((n, 4), dtype=np.int64)
    teams[:, 0] = np.where(rng.random(n) < 0.7, 0, specialist)
    for k in range(1, 4):
        previous = teams[:, k - 1]
        other = (previous + rng.integers(1, len(vocab.TEAMS), n)) % len(vocab.TEAMS)
        escalate = (previous == 0) & (specialist != 0) & (rng.random(n) < 0.7)
        teams[:, k] = np.where(escalate, specialist, other)
    return teams


def _solve_times(created: I64, duration: I64, reopen_count: I64, *, stalled: np.ndarray) -> tuple[I64, I64]:
    """Solve times at fixed fractions of the duration, a reopen 30% of the way to the next solve."""
    fractions = np.array([[1.0, np.nan, np.nan], [0.55, 1.0, np.nan], [0.4, 0.7, 1.0]])[reopen_count]
    happens = ~np.isnan(fractions) & ~stalled[:, None]
    offsets = (duration[:, None] * np.nan_to_num(fractions)).astype(np.int64)
    solves = np.where(happens, created[:, None] + offsets, NEVER)
    later = happens[:, 1:]
    gap = np.where(later, offsets[:, 1:] - offsets[:, :2], 0)
    reopens = np.where(later, solves[:, :2] + (gap * 0.3).astype(np.int64), NEVER)
    return solves, reopens


def _between(rng: np.random.Generator, start: I64, stop: I64, *, count: I64, width: int) -> I64:
    """``count`` sorted times strictly inside (start, stop) per row, padded with ``NEVER``."""
    u = np.sort(rng.uniform(0.1, 0.9, (len(start), width)), axis=1)
    times = start[:, None] + (u * (stop - start)[:, None]).astype(np.int64)
    return np.where(np.arange(width) < count[:, None], times, NEVER)


def close_times(book: CaseBook) -> I64:
    """When each solved case closes on its own: ``CLOSE_AFTER`` its last solve."""
    last = np.where(book.solves == NEVER, -1, book.solves).max(axis=1)
    return np.where(last >= 0, last + CLOSE_AFTER, NEVER)


def status_changes(book: CaseBook) -> tuple[I64, I64, I64, I64]:
    """Every status change a case goes through: (case, time, from status, to status)."""
    idx = np.arange(book.size, dtype=np.int64)
    s = STATUS
    parts = [
        (book.first_response, s["new"], s["open"]),
        (book.pending[:, 0], s["open"], s["pending"]),
        (book.pending[:, 1], s["pending"], s["open"]),
        *((book.solves[:, j], s["open"], s["solved"]) for j in range(3)),
        *((book.reopens[:, j], s["solved"], s["open"]) for j in range(2)),
        (close_times(book), s["solved"], s["closed"]),
    ]
    case = [idx] * len(parts) + [idx]
    at = [times for times, _, _ in parts] + [book.stall]
    before = [np.full(book.size, old) for _, old, _ in parts] + [np.full(book.size, s["open"])]
    after = [np.full(book.size, new) for _, _, new in parts] + [book.stall_status]
    c, t, b, a = (np.concatenate(x).astype(np.int64) for x in (case, at, before, after))
    happens = t != NEVER
    return c[happens], t[happens], b[happens], a[happens]


@dataclass(frozen=True)
class CaseState:
    """Each case as it stands at the end of the window."""

    status: I64
    first_response: I64
    solved_at: I64
    closed_at: I64
    reopen_count: I64
    team: I64
    agent: I64  # -1 while unassigned

    @property
    def unresolved(self) -> np.ndarray:
        return ~np.isin(self.status, SOLVED_STATES)


def case_state(book: CaseBook, end: int) -> CaseState:
    case, at, _, to = status_changes(book)
    done = at < end
    case, at, to = case[done], at[done], to[done]
    order = np.lexsort((at, case))
    last = order[last_in_sorted(case[order])]
    status = np.full(book.size, STATUS["new"], dtype=np.int64)
    status[case[last]] = to[last]
    solved = np.isin(status, SOLVED_STATES)
    latest_solve = np.where(book.solves < end, book.solves, -1).max(axis=1)
    moved = (book.handoff_at < end).sum(axis=1)
    rows = np.arange(book.size)
    return CaseState(
        status=status,
        first_response=np.where(book.first_response < end, book.first_response, NEVER),
        solved_at=np.where(solved, latest_solve, NEVER),
        closed_at=np.where(status == STATUS["closed"], close_times(book), NEVER),
        reopen_count=(book.reopens < end).sum(axis=1).astype(np.int64),
        team=book.teams[rows, moved],
        agent=np.where(book.assigned < end, book.agents[rows, moved], -1),
    )
