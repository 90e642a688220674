"""``/customers``: search, and the Customer 360 — profile, identities, merges, unified timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from cxlens.auth import Permission
from cxlens.customers import access_customer, search_customers
from cxlens.errors import InvalidInput
from cxlens.interactions import get_timeline
from cxlens.web.deps import Reader
from cxlens.web.pages.render import is_fragment, render
from cxlens.web.security import require

router = APIRouter(include_in_schema=False, dependencies=[Depends(require(Permission.view_customers))])
PAGE = 25


@router.get("/customers")
def customers(request: Request, s: Reader, q: Annotated[str, Query(max_length=200)] = "") -> Response:
    results, error = [], None
    if q.strip():
        try:
            results = search_customers(s, q.strip(), limit=50)
        except InvalidInput as problem:
            error = problem.message
    template = "customer_results.html" if is_fragment(request) else "customers.html"
    return render(request, template, q=q, results=results, error=error)


@router.get("/customers/{customer_id}")
def customer(request: Request, s: Reader, customer_id: str) -> Response:
    profile = access_customer(s, customer_id)
    page = get_timeline(s, profile.customer_key, limit=PAGE)
    return render(request, "customer.html", customer=profile, items=page.items, next_cursor=page.next_cursor)


@router.get("/customers/{customer_id}/timeline")
def timeline(request: Request, s: Reader, customer_id: str, before: str | None = None) -> Response:
    """The next page of the timeline, as rows to append (HTMX) — or the whole page without HTMX."""
    profile = access_customer(s, customer_id)
    page = get_timeline(s, profile.customer_key, before=before, limit=PAGE)
    template = "timeline_items.html" if is_fragment(request) else "customer.html"
    return render(request, template, customer=profile, items=page.items, next_cursor=page.next_cursor)
