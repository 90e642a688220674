"""``cxlens sources create|list|revoke`` — write keys for the tracking API, each of a kind
(server or browser: docs/api.md, "Server and browser sources")."""

from __future__ import annotations

from pathlib import Path

import typer

from cxlens.cli.context import DbOption, workspace_store
from cxlens.cli.output import OutputFormat, console, format_option, render_rows, to_json
from cxlens.sources import SourceKind, create_source, list_sources, revoke_source

app = typer.Typer(
    help="Sources that send events to the tracking API, and their write keys.", no_args_is_help=True
)


_KIND_HELP = (
    "server: the key stays on your servers, and its calls may rename and merge profiles. "
    "browser: the key ships in a web page or an app (anyone can read it), so its calls may link "
    "anonymous ids and add traits, but never merge identified profiles or overwrite what a server "
    "source or an import set."
)


@app.command("create")
def create(
    name: str = typer.Argument(
        ..., help="Source name, e.g. website or ios-app; it labels every event it sends."
    ),
    kind: SourceKind = typer.Option(SourceKind.server, "--kind", help=_KIND_HELP),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Create a source and print its new write key (shown once; only its hash is stored)."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        created = create_source(uow, name, kind=kind)
    if fmt is OutputFormat.json:
        print(
            to_json(
                {
                    "name": created.name,
                    "kind": created.kind.value,
                    "write_key": created.write_key,
                    "reactivated": created.reactivated,
                }
            )
        )
        return
    if fmt is OutputFormat.csv:
        render_rows([{"name": created.name, "kind": created.kind.value, "write_key": created.write_key}], fmt)
        return
    verb = "has a new key" if created.reactivated else "created"
    console.print(
        f"{created.kind.value.capitalize()} source {created.name} {verb}. "
        "Its write key (shown only now — store it safely):",
        markup=False,
    )
    console.print(created.write_key, markup=False, highlight=False)
    console.print(
        "Point a Segment or RudderStack library at this server with it, e.g. in Python:\n"
        "  analytics.write_key = '<key>'; analytics.host = 'http://127.0.0.1:8000'",
        markup=False,
    )
    if created.kind is SourceKind.server:
        console.print(
            "A server key must never ship in a web page or an app; for those, create a source with "
            "--kind browser.",
            markup=False,
        )


# `sources add` reads as naturally as `create`; one command, two names.
app.command("add", hidden=True)(create)


@app.command("list")
def list_command(db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """Sources with their key hint, state and events over the deduplication window."""
    with workspace_store(db) as store, store.session() as s:
        rows = list_sources(s)
    render_rows(rows, fmt, title="Sources")


@app.command("revoke")
def revoke(
    name: str = typer.Argument(..., help="The source whose key stops working."), db: Path | None = DbOption
) -> None:
    """Revoke a source's write key; `sources create NAME` later issues a new one."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        revoke_source(uow, name)
    console.print(f"Source {name} revoked: its key no longer works.", markup=False)
