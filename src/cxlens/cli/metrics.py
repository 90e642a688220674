"""``cxlens metrics [METRIC]`` — any metric by any dimension, over time, with intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cxlens.cli.context import DbOption, settings_for
from cxlens.cli.output import OutputFormat, format_option, render_rows, to_json
from cxlens.errors import InvalidInput
from cxlens.metrics import COLUMNS, MetricResult, parse_filters
from cxlens.workspace import Workspace


def metrics(
    metric: str | None = typer.Argument(None, help="nps, csat, ces, response_count …; omit to list them."),
    by: list[str] = typer.Option([], "--by", help="A dimension to group by (repeat for several)."),
    grain: str | None = typer.Option(None, "--grain", help="day, week, month or quarter."),
    where: list[str] = typer.Option([], "--where", help="FIELD=VALUE filter (repeat; all must hold)."),
    since: str | None = typer.Option(None, "--since", help="From this date (inclusive), YYYY-MM-DD."),
    until: str | None = typer.Option(None, "--until", help="Until this date (exclusive), YYYY-MM-DD."),
    confidence: float = typer.Option(0.95, "--confidence", help="Confidence level of the intervals."),
    against_rest: bool = typer.Option(
        False,
        "--against-rest",
        help="Each value of the one --by dimension against all the others (FDR q-values).",
    ),
    consistency: bool = typer.Option(
        False,
        "--consistency",
        help="Whether the values of the one --by dimension differ at all (omnibus test).",
    ),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """A metric with its sample size, interval and change against the previous period."""
    filters: dict[str, Any] = {"where": parse_filters(where), "since": since, "until": until}
    workspace = Workspace(settings_for(db))
    try:
        if metric is None:
            render_rows(workspace.metrics(), fmt, title="Metrics")
        elif against_rest or consistency:
            _one_dimension(by, grain)
            _across(workspace, metric, by[0], filters | {"confidence": confidence}, consistency, fmt)
        else:
            result = workspace.metric(metric, by=by, grain=grain, confidence=confidence, **filters)
            _render_result(metric, result, fmt)
    finally:
        workspace.close()


def _render_result(metric: str, result: MetricResult, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        print(to_json({"metric": metric, "unit": result.unit, "test": result.test, "rows": result.rows}))
        return
    shape = _flat if fmt is OutputFormat.csv else _compact
    render_rows([shape(row) for row in result.rows], fmt, title=f"{metric} ({result.unit})")


def _across(
    workspace: Workspace, metric: str, dim: str, filters: dict[str, Any], omnibus: bool, fmt: OutputFormat
) -> None:
    if omnibus:
        record = workspace.consistency(metric, by=dim, **filters)
        if fmt is OutputFormat.json:
            print(to_json(record))
        else:
            render_rows([record], fmt, title=f"Do the {dim} values differ on {metric}?")
        return
    rows = workspace.compare(metric, by=dim, **filters)
    if fmt is OutputFormat.json:
        print(to_json({"metric": metric, "dimension": dim, "rows": rows}))
        return
    shape = (lambda r: {**r, "flags": ", ".join(r["flags"])}) if fmt is OutputFormat.csv else _compact_rest
    render_rows([shape(r) for r in rows], fmt, title=f"{metric}: each {dim} against the rest")


def _compact_rest(row: dict[str, Any]) -> dict[str, Any]:
    figures = {"n", "value", "ci_low", "ci_high", "rest_n", "rest_value", "difference", "p_value", "q_value"}
    out = {k: v for k, v in row.items() if k not in figures | {"significant", "flags"}}
    out.update(
        {
            "n": row["n"],
            "value": _fmt(row["value"]),
            "interval": f"{_fmt(row['ci_low'])} – {_fmt(row['ci_high'])}",
            "rest": _fmt(row["rest_value"]),
            "difference": _fmt(row["difference"], signed=True),
            "q": "" if row["q_value"] is None else f"{row['q_value']:.3f}",
            "sig.": "yes" if row["significant"] else "",
            "flags": ", ".join(row["flags"]),
        }
    )
    return out


def _one_dimension(by: list[str], grain: str | None) -> None:
    if len(by) != 1 or grain is not None:
        raise InvalidInput("--against-rest and --consistency take exactly one --by dimension and no --grain.")


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


_FIGURES = set(COLUMNS)


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
