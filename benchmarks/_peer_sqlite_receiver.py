"""Peer for ``bench_tracking.py``: the event receiver a team would hand-write instead of adopting a product.

    python benchmarks/_peer_sqlite_receiver.py --db /tmp/peer.sqlite --port 8123

FastAPI + uvicorn, Segment-style endpoints (``/v1/batch``, ``/v1/track``, ``/v1/identify``, ``/v1/page``),
Basic auth required but the key is ignored, optional ``Content-Encoding: gzip``, body parsed with the
standard ``json`` module, every event of a request inserted into SQLite (WAL, ``synchronous=FULL``) in one
transaction with ``INSERT OR IGNORE`` on a ``UNIQUE(message_id)`` column, and 200 only after the commit.

Handlers are ``async def`` over one shared connection: SQLite has a single writer, so a thread pool would
only add lock contention; writes are serialised on the event loop instead. Access logging is off.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id            INTEGER PRIMARY KEY,
    message_id    TEXT NOT NULL,
    type          TEXT NOT NULL,
    event         TEXT,
    user_id       TEXT,
    anonymous_id  TEXT,
    timestamp     TEXT,
    received_at   TEXT NOT NULL,
    payload       TEXT NOT NULL,
    UNIQUE (message_id)
)"""
INSERT = (
    "INSERT OR IGNORE INTO events "
    "(message_id, type, event, user_id, anonymous_id, timestamp, received_at, payload) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
OK = b'{"success":true}'


def connect(path: str) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute(SCHEMA)
    return con


def create_app(con: sqlite3.Connection) -> FastAPI:
    app = FastAPI()

    async def receive(request: Request, many: bool, kind: str | None) -> Response:
        if not request.headers.get("authorization", "").startswith("Basic "):
            return Response(b'{"error":"unauthorized"}', status_code=401, media_type="application/json")
        raw = await request.body()
        try:
            if request.headers.get("content-encoding") == "gzip":
                raw = gzip.decompress(raw)
            body = json.loads(raw)
            events = body["batch"] if many else [body]
            rows = [_row(e, kind) for e in events]
        except (ValueError, KeyError, TypeError, OSError):
            return Response(b'{"error":"bad request"}', status_code=400, media_type="application/json")
        con.execute("BEGIN")
        try:
            con.executemany(INSERT, rows)
            con.execute("COMMIT")
        except sqlite3.Error:
            con.execute("ROLLBACK")
            raise
        return Response(OK, media_type="application/json")

    @app.post("/v1/batch")
    async def batch(request: Request) -> Response:
        return await receive(request, True, None)

    @app.post("/v1/{kind}")
    async def single(kind: str, request: Request) -> Response:
        return await receive(request, False, kind)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True}

    return app


def _row(e: dict[str, Any], kind: str | None) -> tuple[Any, ...]:
    return (
        e.get("messageId") or str(uuid.uuid4()),
        e.get("type") or kind or "track",
        e.get("event"),
        e.get("userId"),
        e.get("anonymousId"),
        e.get("timestamp"),
        datetime.now(UTC).isoformat(),
        json.dumps(e),
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    a = p.parse_args()
    con = connect(a.db)
    try:
        uvicorn.run(create_app(con), host=a.host, port=a.port, access_log=False, log_level="warning")
    finally:
        con.close()


if __name__ == "__main__":
    main()
