"""What a case is: its statuses, priorities and the kinds of its events, what "resolved" means,
and which status changes are allowed. Pure: no storage, no web.

Statuses follow Zendesk's system statuses (conventions: helpdesk status models), which Zammad and
Chatwoot map onto: ``new`` (nobody has looked), ``open`` (being worked), ``pending`` (waiting on the
customer), ``on_hold`` (waiting on a third party), ``solved`` (the team's answer is given) and
``closed`` (solved and no longer reopenable). **Resolved** means solved or closed — the one
definition every metric, trigger and the loop use (`is_resolved`, `resolved_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from cxlens.core.events import DomainEvent
from cxlens.errors import Conflict, InvalidInput

CaseStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]

CASE_STATUSES: tuple[CaseStatus, ...] = ("new", "open", "pending", "on_hold", "solved", "closed")
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
CASE_EVENT_KINDS = ("message", "status_change", "assignment", "handoff")
RESOLVED_STATUSES: tuple[CaseStatus, ...] = ("solved", "closed")

# Words other systems use for the same value (Zendesk "hold", Chatwoot "resolved", ...).
STATUS_SYNONYMS = {
    "hold": "on_hold",
    "on-hold": "on_hold",
    "on hold": "on_hold",
    "snoozed": "on_hold",
    "resolved": "solved",
    "done": "solved",
    "reopened": "open",
    "in progress": "open",
    "waiting": "pending",
}
PRIORITY_SYNONYMS = {"medium": "normal", "normal": "normal", "critical": "urgent", "major": "urgent"}

# Which status a case may move to from each status. A closed case is final (Zendesk: a follow-up is
# a new case); a solved case may be reopened or closed; anything not closed may be solved.
ALLOWED_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    "new": frozenset({"open", "pending", "on_hold", "solved"}),
    "open": frozenset({"pending", "on_hold", "solved"}),
    "pending": frozenset({"open", "on_hold", "solved"}),
    "on_hold": frozenset({"open", "pending", "solved"}),
    "solved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}


def is_resolved(status: str) -> bool:
    return status in RESOLVED_STATUSES


def resolved_sql(alias: str = "k") -> str:
    """The SQL predicate "the case is resolved" for the cases table under ``alias``."""
    statuses = ", ".join(f"'{s}'" for s in RESOLVED_STATUSES)
    return f"{alias}.status IN ({statuses})"


def check_priority(priority: str) -> Priority:
    for known in PRIORITIES:
        if priority == known:
            return known
    raise InvalidInput(f"Unknown priority {priority!r}; choose one of {', '.join(PRIORITIES)}.")


def check_status(status: str) -> CaseStatus:
    for known in CASE_STATUSES:
        if status == known:
            return known
    raise InvalidInput(f"Unknown case status {status!r}; choose one of {', '.join(CASE_STATUSES)}.")


@dataclass(frozen=True)
class Case:
    """A case as agents and the loop see it (the read side's typed record)."""

    case_key: int
    case_id: str
    customer_key: int
    source: str
    external_id: str
    channel: str
    subject: str | None
    status: CaseStatus
    priority: Priority | None
    team: str | None
    assignee: str | None
    category: str | None
    created_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int

    @property
    def resolved(self) -> bool:
        return is_resolved(self.status)

    def moved_to(self, status: str, *, at: datetime) -> Case:
        """This case after a status change; refuses a move the status model does not allow."""
        target = check_status(status)
        if target == self.status:
            raise Conflict(f"Case {self.case_id} is {self.status} already.")
        if target not in ALLOWED_TRANSITIONS[self.status]:
            allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[self.status])) or "nothing (it is final)"
            raise Conflict(f"Case {self.case_id} is {self.status}; it can move to {allowed}, not {target}.")
        reopened = self.resolved and not is_resolved(target)
        return replace(
            self,
            status=target,
            solved_at=at if target == "solved" else (None if reopened else self.solved_at),
            closed_at=at if target == "closed" else self.closed_at,
            reopen_count=self.reopen_count + int(reopened),
        )


@dataclass(frozen=True)
class CasesOpened(DomainEvent):
    """New cases were stored (by an import, live tracking or the loop)."""

    source: str
    count: int


@dataclass(frozen=True)
class CasesSolved(DomainEvent):
    """Cases became resolved (solved or closed) — opened so, or moved there."""

    source: str
    count: int


@dataclass(frozen=True)
class CaseEventsRecorded(DomainEvent):
    """Messages, status changes, assignments or handoffs were added to cases."""

    source: str
    count: int
