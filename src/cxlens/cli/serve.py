"""``cxlens serve`` and ``cxlens demo``."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import typer

from cxlens.auth import Role, count_users, create_user
from cxlens.bootstrap import Container, build, open_store
from cxlens.cli.context import DbOption, settings_for
from cxlens.cli.output import console, err_console
from cxlens.config import Settings
from cxlens.sources import create_source
from cxlens.storage.duckdb_store import DuckDBStore

DEMO_DB = Path("cxlens-demo.duckdb")
DEMO_SOURCE = "demo-website"
DEMO_ADMIN = "admin@example.com"


def _run_server(settings: Settings, store: DuckDBStore | None = None) -> None:
    """Build the container (serving: live tracking and the survey pass), then hand it to uvicorn."""
    import uvicorn

    from cxlens.web.app import create_app

    container = build(settings, serving=True, store=store)
    app = create_app(container)
    console.print(
        f"Serving {container.store.path} on http://{settings.host}:{settings.port}  (Ctrl+C to stop)"
    )
    with container.store.session() as s:
        if count_users(s) == 0:
            console.print(
                "No users yet: create one with `cxlens users create EMAIL --name NAME --role admin`.",
                markup=False,
            )
    try:
        uvicorn.run(app, **uvicorn_options(container), log_level="warning")
    finally:
        container.store.close()


def uvicorn_options(container: Container) -> dict[str, Any]:
    """Where to listen, and whose forwarded headers to believe: only CXLENS_TRUSTED_PROXIES' (uvicorn
    would otherwise trust any from loopback, so a local client could claim any address)."""
    proxies = list(container.web.trusted_proxies)
    return {
        "host": container.settings.host,
        "port": container.settings.port,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,
    }


def serve(
    db: Path | None = DbOption,
    host: str | None = typer.Option(None, "--host", help="Interface to listen on."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on."),
) -> None:
    """Serve the workspace over HTTP (JSON API at /api, OpenAPI at /openapi.json)."""
    settings = _with_address(settings_for(db), host, port)
    _run_server(settings)


def _with_address(settings: Settings, host: str | None, port: int | None) -> Settings:
    changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    return settings.model_copy(update=changes) if changes else settings


def _is_demo(path: Path) -> bool:
    from cxlens.demo import workspace_kind

    store = open_store(settings_for(path))
    try:
        return workspace_kind(store) == "demo"
    finally:
        store.close()


def demo(
    customers: int = typer.Option(20_000, "--customers", min=100, help="How many customers."),
    months: int = typer.Option(12, "--months", min=1, max=60, help="How many months of history."),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed builds the same company."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Build the workspace and exit."),
    db: Path | None = typer.Option(None, "--db", help=f"Demo workspace file (default ./{DEMO_DB})."),
    host: str | None = typer.Option(None, "--host", help="Interface to listen on (as for serve)."),
    port: int | None = typer.Option(None, "--port", help="Port to listen on (as for serve)."),
) -> None:
    """Build a realistic, seeded demo company and serve it on http://127.0.0.1:8000."""
    from cxlens.demo import build_demo, reset_demo_file

    path = db or DEMO_DB
    settings = _with_address(settings_for(path), host, port)
    reset_demo_file(path, is_demo=_is_demo)
    store = open_store(settings)
    with err_console.status("Building the demo company...") as status:
        reports = build_demo(
            store,
            customers=customers,
            months=months,
            seed=seed,
            step=lambda entity, done, total: status.update(f"Loading {entity}: {done:,}/{total:,} rows"),
        )
    for entity, report in reports.items():
        console.print(f"  {entity:<12} {report.imported:>10,} imported, {report.rejected_count:,} rejected")
    with store.unit_of_work() as uow:
        key = create_source(uow, DEMO_SOURCE).write_key
    console.print(
        f"Tracking API (Segment format, POST /v1/batch): source {DEMO_SOURCE}, write key:", markup=False
    )
    console.print(key, markup=False, highlight=False, soft_wrap=True)
    password = secrets.token_urlsafe(12)  # a new one per demo build: never a well-known password
    with store.unit_of_work() as uow:
        create_user(uow, email=DEMO_ADMIN, name="Demo admin", role=Role.admin, password=password)
    console.print(
        f"Web app: http://{settings.host}:{settings.port}  sign in as {DEMO_ADMIN} with password {password}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if no_serve:
        store.close()
        console.print(f"Demo workspace ready: {path}")
        return
    _run_server(settings, store)
