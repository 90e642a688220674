"""``cxlens users create|list|disable|enable|set-password`` — the people who sign in to the web app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from cxlens.auth import (
    create_user,
    disable_user,
    enable_user,
    generate_password,
    list_users,
    parse_role,
    set_password,
)
from cxlens.cli.context import DbOption, workspace_store
from cxlens.cli.output import OutputFormat, console, format_option, render_record, render_rows
from cxlens.errors import InvalidInput

app = typer.Typer(help="Users of the web app: their roles, passwords and access.", no_args_is_help=True)

RefArgument = typer.Argument(..., help="The user's email or id (usr_…).")
PasswordStdinOption = typer.Option(
    False, "--password-stdin", help="Read the password from one line of standard input (for scripts)."
)
GenerateOption = typer.Option(
    False, "--generate-password", help="Generate a random 20-character password and print it once."
)


@app.command("create")
def create(
    email: str = typer.Argument(..., help="The user's email: their sign-in name."),
    name: str = typer.Option(..., "--name", help="The name shown in the app."),
    role: str = typer.Option(..., "--role", help="admin, analyst, agent or viewer (docs/security.md)."),
    password_stdin: bool = PasswordStdinOption,
    generate: bool = GenerateOption,
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Create a user. The password is asked twice (hidden) unless read from stdin or generated."""
    chosen_role = parse_role(role)  # before asking for a password that would then be wasted
    password, generated = _password(password_stdin=password_stdin, generate=generate)
    with workspace_store(db) as store, store.unit_of_work() as uow:
        user = create_user(uow, email=email, name=name, role=chosen_role, password=password)
    _show(user, fmt, title="User created", generated=generated)


@app.command("list")
def list_command(db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """Users with their role, state and last sign-in (never their password hash)."""
    with workspace_store(db) as store, store.session() as s:
        rows = list_users(s)
    render_rows(rows, fmt, title="Users")


@app.command("disable")
def disable(ref: str = RefArgument, db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """Stop a user from signing in and end their sessions at once."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        user = disable_user(uow, ref)
    _show(user, fmt, title="User disabled: their sessions have ended")


@app.command("enable")
def enable(ref: str = RefArgument, db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """Let a disabled user sign in again."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        user = enable_user(uow, ref)
    _show(user, fmt, title="User enabled")


@app.command("set-password")
def set_password_command(
    ref: str = RefArgument,
    password_stdin: bool = PasswordStdinOption,
    generate: bool = GenerateOption,
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Give a user a new password; every session they have ends."""
    password, generated = _password(password_stdin=password_stdin, generate=generate)
    with workspace_store(db) as store, store.unit_of_work() as uow:
        set_password(uow, ref, password)
    _show({"user": ref, "sessions_ended": True}, fmt, title="Password set", generated=generated)


def _password(*, password_stdin: bool, generate: bool) -> tuple[str, str | None]:
    """(password, the generated one to show once or None)."""
    if password_stdin and generate:
        raise InvalidInput("Use either --password-stdin or --generate-password, not both.")
    if generate:
        password = generate_password()
        return password, password
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), None
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True), None


def _show(record: dict[str, Any], fmt: OutputFormat, *, title: str, generated: str | None = None) -> None:
    if generated is not None:
        record = {**record, "password": generated}
    render_record(record, fmt, title=title)
    if generated is not None and fmt is OutputFormat.table:
        console.print("The password is shown only now: hand it over safely.", markup=False)
