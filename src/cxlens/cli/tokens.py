"""``cxlens tokens create|list|revoke`` — API tokens for programs calling the JSON API."""

from __future__ import annotations

from pathlib import Path

import typer

from cxlens.auth import create_token, list_tokens, parse_role, revoke_token
from cxlens.cli.context import DbOption, workspace_store
from cxlens.cli.output import OutputFormat, console, format_option, render_rows, to_json

app = typer.Typer(help="API tokens: programs calling the JSON API, each with a role.", no_args_is_help=True)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Token name, e.g. ci-export; unique among active tokens."),
    role: str = typer.Option(..., "--role", help="admin, analyst, agent or viewer (docs/security.md)."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Create a token and print it (shown once; only its hash is stored)."""
    chosen_role = parse_role(role)
    with workspace_store(db) as store, store.unit_of_work() as uow:
        created = create_token(uow, name=name, role=chosen_role)
    if fmt is OutputFormat.json:
        print(to_json(created))
        return
    if fmt is OutputFormat.csv:
        render_rows([created], fmt)
        return
    console.print(
        f"Token {created['name']} created with role {created['role']}. Its value (shown only now — "
        "store it safely):",
        markup=False,
    )
    console.print(created["token"], markup=False, highlight=False)


@app.command("list")
def list_command(db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """Tokens with their role, hint and state (never the token or its hash)."""
    with workspace_store(db) as store, store.session() as s:
        rows = list_tokens(s)
    render_rows(rows, fmt, title="API tokens")


@app.command("revoke")
def revoke(
    name: str = typer.Argument(..., help="The token that stops working."), db: Path | None = DbOption
) -> None:
    """Revoke a token: requests presenting it are refused from now on."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        revoke_token(uow, name)
    console.print(f"Token {name} revoked: it no longer works.", markup=False)
