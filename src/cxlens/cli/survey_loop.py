"""``cxlens surveys loop add|list|disable|status|run`` — closing the loop on unhappy responses
(docs/surveys.md, "Closing the loop")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from cxlens.automation import (
    add_rule,
    disable_rule,
    list_rules,
    loop_summary,
    period_bound,
    recent_followups,
    run_loop,
)
from cxlens.cli.context import DbOption, settings_for, workspace_store
from cxlens.cli.output import OutputFormat, format_option, render_record, render_rows, to_json

app = typer.Typer(
    help="Closing the loop: unhappy responses become follow-up cases; solved ones re-survey the customer.",
    no_args_is_help=True,
)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Short handle for the rule, e.g. nps-detractors."),
    metric: str = typer.Option(..., "--metric", help="nps, csat or ces."),
    team: str = typer.Option(..., "--team", help="The team the follow-up cases go to."),
    max_score: float | None = typer.Option(
        None,
        "--max-score",
        help="Follow up responses scoring at most this (raw score). Default: nps 6, csat 2 (of 1–5), ces 3 (of 1–7).",
    ),
    survey: str | None = typer.Option(None, "--survey", help="Only responses to this survey (default: any)."),
    priority: str = typer.Option(
        "high", "--priority", help="The cases' priority: low, normal, high, urgent."
    ),
    resurvey: bool = typer.Option(
        True, "--resurvey/--no-resurvey", help="Ask the customer again when the follow-up case is solved."
    ),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Follow up responses from now on that score at most --max-score on --metric."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        rule = add_rule(
            uow,
            name=name,
            metric=metric,
            max_score=max_score,
            survey=survey,
            team=team,
            priority=priority,
            resurvey=resurvey,
        )
    render_record(rule, fmt, title="Follow-up rule added")


@app.command("list")
def list_command(db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """Every follow-up rule, enabled ones first."""
    with workspace_store(db) as store, store.session() as s:
        rows = list_rules(s)
    render_rows(rows, fmt, title="Follow-up rules")


@app.command("disable")
def disable(
    name: str = typer.Argument(..., help="The rule's name."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Stop following up new responses (follow-ups already opened still re-survey)."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        rule = disable_rule(uow, name)
    render_record(rule, fmt, title="Follow-up rule disabled")


@app.command("status")
def status(
    since: str | None = typer.Option(
        None, "--since", help="Responses from this date (inclusive), YYYY-MM-DD."
    ),
    until: str | None = typer.Option(
        None, "--until", help="Responses before this date (exclusive), YYYY-MM-DD."
    ),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """How many unhappy responses were followed up, solved, re-surveyed and recovered."""
    start, end = period_bound(since, "--since"), period_bound(until, "--until")
    with workspace_store(db) as store, store.session() as s:
        summary = loop_summary(s, since=start, until=end)
        recent = recent_followups(s, 20, since=start, until=end)
    if fmt is OutputFormat.json:
        print(to_json({**summary, "recent_followups": recent}))
        return
    render_record(summary, fmt, title="Closing the loop")
    if fmt is OutputFormat.table:
        render_rows(recent, fmt, title="Recent follow-ups")


@app.command("run")
def run(db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """One pass: open cases for new unhappy responses, plan re-surveys for solved follow-ups."""
    contact_days = settings_for(db).survey_contact_days
    with workspace_store(db) as store:
        counts = run_loop(store, contact_days=contact_days, now=datetime.now(UTC))
    render_record(dict(counts), fmt, title="Loop pass")
