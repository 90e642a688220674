"""``cxlens surveys widget create|list|revoke`` and ``cxlens surveys public-link`` — the web widget
and a survey's public link (docs/surveys.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from cxlens.bootstrap import widget_settings
from cxlens.cli.context import DbOption, settings_for, workspace_store
from cxlens.cli.output import OutputFormat, console, format_option, render_record, render_rows, to_json
from cxlens.surveys import Widget, create_widget, list_widgets, public_link_url, revoke_widget, script_tag

widgets = typer.Typer(help="Web widgets: one <script> tag shows a survey in a small panel on your site.")


def _shown(widget: Widget) -> dict[str, Any]:
    shown = widget.public()
    del shown["survey_archived_at"]
    return shown


@widgets.command("create")
def create(
    survey: str = typer.Argument(..., help="Survey name or id."),
    origins: list[str] = typer.Option(
        ..., "--origin", help="A site allowed to show it, e.g. https://shop.example.com (repeatable)."
    ),
    touchpoint: str | None = typer.Option(
        None, "--touchpoint", help="The moment asked about, e.g. checkout."
    ),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """A widget for SURVEY on the given origins; prints the script tag to paste into the site."""
    settings = widget_settings(settings_for(db))
    with workspace_store(db) as store, store.unit_of_work() as uow:
        widget = create_widget(uow, survey=survey, origins=origins, touchpoint=touchpoint)
    tag = script_tag(settings.public_url, widget.key)
    if fmt is OutputFormat.json:
        print(to_json({**_shown(widget), "script": tag}))
        return
    render_record(_shown(widget), fmt, title="Widget created")
    console.print('Paste into the site\'s pages (add data-user-id="…" for signed-in visitors):', markup=False)
    console.print(tag, markup=False, highlight=False, soft_wrap=True)


@widgets.command("list")
def list_command(db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """Every widget: its survey, origins, state, and how often it was shown and answered."""
    with workspace_store(db) as store, store.session() as s:
        rows = [_shown(w) for w in list_widgets(s)]
    if fmt is not OutputFormat.json:
        rows = [{**r, "origins": " ".join(r["origins"])} for r in rows]
    render_rows(rows, fmt, title="Widgets")


@widgets.command("revoke")
def revoke(
    key: str = typer.Argument(..., help="The widget's key, cxw_…"),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Stop showing a widget: pages that still carry its tag show nothing."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        widget = revoke_widget(uow, key)
    render_record(_shown(widget), fmt, title="Widget revoked")


def public_link(
    survey: str = typer.Argument(..., help="Survey name or id."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """The survey's public link: anyone who opens it may answer (anonymously)."""
    settings = widget_settings(settings_for(db))
    with workspace_store(db) as store, store.session() as s:
        url = public_link_url(s, survey, settings)
    if fmt is OutputFormat.json:
        print(to_json({"survey": survey, "url": url}))
        return
    print(url)


def register(app: typer.Typer) -> None:
    app.add_typer(widgets, name="widget")
    app.command("public-link")(public_link)
