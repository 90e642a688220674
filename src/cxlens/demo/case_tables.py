"""The ``cases`` and ``case_events`` tables, built from the case milestones.

Every milestone before the end of the window becomes one or two events: the customer's first
message, the routing assignment, the first reply, handoffs (with a reassignment), a wait for the
customer, solves, reopens, a stall, and the status changes between them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxlens.demo import messages, vocab
from cxlens.demo.cases import CaseBook, CaseState, status_changes
from cxlens.demo.columns import constant, integers, labels, padded_ids, timestamps
from cxlens.demo.text import pick, pick_by
from cxlens.demo.timeline import I64, MINUTE, NEVER


def case_ids(n: int) -> pa.Array:
    return padded_ids("C", np.arange(n, dtype=np.int64), 6)


@dataclass(frozen=True)
class _Rows:
    """Events of one sort, one candidate row per case (``case`` indexes the cases); rows whose
    time is ``NEVER`` or after the end are dropped when the table is assembled."""

    case: I64
    at: I64
    kind: str
    author: pa.Array
    direction: str | None = None  # messages only
    body: pa.Array | None = None
    before: pa.Array | None = None
    after: pa.Array | None = None


def _agent_names(book: CaseBook, case: I64, at: I64) -> pa.Array:
    """The agent holding each case at ``at``: the one of the team after the handoffs so far."""
    moved = (book.handoff_at[case] < at[:, None]).sum(axis=1)
    return labels(vocab.AGENTS, book.agents[case, moved])


def _messages(rng: np.random.Generator, book: CaseBook, customer: pa.Array) -> list[_Rows]:
    n, m, every = book.size, messages, np.arange(book.size, dtype=np.int64)

    def agent(at: I64, direction: str, body: pa.Array) -> _Rows:
        return _Rows(every, at, "message", _agent_names(book, every, at), direction, body)

    def client(at: I64, body: pa.Array) -> _Rows:
        return _Rows(every, at, "message", customer, "in", body)

    first = [text for options in m.FIRST_MESSAGES for text in options]
    rows = [
        client(book.created, labels(first, book.category * 3 + book.variant)),
        agent(book.first_response, "out", pick(rng, m.FIRST_REPLIES, n)),
        agent(book.pending[:, 0], "out", pick(rng, m.INFO_REQUESTS, n)),
        client(book.pending[:, 1], pick(rng, m.CUSTOMER_INFO, n)),
        agent(book.stall, "internal", pick(rng, m.STALL_NOTES, n)),
    ]
    rows += [agent(book.solves[:, j], "out", pick_by(rng, m.SOLUTIONS, book.category)) for j in range(3)]
    rows += [client(book.reopens[:, j], pick(rng, m.REOPENED, n)) for j in range(2)]
    return rows


def _routing(rng: np.random.Generator, book: CaseBook) -> list[_Rows]:
    """The first assignment, then per handoff the handoff itself and, a minute later, the new
    assignee."""
    n, every = book.size, np.arange(book.size, dtype=np.int64)
    system = constant("system", n)
    agent = [labels(vocab.AGENTS, book.agents[:, k]) for k in range(4)]
    team = [labels(vocab.TEAMS, book.teams[:, k]) for k in range(4)]
    rows = [_Rows(every, book.assigned, "assignment", system, after=agent[0])]
    for k in range(3):
        at = book.handoff_at[:, k]
        note = pick(rng, messages.HANDOFF_NOTES, n)
        rows.append(_Rows(every, at, "handoff", agent[k], body=note, before=team[k], after=team[k + 1]))
        reassigned = np.where(at == NEVER, at, at + MINUTE)
        rows.append(_Rows(every, reassigned, "assignment", system, before=agent[k], after=agent[k + 1]))
    return rows


def _status_rows(book: CaseBook) -> _Rows:
    case, at, before, after = status_changes(book)
    closing = pa.array(after == vocab.CASE_STATUSES.index("closed"))  # the helpdesk closes, not an agent
    author = pc.if_else(closing, "system", _agent_names(book, case, at))
    states = vocab.CASE_STATUSES
    return _Rows(
        case, at, "status_change", author, before=labels(states, before), after=labels(states, after)
    )


def _gather(groups: list[_Rows], name: str, take: pa.Array) -> pa.Array:
    """One column over all groups, in event order; constant and missing columns filled in."""
    parts = []
    for g in groups:
        value = getattr(g, name)
        if value is None or isinstance(value, str):
            value = pa.repeat(pa.scalar(value, pa.string()), len(g.case))
        parts.append(value)
    return pa.concat_arrays(parts).take(take)


def case_events_table(rng: np.random.Generator, book: CaseBook, *, end: int, user_ids: pa.Array) -> pa.Table:
    customer = user_ids.take(pa.array(book.cust))
    groups = [*_messages(rng, book, customer), *_routing(rng, book), _status_rows(book)]
    case = np.concatenate([g.case for g in groups])
    at = np.concatenate([g.at for g in groups])
    sequence = np.concatenate([np.full(len(g.case), i) for i, g in enumerate(groups)])
    kept = np.flatnonzero(at < end)
    order = kept[np.lexsort((sequence[kept], at[kept], case[kept]))]
    take = pa.array(order)
    direction = _gather(groups, "direction", take)
    is_message = direction.is_valid().to_numpy(zero_copy_only=False)
    return pa.table(
        {
            "case_external_id": case_ids(book.size).take(pa.array(case[order])),
            "occurred_at": timestamps(at[order]),
            "kind": _gather(groups, "kind", take),
            "direction": direction,
            "author": _gather(groups, "author", take),
            "channel": labels(vocab.CHANNELS, np.where(is_message, book.channel[case[order]], -1)),
            "body": _gather(groups, "body", take),
            "from_value": _gather(groups, "before", take),
            "to_value": _gather(groups, "after", take),
            "source": constant("demo", len(order)),
            "idempotency_key": padded_ids("e", np.arange(len(order), dtype=np.int64), 8),
        }
    )


def cases_table(book: CaseBook, state: CaseState, *, user_ids: pa.Array, satisfaction: I64) -> pa.Table:
    """The ``cases`` entity; ``satisfaction`` is the case's CSAT score, -1 where none was given."""
    subjects = [subject for options in messages.SUBJECTS for subject in options]
    return pa.table(
        {
            "user_id": user_ids.take(pa.array(book.cust)),
            "external_id": case_ids(book.size),
            "channel": labels(vocab.CHANNELS, book.channel),
            "subject": labels(subjects, book.category * 3 + book.variant),
            "status": labels(vocab.CASE_STATUSES, state.status),
            "priority": labels(vocab.PRIORITIES, book.priority),
            "team": labels(vocab.TEAMS, state.team),
            "assignee": labels(vocab.AGENTS, state.agent),
            "category": labels(vocab.CASE_CATEGORIES, book.category),
            "created_at": timestamps(book.created),
            "first_response_at": timestamps(state.first_response),
            "solved_at": timestamps(state.solved_at),
            "closed_at": timestamps(state.closed_at),
            "reopen_count": integers(state.reopen_count),
            "satisfaction": integers(satisfaction, satisfaction < 0),
            "source": constant("demo", book.size),
        }
    )
