"""Cases: support requests and their events (messages, status changes, assignments, handoffs).

The slice owns the ``cases`` and ``case_events`` tables: the importer, the adapters and the loop
write through ``service``; metrics, triggers and the loop read "resolved" from ``model``.
"""

from cxlens.cases.model import (
    ALLOWED_TRANSITIONS,
    CASE_EVENT_KINDS,
    CASE_STATUSES,
    PRIORITIES,
    RESOLVED_STATUSES,
    Case,
    CaseEventsRecorded,
    CasesOpened,
    CasesSolved,
    is_resolved,
    resolved_sql,
)
from cxlens.cases.queries import access_case, list_customer_cases
from cxlens.cases.service import open_cases, record_case_events, update_cases

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CASE_EVENT_KINDS",
    "CASE_STATUSES",
    "PRIORITIES",
    "RESOLVED_STATUSES",
    "Case",
    "CaseEventsRecorded",
    "CasesOpened",
    "CasesSolved",
    "access_case",
    "is_resolved",
    "list_customer_cases",
    "open_cases",
    "record_case_events",
    "resolved_sql",
    "update_cases",
]
