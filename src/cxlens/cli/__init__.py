"""The ``cxlens`` command. Commands only translate: parse options, call one use case or query,
render. Every CxLensError becomes one line on stderr and its exit code; no user sees a traceback."""

from __future__ import annotations

import sys

import typer

from cxlens.cli import customers, imports, metrics, serve, sources, surveys, tokens, users, workspace
from cxlens.config import Settings
from cxlens.errors import CxLensError
from cxlens.version import __version__

app = typer.Typer(
    name="cxlens",
    help="Customer-experience management: one customer, one timeline, rigorous CX metrics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"cxlens {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Customer-experience management: one customer, one timeline, rigorous CX metrics."""


app.command("init")(workspace.init)
app.add_typer(imports.app, name="import")
app.add_typer(customers.app, name="customers")
app.add_typer(sources.app, name="sources")
app.add_typer(surveys.app, name="surveys")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.command("metrics")(metrics.metrics)
app.command("serve")(serve.serve)
app.command("demo")(serve.demo)


def main() -> None:
    try:
        app()
    except CxLensError as error:
        from rich.markup import escape

        from cxlens.cli.output import err_console

        err_console.print(
            f"[bold red]error:[/bold red] {escape(error.message)}", highlight=False, soft_wrap=True
        )
        for problem in error.data.get("problems", []):
            err_console.print(f"  - {_problem_text(problem)}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        if _debug():
            raise
        from cxlens.cli.output import err_console

        err_console.print(
            f"internal error: {type(error).__name__}: {error}. "
            "Run again with CXLENS_DEBUG=1 for details, and please report it.",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        sys.exit(1)


def _debug() -> bool:
    """CXLENS_DEBUG: show the traceback. Read only when something already failed, and never fatal:
    the failure may be an invalid setting."""
    try:
        return Settings().debug
    except Exception:
        return False


def _problem_text(problem: object) -> str:
    """One listed problem: ``{"path"|"loc", "message"}`` dicts or plain text."""
    if isinstance(problem, dict):
        where = problem.get("path") or problem.get("loc") or problem.get("question") or ""
        return f"{where}: {problem.get('message', '')}" if where else str(problem.get("message", problem))
    return str(problem)
