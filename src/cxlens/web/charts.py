"""Vega-Lite specs for the pages, built with Altair from metric rows (rendered by vega-embed).

Specs are built without schema validation (``validate=False``): they come from a few fixed
builders covered by tests, and validation costs tens of milliseconds per chart on every page.

Field names in a spec are our own (``g0``, ``g1`` … for the dimensions): a dimension's name is
data, and Altair reads ``customer:plan`` as the field ``customer`` of type ``plan`` while Vega-Lite
reads dots and brackets as paths into nested objects. The dimension's own name is the title.
"""

from __future__ import annotations

from datetime import UTC
from math import ceil
from typing import Any

import altair as alt

_WIDTH_SPARK, _HEIGHT_SPARK = 160, 36
_HEIGHT = 280
_INK, _ACCENT, _SMALL_MARK = "#111827", "#2563eb", "#6b7280"
# Readable chart text: Vega-Lite's 10–11 px defaults render at about 9 px in a container chart.
_AXIS = {"labelFontSize": 12, "titleFontSize": 13, "labelColor": "#374151", "titleColor": _INK}
_LEGEND = {"labelFontSize": 12, "titleFontSize": 13, "labelLimit": 220}
# Ticks fall on the periods of the grain, labelled in a format that names such a period.
_PERIOD_FORMAT = {"day": "%d %b", "week": "%d %b", "month": "%b %Y", "quarter": "%b %Y"}
_MAX_TICKS = 12
_FIGURES = ("period", "value", "ci_low", "ci_high", "n")


def _field(i: int) -> str:
    return f"g{i}"


def _values(rows: list[dict[str, Any]], keys: list[str], by: list[str]) -> list[dict[str, Any]]:
    """Plain JSON-able records: periods as ISO text, dimensions as text under their own field names
    (None → "(none)"), and ``small`` for a figure flagged as a small sample."""
    out = []
    for row in rows:
        record = {k: (row[k].isoformat() if hasattr(row.get(k), "isoformat") else row.get(k)) for k in keys}
        for i, dim in enumerate(by):
            value = row.get(dim)
            record[_field(i)] = "(none)" if value is None else str(value)
        record["small"] = "small_n" in (row.get("flags") or ())
        out.append(record)
    return out


def _configured(chart: Any) -> dict[str, Any]:
    spec: dict[str, Any] = (
        chart.configure_axis(**_AXIS)
        .configure_legend(**_LEGEND)
        .configure_view(stroke=None)
        .to_dict(validate=False)
    )
    return spec


