"""Vega-Lite specs for the pages, built with Altair from metric rows (rendered by vega-embed).

Specs are built without schema validation (``validate=False``): they come from a few fixed
builders covered by tests, and validation costs tens of milliseconds per chart on every page.
"""

from __future__ import annotations

from typing import Any

import altair as alt

_WIDTH_SPARK, _HEIGHT_SPARK = 160, 36


def _values(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """Plain JSON-able records: periods as ISO text, dimensions as text (None → "(none)")."""
    out = []
    for row in rows:
        record = {k: (row[k].isoformat() if hasattr(row.get(k), "isoformat") else row.get(k)) for k in keys}
        for key in keys:
            if key not in ("period", "value", "ci_low", "ci_high", "n") and record[key] is None:
                record[key] = "(none)"
        out.append(record)
    return out


def sparkline(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """A tiny trend line of a metric by period (no axes), with each point's n in the tooltip."""
    data = {"values": _values(rows, ["period", "value", "n"])}
    chart = (
        alt.Chart(data, width=_WIDTH_SPARK, height=_HEIGHT_SPARK, description=f"{title}: trend by month")
        .mark_line(point=alt.OverlayMarkDef(size=12), strokeWidth=2)
        .encode(
            x=alt.X("period:T", axis=None),
            y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False)),
            tooltip=[
                alt.Tooltip("period:T", title="Month", format="%b %Y"),
                alt.Tooltip("value:Q", title=title, format=".1f"),
                alt.Tooltip("n:Q", title="n"),
            ],
        )
        .configure_view(stroke=None)
    )
    spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec


def metric_chart(
    rows: list[dict[str, Any]], *, title: str, unit: str, by: list[str], grain: str | None
) -> dict[str, Any]:
    """Explorer chart: a line per group over time (with its interval as a band), or a bar per group
    with its interval as an error bar when there is no time grain."""
    series = by[0] if by else None
    keys = ["value", "ci_low", "ci_high", "n", *by, *(["period"] if grain else [])]
    data = {"values": _values(rows, keys)}
    tooltip = [
        *(alt.Tooltip(f"{d}:N", title=d) for d in by),
        *([alt.Tooltip("period:T", title="Period")] if grain else []),
        alt.Tooltip("value:Q", title=title, format=".2f"),
        alt.Tooltip("ci_low:Q", title="interval low", format=".2f"),
        alt.Tooltip("ci_high:Q", title="interval high", format=".2f"),
        alt.Tooltip("n:Q", title="n"),
    ]
    base = alt.Chart(data, width="container", height=280, description=f"{title} ({unit})")
    color = alt.Color(f"{series}:N", title=series) if series else alt.value("#2563eb")
    if grain:
        x = alt.X("period:T", title=None)
        band = base.mark_area(opacity=0.15).encode(x=x, y="ci_low:Q", y2="ci_high:Q", color=color)
        line = base.mark_line(point=True).encode(
            x=x, y=alt.Y("value:Q", title=unit, scale=alt.Scale(zero=False)), color=color, tooltip=tooltip
        )
        chart = alt.layer(band, line)
    else:
        category = (
            alt.X(f"{series}:N", title=series, sort="-y") if series else alt.X("n:O", title=None, axis=None)
        )
        bars = base.mark_bar().encode(
            x=category, y=alt.Y("value:Q", title=unit), color=color, tooltip=tooltip
        )
        errors = base.mark_rule(color="#111827").encode(x=category, y="ci_low:Q", y2="ci_high:Q")
        chart = alt.layer(bars, errors)
    spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec
