"""``/api/customers``: search, Customer 360 and the timeline."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from cxlens.customers import access_customer, search_customers
from cxlens.interactions import get_timeline
from cxlens.web.deps import Reader

router = APIRouter(prefix="/api/customers", tags=["customers"])


@router.get("")
def search(
    s: Reader, q: Annotated[str, Query(min_length=1, max_length=200)], limit: int = Query(20, ge=1, le=200)
) -> dict[str, Any]:
    return {"items": [asdict(match) for match in search_customers(s, q, limit=limit)]}


@router.get("/{customer_id}")
def show(s: Reader, customer_id: str) -> dict[str, Any]:
    return access_customer(s, customer_id).public()


@router.get("/{customer_id}/timeline")
def timeline(
    s: Reader, customer_id: str, before: str | None = None, limit: int = Query(50, ge=1, le=500)
) -> dict[str, Any]:
    profile = access_customer(s, customer_id)
    page = get_timeline(s, profile.customer_key, before=before, limit=limit)
    return {
        "customer_id": profile.customer_id,
        "items": [asdict(item) for item in page.items],
        "next_cursor": page.next_cursor,
    }
