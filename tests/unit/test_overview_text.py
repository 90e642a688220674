"""The overview's words for a change: counts as whole numbers, every change with its unit, never
"-0.0", and no verdict where nothing was compared (web/overview.py, pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from cxlens.web.overview import TILES, _tile_dict

_BY_KEY = {tile.key: tile for tile in TILES}


def _row(value: float, change: float | None, previous: float | None, p: float | None = 0.2) -> dict[str, Any]:
    return {
        "n": 500,
        "value": value,
        "ci_low": value - 1,
        "ci_high": value + 1,
        "change": change,
        "previous_value": previous,
        "p_value": p if change is not None else None,
        "significant": False,
        "flags": [],
    }


@pytest.mark.parametrize(
    ("key", "value", "change", "previous", "text"),
    [
        ("cases", 5000.0, 1094.0, 3906.0, "+1,094 (+28.0%) vs the 90 days before"),
        ("responses", 800.0, -12.0, 812.0, "-12 (-1.5%) vs the 90 days before"),
        ("nps", 31.2, 3.24, 27.96, "+3.2 points vs the 90 days before"),
        ("nps", 31.2, -0.04, 31.24, "+0.0 points vs the 90 days before"),
        ("csat", 81.0, 1.5, 79.5, "+1.5 percentage points vs the 90 days before"),
        ("ces", 5.1, 0.123, 4.977, "+0.12 points vs the 90 days before"),
        ("ttr", 20.0, -2.54, 22.54, "-2.5 hours vs the 90 days before"),
        ("fcr", 70.0, -0.01, 70.01, "+0.0 percentage points vs the 90 days before"),
    ],
)
def test_a_change_carries_its_unit_and_counts_are_whole(
    key: str, value: float, change: float, previous: float, text: str
) -> None:
    tile = _tile_dict(_BY_KEY[key], _row(value, change, previous), [], "the 90 days before")
    assert tile["change_text"].startswith(text), tile["change_text"]
    assert "-0.0" not in tile["change_text"] and ".0 vs" not in tile["change_text"].replace("+0.0 ", "")


def test_nothing_to_compare_with_is_said_and_never_judged() -> None:
    tile = _tile_dict(_BY_KEY["cases"], _row(17517.0, None, None), [], "the 365 days before")
    assert tile["change_text"] == "nothing to compare with in the 365 days before"
    assert not tile["significant"] and tile["direction"] is None


def test_a_score_near_zero_never_prints_minus_zero() -> None:
    tile = _tile_dict(_BY_KEY["nps"], _row(-0.3, 0.1, -0.4), [], "the 90 days before")
    assert tile["value_text"] == "+0"


@pytest.mark.parametrize(
    ("key", "change", "direction"),
    [
        ("nps", -0.04, None),
        ("fcr", 0.01, None),
        ("ces", 0.004, None),
        ("cases", 0.4, None),
        ("nps", 0.06, "up"),
        ("ttr", -0.05, "down"),
        ("cases", -1.0, "down"),
    ],
)
def test_the_arrow_follows_the_printed_change(key: str, change: float, direction: str | None) -> None:
    """ "+0.0 points ▼" would contradict itself: a change that rounds to zero gets no arrow."""
    tile = _tile_dict(_BY_KEY[key], _row(50.0, change, 50.0 - change), [], "the 90 days before")
    assert tile["direction"] == direction
