"""``cxlens customers show|search|merge|unmerge`` — Customer 360 in the terminal."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer

from cxlens.cli.context import DbOption, workspace_store
from cxlens.cli.output import OutputFormat, console, format_option, render_record, render_rows, to_json
from cxlens.customers import access_customer, merge_customers, search_customers, unmerge
from cxlens.interactions import TimelineItem, get_timeline

app = typer.Typer(
    help="Find customers, see their 360 view, merge and unmerge profiles.", no_args_is_help=True
)


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="Customer id, email, phone or any identity value."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=1000, help="Timeline items per page."),
    before: str | None = typer.Option(None, "--before", help="Cursor of the next page (printed below)."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Profile, identities, merges and the unified timeline (newest first, paged)."""
    with workspace_store(db) as store, store.session() as s:
        profile = access_customer(s, ref)
        page = get_timeline(s, profile.customer_key, before=before, limit=limit)
    shown = profile.public()
    if fmt is OutputFormat.json:
        timeline = [asdict(item) for item in page.items]
        print(to_json({"customer": shown, "timeline": timeline, "next_cursor": page.next_cursor}))
        return
    if fmt is OutputFormat.csv:
        render_rows(page.items, fmt)
        return
    del shown["identities"], shown["merges"]
    render_record(shown, fmt, title="Customer")
    render_rows(profile.identities, fmt, title="Identities")
    if profile.merges:
        render_rows(profile.merges, fmt, title="Merges")
    render_rows([_timeline_row(i) for i in page.items], fmt, title="Timeline (newest first)")
    if page.next_cursor:
        console.print(f"More: cxlens customers show {ref} --before {page.next_cursor}", markup=False)


def _timeline_row(item: TimelineItem) -> dict[str, Any]:
    score = "" if item.score is None else f"{item.metric or ''} {item.score:g}".strip()
    return {
        "when": item.occurred_at,
        "type": item.type,
        "channel": item.channel,
        "what": item.title,
        "stage": item.stage,
        "score": score,
        "text": (item.text or "")[:120],
        "case": item.case_id,
    }


@app.command("search")
def search(
    text: str = typer.Argument(..., help="Part of a name, or an email, phone, user id or external id."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=500, help="How many customers at most."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Find customers by name or by any identity value."""
    with workspace_store(db) as store, store.session() as s:
        rows = search_customers(s, text, limit=limit)
    render_rows(rows, fmt, title=f"Customers matching {text!r}")


@app.command("merge")
def merge(
    winner: str = typer.Argument(..., help="The customer that remains."),
    loser: str = typer.Argument(..., help="The customer merged into it."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Merge customer B into customer A (audited; undo with `cxlens customers unmerge`)."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        record = merge_customers(uow, winner_ref=winner, loser_ref=loser, actor="cli")
    render_record(record, fmt, title="Merged")


@app.command("unmerge")
def unmerge_command(
    merge_id: str = typer.Argument(..., help="The merge to undo (see `customers show`)."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Undo a merge, restoring both customers' timelines exactly."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        record = unmerge(uow, merge_id=merge_id, actor="cli")
    render_record(record, fmt, title="Unmerged")
