"""The case status model: what "resolved" means and which moves a case may make."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cxlens.cases import ALLOWED_TRANSITIONS, CASE_STATUSES, Case, is_resolved, resolved_sql
from cxlens.core.events import DomainEvent, EventBus
from cxlens.errors import Conflict, InvalidInput

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def case(status: str = "new", **overrides: object) -> Case:
    values: dict[str, object] = {
        "case_key": 1,
        "case_id": "case_abc",
        "customer_key": 7,
        "source": "test",
        "external_id": "T-1",
        "channel": "email",
        "subject": "Where is my parcel?",
        "status": status,
        "priority": "normal",
        "team": "support",
        "assignee": None,
        "category": None,
        "created_at": T0,
        "first_response_at": None,
        "solved_at": None,
        "closed_at": None,
        "reopen_count": 0,
    }
    values.update(overrides)
    return Case(**values)  # type: ignore[arg-type]


def test_resolved_is_solved_or_closed_and_nothing_else() -> None:
    assert [s for s in CASE_STATUSES if is_resolved(s)] == ["solved", "closed"]
    assert resolved_sql("x") == "x.status IN ('solved', 'closed')"


def test_every_status_has_its_moves_and_closed_is_final() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(CASE_STATUSES)
    assert ALLOWED_TRANSITIONS["closed"] == frozenset()
    assert all(target in CASE_STATUSES for moves in ALLOWED_TRANSITIONS.values() for target in moves)


def test_solving_sets_the_time_and_reopening_counts_and_clears_it() -> None:
    solved = case("open").moved_to("solved", at=T1)
    assert solved.resolved and solved.solved_at == T1
    reopened = solved.moved_to("open", at=T1)
    assert not reopened.resolved and reopened.solved_at is None and reopened.reopen_count == 1
    closed = solved.moved_to("closed", at=T1)
    assert closed.closed_at == T1 and closed.reopen_count == 0


@pytest.mark.parametrize(("start", "target"), [("closed", "open"), ("new", "closed"), ("solved", "pending")])
def test_an_illegal_move_is_refused_with_what_is_allowed(start: str, target: str) -> None:
    with pytest.raises(Conflict, match=f"is {start}; it can move to"):
        case(start).moved_to(target, at=T1)


def test_a_move_to_the_same_status_or_an_unknown_one_is_refused() -> None:
    with pytest.raises(Conflict, match="open already"):
        case("open").moved_to("open", at=T1)
    with pytest.raises(InvalidInput, match="Unknown case status 'resolved'"):
        case("open").moved_to("resolved", at=T1)


class Happened(DomainEvent):
    pass


class HappenedAgain(Happened):
    pass


def test_the_bus_calls_subscribers_of_the_type_and_its_bases_and_survives_a_failing_one() -> None:
    bus, seen = EventBus(), []

    def broken(event: DomainEvent) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(Happened, broken)
    bus.subscribe(Happened, lambda e: seen.append(("any", type(e).__name__)))
    bus.subscribe(HappenedAgain, lambda e: seen.append(("again", type(e).__name__)))
    bus.publish([Happened(), HappenedAgain()])
    assert seen == [("any", "Happened"), ("again", "HappenedAgain"), ("any", "HappenedAgain")]