def sparkline(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """A tiny trend line of a metric by period (no axes), with each point's n in the tooltip."""
    data = {"values": _values(rows, ["period", "value", "n"], [])}
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


def _tooltip(title: str, by: list[str], *, grain: str | None) -> list[alt.Tooltip]:
    return [
        *(alt.Tooltip(f"{_field(i)}:N", title=dim) for i, dim in enumerate(by)),
        *(
            [alt.Tooltip("period:T", title="Period", format=_PERIOD_FORMAT[grain], formatType="utc")]
            if grain
            else []
        ),
        alt.Tooltip("value:Q", title=title, format=".2f"),
        alt.Tooltip("ci_low:Q", title="95% interval from", format=".2f"),
        alt.Tooltip("ci_high:Q", title="95% interval to", format=".2f"),
        alt.Tooltip("n:Q", title="n"),
        alt.Tooltip("small:N", title="small sample"),
    ]


def _time_axis(rows: list[dict[str, Any]], grain: str) -> alt.X:
    """Time on x (UTC: periods are UTC), a tick at the start of every period of the grain — every
    k-th when there are many. The ticks are the periods themselves: Vega's own week ticks fall on
    Sundays, ours start on Monday."""
    periods = sorted({_utc_moment(row["period"]) for row in rows if row.get("period") is not None})
    every = max(1, ceil(len(periods) / _MAX_TICKS))
    axis = alt.Axis(
        values=[alt.DateTime(year=p.year, month=p.month, date=p.day, utc=True) for p in periods[::every]],
        format=_PERIOD_FORMAT[grain],
        labelOverlap="greedy",
    )
    return alt.X("period:T", title=None, axis=axis, scale=alt.Scale(type="utc"))


def _utc_moment(moment: Any) -> Any:
    return moment.astimezone(UTC) if getattr(moment, "tzinfo", None) else moment


def _points(base: alt.Chart, x: alt.X, y: alt.Y, color: Any, opacity: Any, tooltip: Any) -> Any:
    """The line's points; a small sample's point is hollow (an indication, not a fact)."""
    return base.mark_point(filled=True, size=40, strokeWidth=1.5).encode(
        x=x,
        y=y,
        stroke=color,
        fill=alt.condition(alt.datum.small, alt.value("#ffffff"), color),
        opacity=opacity,
        tooltip=tooltip,
    )


def _lines(
    base: alt.Chart, rows: list[dict[str, Any]], *, unit: str, by: list[str], grain: str, tooltip: Any
) -> Any:
    """A line per group with its interval band. With several groups the bands would overlap into
    a haze: only the group picked in the legend (or pointed at) shows its band, the others dim."""
    x = _time_axis(rows, grain)
    y = alt.Y("value:Q", title=unit, scale=alt.Scale(zero=False))
    if not by:
        band = base.mark_area(opacity=0.15, color=_ACCENT).encode(x=x, y="ci_low:Q", y2="ci_high:Q")
        line = base.mark_line(color=_ACCENT).encode(x=x, y=y)
        return alt.layer(band, line, _points(base, x, y, alt.value(_ACCENT), alt.value(1.0), tooltip))
    series = _field(0)
    # The legend's symbols keep full colour: the marks' opacity follows the pick, the key must not.
    # Below the chart, in columns: on a phone a legend at the side takes half the plot's width.
    legend = alt.Legend(symbolOpacity=1, orient="bottom", direction="horizontal", columns=4)
    color = alt.Color(f"{series}:N", title=by[0], legend=legend)
    picked = alt.selection_point(fields=[series], bind="legend", on="pointerover", clear="pointerout")
    dimmed = alt.condition(picked, alt.value(1.0), alt.value(0.25))
    band = base.mark_area().encode(
        x=x,
        y="ci_low:Q",
        y2="ci_high:Q",
        color=color,
        opacity=alt.condition(picked, alt.value(0.2), alt.value(0.0), empty=False),
    )
    line = base.mark_line().encode(x=x, y=y, color=color, opacity=dimmed)
    return alt.layer(band, line, _points(base, x, y, color, dimmed, tooltip).add_params(picked))


def _bars(base: alt.Chart, *, unit: str, by: list[str], tooltip: Any) -> Any:
    """A bar per group with its interval. A small sample's bar is pale and outlined, with
    "small n" above it: its height is an indication, not a fact."""
    category = (
        alt.X(
            f"{_field(0)}:N",
            title=by[0],
            sort=alt.EncodingSortField(field="value", op="max", order="descending"),
            axis=alt.Axis(labelAngle=-30, labelLimit=160),
        )
        if by
        else alt.X("n:O", title=None, axis=None)
    )
    small = alt.datum.small
    bars = base.mark_bar(stroke=_SMALL_MARK, strokeDash=[4, 3]).encode(
        x=category,
        y=alt.Y("value:Q", title=unit),
        color=alt.Color(f"{_field(0)}:N", title=by[0], legend=None) if by else alt.value(_ACCENT),
        opacity=alt.condition(small, alt.value(0.35), alt.value(1.0)),
        strokeWidth=alt.condition(small, alt.value(1.5), alt.value(0.0)),
        tooltip=tooltip,
    )
    errors = base.mark_rule(color=_INK).encode(x=category, y="ci_low:Q", y2="ci_high:Q")
    marks = (
        base.transform_filter(small)
        .mark_text(dy=-8, fontSize=12, color=_SMALL_MARK)
        .encode(x=category, y="ci_high:Q", text=alt.value("small n"))
    )
    return alt.layer(bars, errors, marks)


def metric_chart(
    rows: list[dict[str, Any]], *, title: str, unit: str, by: list[str], grain: str | None
) -> dict[str, Any]:
    """Explorer chart: a line per group over time (with its interval as a band), or a bar per group
    with its interval as an error bar when there is no time grain."""
    keys = [k for k in _FIGURES if k != "period" or grain]
    data = {"values": _values(rows, keys, by)}
    base = alt.Chart(data, width="container", height=_HEIGHT, description=f"{title} ({unit})")
    tooltip = _tooltip(title, by, grain=grain)
    if grain:
        chart = _lines(base, rows, unit=unit, by=by, grain=grain, tooltip=tooltip)
    else:
        chart = _bars(base, unit=unit, by=by, tooltip=tooltip)
    return _configured(chart)


def retention_chart(rows: list[dict[str, Any]], *, title: str, by: list[str]) -> dict[str, Any]:
    """Retention as the usual cohort grid: a row per signup cohort (and group), a cell per month
    of age, its shade the share still a customer. Retention rows have no period, so the line
    chart's time axis had nothing to draw."""
    values = []
    for record, row in zip(_values(rows, ["value", "ci_low", "ci_high", "n"], by), rows, strict=True):
        groups = [record[_field(i)] for i in range(len(by))]
        values.append({**record, "cohort": " · ".join([str(row["cohort"]), *groups]), "age": row["age"]})
    cohorts = len({v["cohort"] for v in values})
    chart = (
        alt.Chart({"values": values}, width="container", height=max(120, 18 * cohorts), description=title)
        .mark_rect()
        .encode(
            x=alt.X("age:O", title="Months since signup", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("cohort:O", title="Signup cohort", sort="descending"),
            color=alt.Color("value:Q", title="% retained", scale=alt.Scale(scheme="blues", domain=[0, 100])),
            tooltip=[
                alt.Tooltip("cohort:O", title="Cohort"),
                alt.Tooltip("age:O", title="Months since signup"),
                alt.Tooltip("value:Q", title="% retained", format=".1f"),
                alt.Tooltip("ci_low:Q", title="95% interval from", format=".1f"),
                alt.Tooltip("ci_high:Q", title="95% interval to", format=".1f"),
                alt.Tooltip("n:Q", title="cohort size"),
            ],
        )
    )
    return _configured(chart)
