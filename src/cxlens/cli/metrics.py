"""``cxlens metrics [METRIC]`` — any metric by any dimension, over time, with intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cxlens.cli.context import DbOption, settings_for
from cxlens.cli.output import OutputFormat, format_option, render_rows, to_json
from cxlens.metrics.spec import parse_filters
from cxlens.workspace import Workspace


def metrics(
    metric: str | None = typer.Argument(None, help="nps, csat, ces, response_count …; omit to list them."),
    by: list[str] = typer.Option([], "--by", help="A dimension to group by (repeat for several)."),
    grain: str | None = typer.Option(None, "--grain", help="day, week, month or quarter."),
    where: list[str] = typer.Option([], "--where", help="FIELD=VALUE filter (repeat; all must hold)."),
    since: str | None = typer.Option(None, "--since", help="From this date (inclusive), YYYY-MM-DD."),
    until: str | None = typer.Option(None, "--until", help="Until this date (exclusive), YYYY-MM-DD."),
    confidence: float = typer.Option(0.95, "--confidence", help="Confidence level of the intervals."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """A metric with its sample size, interval and change against the previous period."""
    workspace = Workspace(settings_for(db))
    try:
        if metric is None:
            render_rows(workspace.metrics(), fmt, title="Metrics")
            return
        result = workspace.metric(
            metric,
            by=by,
            grain=grain,
            where=parse_filters(where),
            since=since,
            until=until,
            confidence=confidence,
        )
    finally:
        workspace.close()
    if fmt is OutputFormat.json:
        print(to_json({"metric": metric, "unit": result.unit, "test": result.test, "rows": result.rows}))
        return
    shape = _flat if fmt is OutputFormat.csv else _compact
    render_rows([shape(row) for row in result.rows], fmt, title=f"{metric} ({result.unit})")


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    """The table: what a reader scans (components are in the JSON and CSV)."""
    out = {k: v for k, v in row.items() if k not in _FIGURES}
    if "period" in out:
        out["period"] = out["period"].date().isoformat()
    out["n"] = row["n"]
    out["value"] = _fmt(row["value"])
    out["interval"] = f"{_fmt(row['ci_low'])} – {_fmt(row['ci_high'])}"
    out["change"] = _fmt(row["change"], signed=True)
    out["p"] = "" if row["p_value"] is None else f"{row['p_value']:.3f}"
    out["sig."] = "yes" if row["significant"] else ""
    out["flags"] = ", ".join(row["flags"])
    return out


_FIGURES = {
    "n",
    "value",
    "ci_low",
    "ci_high",
    "components",
    "previous_value",
    "change",
    "p_value",
    "significant",
    "flags",
}


def _fmt(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """CSV: every figure, components as ``c.<name>`` columns."""
    flat = {k: v for k, v in row.items() if k not in ("components", "flags")}
    flat["flags"] = ", ".join(row["flags"])
    flat.update({f"c.{k}": v for k, v in row["components"].items()})
    return flat
