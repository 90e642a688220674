"""URLs of the pages, built in one place: a user-named value (a survey's name, a customer id) is
one percent-encoded path segment, so "NPS quarterly" or an id with a slash still reaches its route,
which receives the value decoded. Templates reach these as globals."""

from __future__ import annotations

from urllib.parse import quote


def _segment(value: str) -> str:
    return quote(value, safe="")


def survey_url(name: str, *rest: str) -> str:
    """``/surveys/<name>/<rest…>`` with the name percent-encoded."""
    return "/".join(("/surveys", _segment(name), *rest))


def timeline_anchor(item_id: str) -> str:
    """The HTML id of a timeline entry on the Customer 360 page (a case's entry: its case id)."""
    return "item-" + item_id


def customer_url(customer_id: str, *, anchor: str | None = None) -> str:
    """The Customer 360 page, at one timeline entry when ``anchor`` names it."""
    return f"/customers/{_segment(customer_id)}" + (f"#{quote(anchor, safe='')}" if anchor else "")
