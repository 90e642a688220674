"""Running ``cxlens serve`` as a real process on loopback, for tests that need a real server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CXLENS = [sys.executable, "-m", "cxlens"]


def run_cxlens(
    *args: str, db: Path, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``cxlens ARGS --db DB`` as a user runs it: a real process, its output captured, never raising."""
    return subprocess.run(
        [*CXLENS, *args, "--db", str(db)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db: Path, port: int, *, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [*CXLENS, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(
                f"cxlens serve exited: {server.stderr.read().decode() if server.stderr else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("cxlens serve did not answer /health within 60 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Ctrl+C, as a user would: the server finishes applying what it accepted, then exits."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def running_server(db: Path, *, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    server = start_server(db, port, env=env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(server)


def wait_applied(base: str, *, timeout: float = 120) -> dict[str, Any]:
    """Until every accepted event is on the timelines; returns the tracking stats."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats: dict[str, Any] = httpx.get(f"{base}/health", timeout=5).json()["tracking"]
        if stats["backlog_events"] == 0:
            return stats
        time.sleep(0.1)
    raise AssertionError(f"events were not applied within {timeout} s")


@contextmanager
def serving_app(app: Any, **options: Any) -> Iterator[str]:
    """``app`` served by a real uvicorn server on a thread of this process (for a test that adds a
    route of its own); ``options`` are uvicorn's (e.g. from ``cli.serve.uvicorn_options``)."""
    import threading

    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, **{"log_level": "warning", **options, "host": "127.0.0.1", "port": port})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("uvicorn did not start within 60 s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)
