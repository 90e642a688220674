"""Reading cases as typed records; ``access_case`` is the only fetch of a case a user names."""

from __future__ import annotations

from typing import Any

from cxlens.cases.model import Case, check_priority, check_status
from cxlens.errors import NotFound
from cxlens.storage.store import Session

_COLUMNS = (
    "case_key, case_id, customer_key, source, external_id, channel, subject, status, priority, team, "
    "assignee, category, created_at, first_response_at, solved_at, closed_at, reopen_count"
)


def access_case(s: Session, case_id: str) -> Case:
    """The case with public id ``case_id`` (``case_…``); NotFound for an unknown id."""
    row = s.fetch_one(f"SELECT {_COLUMNS} FROM cases WHERE case_id = ?", [case_id])
    if row is None:
        raise NotFound(f"No case {case_id!r}.")
    return _case(row)


def list_customer_cases(s: Session, canonical_key: int) -> list[Case]:
    """Every case of the profiles merged into ``canonical_key``, newest first."""
    rows = s.fetch_all(
        f"SELECT {_COLUMNS} FROM cases WHERE customer_key IN "
        "(SELECT customer_key FROM customers WHERE canonical_key = ?) ORDER BY created_at DESC, case_key DESC",
        [canonical_key],
    )
    return [_case(r) for r in rows]


def _case(row: dict[str, Any]) -> Case:
    priority = row["priority"]
    return Case(
        **{**row, "status": check_status(row["status"]), "priority": priority and check_priority(priority)}
    )
