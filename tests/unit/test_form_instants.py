"""Dates typed into forms and query strings (the loop page's period, the responses filter) are held to
the range every stored instant has (core/instants.py): out of it they are a reported problem, never
an OverflowError."""

from __future__ import annotations

import pytest

from cxlens.automation.loop_queries import period_bound
from cxlens.errors import InvalidInput
from cxlens.surveys.responses import parse_filter


@pytest.mark.parametrize("text", ["0001-01-02", "9999-12-31", "0001-01-01T00:00:00+14:00"])
def test_a_loop_period_outside_the_range_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="outside the supported range"):
        period_bound(text, "since")


def test_a_loop_period_inside_the_range_is_kept() -> None:
    bound = period_bound("2024-05-31", "since")
    assert bound is not None and bound.isoformat() == "2024-05-31T00:00:00+00:00"


@pytest.mark.parametrize(
    ("key", "text"), [("since", "0001-01-02"), ("until", "9999-12-31"), ("until", "2200-06-01")]
)
def test_a_responses_filter_outside_the_range_is_a_reported_problem(key: str, text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter({key: text})
    assert caught.value.data["problems"][0]["field"] == key
    assert "1900 to 2199" in caught.value.message
