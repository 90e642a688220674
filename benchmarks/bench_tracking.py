"""Tracking-API load benchmark: ``cxlens serve`` (Segment-compatible ``/v1/batch``, ``/v1/track``) vs. a
hand-written FastAPI + SQLite receiver, in the same run, on the same pre-encoded request bytes.

A script, not a test (docs/benchmarks.md). Target of the issue: sustained ingestion in batches of 100
events at >= 20,000 events/s with p99 request latency <= 100 ms on the 2-core project machine.

    python benchmarks/bench_tracking.py                          # defaults, both servers, ~2.5 min
    python benchmarks/bench_tracking.py --skip-peer --seconds 240  # a longer "sustained" check
    python benchmarks/bench_tracking.py --seconds 10 --track-seconds 5 --closed-seconds 5   # quick
    python benchmarks/bench_tracking.py --skip-cxlens            # peer only (develop the client)
    python benchmarks/bench_tracking.py --skip-peer --no-gzip
    python benchmarks/bench_tracking.py --smoke                  # one second per phase: does it still run?

Method (load shape after RudderStack's rudder-load, guide reliability.md §B.5):

* Workload, generated seeded (``--seed``) before any timing: ~60% ``track`` with 3-6 properties, 25%
  ``page`` with ``context.page``, 10% ``identify`` with email/name traits, 5% ``track`` with only an
  ``anonymousId``; users drawn with a hot-user skew (70% of events from 30% of ``--users``); unique
  seeded uuid4 ``messageId``s; ~300-500 bytes per event; batch bodies gzip-encoded unless ``--no-gzip``
  (single ``/v1/track`` bodies are never compressed). Event timestamps are the generation time minus up
  to 10 minutes, so only the clock-derived fields differ between runs with the same seed.
* Client: one asyncio (uvloop) process with a minimal hand-written HTTP/1.1 keep-alive client writing
  pre-encoded bytes. It shares the 2 cores with the server; its CPU time is reported per phase.
* Phases per server: (1) open loop — batches sent at ``--events-per-second / --batch-size`` requests/s,
  evenly spaced, over ``--open-connections`` keep-alive connections; each latency is measured from the
  request's *scheduled* send time to the end of its response, so queueing in the client counts;
  requests still unanswered ``--grace`` s after the schedule ends are cut off and counted with their
  latency so far (a lower bound). (2) closed loop — ``--connections`` connections sending batches as
  fast as answers come for ``--closed-seconds`` (maximum sustained ingest). (3) single events —
  closed loop on ``/v1/track`` with ``--connections`` connections for ``--track-seconds``.
  For cxlens, after each phase the script polls ``/health`` until ``tracking.backlog_events`` is 0 on two
  polls in a row with unchanged counters (one shared ``--drain-timeout`` budget) and reports the drain
  time and the end-to-end rate: events processed onto timelines per second from the phase's first send
  until the backlog is empty. The backlog is also sampled every second during each phase.
* Server memory: VmHWM of the server process (and any children) read from /proc every 0.5 s while it
  runs. CPU per phase: psutil ``cpu_times`` deltas of the server tree and of the client, plus the
  machine-wide rest ("other cores", with the busiest other processes) so a run disturbed by other work
  is flagged. Rows are counted after the server stops.
* A 30 s phase shows the rate and latency, not that they hold for long: stalls can appear only after
  minutes (as the workspace grows), so run a longer ``--seconds`` before claiming "sustained".

Results: a Markdown summary on stdout, then the JSON result (also written to benchmarks/out/).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import json
import math
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil

import _results
from _results import describe_machine

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
PEER_SCRIPT = HERE / "_peer_sqlite_receiver.py"
TARGET_EPS = 20_000
TARGET_P99_MS = 100.0
SMOKE = {
    "events_per_second": 500, "seconds": 1, "closed_seconds": 1, "track_seconds": 1, "connections": 2,
    "open_connections": 2, "users": 200, "grace": 5.0, "drain_timeout": 60.0, "track_pool_per_second": 200,
}  # fmt: skip

CONN_ERROR, TIMEOUT, CUT_OFF = -1, -2, -3
STATUS_NAMES = {CONN_ERROR: "conn_error", TIMEOUT: "timeout", CUT_OFF: "unanswered"}

# ----------------------------------------------------------------------------------------------
# Workload generation
# ----------------------------------------------------------------------------------------------
TRACK_EVENTS = (
    "Product Viewed", "Product Added", "Product Removed", "Cart Viewed", "Checkout Started",
    "Order Completed", "Coupon Applied", "Products Searched", "Signed Up", "Subscription Started",
    "Support Ticket Opened", "Email Link Clicked",
)  # fmt: skip
PAGES = (
    ("Home", "/"), ("Pricing", "/pricing"), ("Product", "/products/{n}"), ("Search", "/search"),
    ("Blog", "/blog/post-{n}"), ("Checkout", "/checkout"), ("Help", "/help/article-{n}"),
)  # fmt: skip
REFERRERS = ("https://www.google.com/", "https://news.ycombinator.com/", "", "https://t.co/x1", "")
CATEGORIES = ("shoes", "outerwear", "accessories", "kitchen", "garden", "books", "toys", "audio")
BRANDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell")
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Radia", "Linus")
LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Perlman")
LIBRARIES = (
    {"name": "analytics.js", "version": "5.2.1"},
    {"name": "analytics-python", "version": "2.3.3"},
    {"name": "analytics-ios", "version": "4.1.8"},
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
)
PROPERTY_MAKERS: dict[str, Callable[[random.Random], Any]] = {
    "product_id": lambda r: f"prod_{r.randrange(50_000):05d}",
    "sku": lambda r: f"SKU-{r.randrange(1_000_000):06d}",
    "category": lambda r: r.choice(CATEGORIES),
    "brand": lambda r: r.choice(BRANDS),
    "price": lambda r: round(r.uniform(3, 400), 2),
    "quantity": lambda r: r.randint(1, 5),
    "currency": lambda r: r.choice(("USD", "EUR", "GBP")),
    "coupon": lambda r: r.choice(("", "WELCOME10", "SPRING25", "VIP")),
    "position": lambda r: r.randint(1, 40),
    "revenue": lambda r: round(r.uniform(10, 900), 2),
    "plan": lambda r: r.choice(("free", "team", "business", "enterprise")),
    "query": lambda r: r.choice(("running shoes", "rain jacket", "blender", "gift card", "headphones")),
}
PROPERTY_KEYS = tuple(PROPERTY_MAKERS)


class EventFactory:
    """Seeded Segment-spec events: hot-user skew, realistic type mix and sizes."""

    def __init__(self, rng: random.Random, hot: list[int], cold: list[int], now: float) -> None:
        self.rng, self.hot, self.cold = rng, hot, cold
        self.now_ms = int(now * 1000)

    def user(self) -> int:
        return self.rng.choice(self.hot if self.rng.random() < 0.7 else self.cold)

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def timestamp(self) -> str:
        ms = self.now_ms - self.rng.randrange(600_000)
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"

    def context(self) -> dict[str, Any]:
        r = self.rng
        library = r.choice(LIBRARIES)
        ctx = {"library": library, "ip": f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"}
        if library["name"] != "analytics-python":  # server-side senders carry no user agent
            ctx["userAgent"] = r.choice(USER_AGENTS)
        return ctx

    def base(self, kind: str, user: int | None) -> dict[str, Any]:
        e: dict[str, Any] = {"type": kind, "messageId": self.uuid(), "timestamp": self.timestamp()}
        if user is None:
            e["anonymousId"] = self.uuid()
        else:
            e["userId"] = f"u{user:07d}"
        e["context"] = self.context()
        return e

    def track(self, anonymous: bool = False) -> dict[str, Any]:
        e = self.base("track", None if anonymous else self.user())
        e["event"] = self.rng.choice(TRACK_EVENTS)
        keys = self.rng.sample(PROPERTY_KEYS, self.rng.randint(3, 6))
        e["properties"] = {k: PROPERTY_MAKERS[k](self.rng) for k in keys}
        return e

    def page(self) -> dict[str, Any]:
        e = self.base("page", self.user())
        name, path = self.rng.choice(PAGES)
        path = path.format(n=self.rng.randrange(500))
        url = f"https://shop.example.com{path}"
        referrer = self.rng.choice(REFERRERS)
        e["name"] = name
        e["properties"] = {"url": url, "path": path, "title": f"{name} | Example Shop", "referrer": referrer}
        e["context"]["page"] = {"path": path, "referrer": referrer, "search": "", "title": name, "url": url}
        return e

    def identify(self) -> dict[str, Any]:
        n = self.user()
        e = self.base("identify", n)
        e["traits"] = {
            "email": f"user{n}@example.com",
            "name": f"{FIRST[n % len(FIRST)]} {LAST[(n // 7) % len(LAST)]}",
            "plan": ("free", "team", "business")[n % 3],
        }
        return e

    def mixed(self) -> dict[str, Any]:
        x = self.rng.random()
        if x < 0.60:
            return self.track()
        if x < 0.85:
            return self.page()
        if x < 0.95:
            return self.identify()
        return self.track(anonymous=True)

    def single_track(self) -> dict[str, Any]:
        return self.track(anonymous=self.rng.random() < 0.05)


@dataclass
class Workload:
    open_bodies: list[bytes]
    closed_bodies: list[bytes]
    track_bodies: list[bytes]
    batch_size: int
    stats: dict[str, Any] = field(default_factory=dict)


_WORKER: dict[str, Any] = {}
CHUNK_BATCHES, CHUNK_SINGLES = 200, 5000


def _init_worker(users: int, seed: int, now: float, sent_at: str) -> None:
    """Per generator process: the same seeded user ranking (hot 30% first) in every process."""
    ranks = list(range(users))
    random.Random(seed).shuffle(ranks)
    hot = max(1, int(users * 0.3))
    _WORKER.update(hot=ranks[:hot], cold=ranks[hot:] or ranks[:hot], seed=seed, now=now, sent_at=sent_at)


def _make_chunk(job: tuple[str, int, int, int, bool]) -> tuple[list[bytes], int]:
    """One chunk of request bodies, seeded by (seed, kind, index): the same at any process count."""
    kind, index, count, size, gz = job
    w = _WORKER
    f = EventFactory(random.Random(f"{w['seed']}:{kind}:{index}"), w["hot"], w["cold"], w["now"])
    if kind == "track":
        bodies = [orjson.dumps({**f.single_track(), "sentAt": w["sent_at"]}) for _ in range(count)]
        return bodies, sum(map(len, bodies))
    bodies, raw_bytes = [], 0
    for _ in range(count):
        body = orjson.dumps({"batch": [f.mixed() for _ in range(size)], "sentAt": w["sent_at"]})
        raw_bytes += len(body)
        bodies.append(gzip.compress(body, compresslevel=6, mtime=0) if gz else body)
    return bodies, raw_bytes


def _jobs(kind: str, total: int, chunk: int, size: int, gz: bool) -> list[tuple[str, int, int, int, bool]]:
    return [(kind, i, min(chunk, total - start), size, gz) for i, start in enumerate(range(0, total, chunk))]


def generate(cfg: Config) -> Workload:
    from concurrent.futures import ProcessPoolExecutor

    t0 = time.perf_counter()
    now = time.time()
    sent_at = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    n_open = math.ceil(cfg.events_per_second * cfg.seconds / cfg.batch_size)
    n_closed = math.ceil(cfg.closed_pool_factor * cfg.events_per_second * cfg.closed_seconds / cfg.batch_size)
    n_track = cfg.track_seconds * cfg.track_pool_per_second
    kinds = {
        "open": _jobs("open", n_open, CHUNK_BATCHES, cfg.batch_size, cfg.gzip),
        "closed": _jobs("closed", n_closed, CHUNK_BATCHES, cfg.batch_size, cfg.gzip),
        "track": _jobs("track", n_track, CHUNK_SINGLES, 1, False),
    }
    made: dict[str, tuple[list[bytes], int]] = {}
    init = (cfg.users, cfg.seed, now, sent_at)
    with ProcessPoolExecutor(psutil.cpu_count() or 1, initializer=_init_worker, initargs=init) as ex:
        for kind, jobs in kinds.items():
            bodies: list[bytes] = []
            raw = 0
            for chunk, chunk_raw in ex.map(_make_chunk, jobs):
                bodies += chunk
                raw += chunk_raw
            made[kind] = (bodies, raw)
    (open_bodies, raw_open), (closed_bodies, raw_closed), (track_bodies, raw_track) = made.values()
    batches = n_open + n_closed
    stats = {
        "seconds": time.perf_counter() - t0,
        "open_requests": n_open,
        "closed_pool_requests": n_closed,
        "track_pool_requests": n_track,
        "mean_event_bytes": (raw_open + raw_closed) / (batches * cfg.batch_size),
        "mean_batch_body_bytes_raw": (raw_open + raw_closed) / batches,
        "mean_batch_body_bytes_sent": sum(map(len, open_bodies + closed_bodies)) / batches,
        "mean_track_body_bytes": raw_track / max(1, n_track),
    }
    return Workload(open_bodies, closed_bodies, track_bodies, cfg.batch_size, stats)


# ----------------------------------------------------------------------------------------------
# Minimal HTTP/1.1 keep-alive client (pre-encoded requests; almost no client CPU per request)
# ----------------------------------------------------------------------------------------------
def request_prefix(path: str, port: int, key: str, gz: bool) -> bytes:
    auth = base64.b64encode(f"{key}:".encode()).decode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Authorization: Basic {auth}",
        "Content-Type: application/json",
        "User-Agent: cxlens-bench/1",
    ]
    if gz:
        lines.append("Content-Encoding: gzip")
    return ("\r\n".join(lines) + "\r\nContent-Length: ").encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked, close = 0, False, False
    for line in head.lower().split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            close = b"close" in value
    body = await _read_chunked(reader) if chunked else await reader.readexactly(length)
    return status, body, close


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class Conn:
    """One keep-alive connection; reconnects lazily and retries once on a stale idle connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def _once(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(head)
        if body:
            self.writer.write(body)
        status, data, close = await read_response(self.reader)
        if close:
            self.close()
        return status, data

    async def exchange(self, head: bytes, body: bytes, timeout: float) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                async with asyncio.timeout(timeout):
                    return await self._once(head, body)
            except TimeoutError:
                self.close()
                return TIMEOUT, b""
            except (asyncio.IncompleteReadError, OSError) as e:
                self.close()
                partial = isinstance(e, asyncio.IncompleteReadError) and bool(e.partial)
                if partial or attempt:
                    return CONN_ERROR, b""
        return CONN_ERROR, b""


async def get_json(conn: Conn, path: str, timeout: float = 5.0) -> dict[str, Any] | None:
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{conn.port}\r\n\r\n".encode()
    status, data = await conn.exchange(head, b"", timeout)
    if status != 200:
        return None
    try:
        out = json.loads(data)
    except ValueError:
        return None
    return out if isinstance(out, dict) else None


# ----------------------------------------------------------------------------------------------
# Load phases
# ----------------------------------------------------------------------------------------------
def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    s = sorted(values)

    def rank(q: float) -> float:
        return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))] * 1000

    return {"p50_ms": rank(0.50), "p95_ms": rank(0.95), "p99_ms": rank(0.99), "max_ms": s[-1] * 1000}


def summarise(statuses: list[int], latencies: list[float], per_req: int, wall: float) -> dict[str, Any]:
    counts = Counter(STATUS_NAMES.get(s, str(s)) for s in statuses)
    ok = counts.get("200", 0)
    return {
        "requests": len(statuses),
        "status_counts": dict(sorted(counts.items())),
        "events_ok": ok * per_req,
        "wall_s": wall,
        "achieved_requests_per_s": ok / wall if wall > 0 else 0.0,
        "achieved_events_per_s": ok * per_req / wall if wall > 0 else 0.0,
        **percentiles(latencies),
    }


async def open_loop(
    port: int, prefix: bytes, bodies: list[bytes], per_req: int, rate: float, cfg: Config
) -> dict[str, Any]:
    idle: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(cfg.open_connections):
        idle.put_nowait(Conn(port))
    n = len(bodies)
    status = [CUT_OFF] * n
    sent: list[float | None] = [None] * n
    done_at: list[float | None] = [None] * n
    lag: list[float] = []
    waited = [0]

    async def one(i: int) -> None:
        waited[0] += idle.empty()
        conn = await idle.get()
        try:
            body = bodies[i]
            sent[i] = time.perf_counter()
            status[i], _ = await conn.exchange(prefix + b"%d\r\n\r\n" % len(body), body, cfg.timeout)
        finally:
            idle.put_nowait(conn)
        done_at[i] = time.perf_counter()

    t0 = time.perf_counter() + 0.05
    tasks = []
    for i in range(n):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag.append(max(0.0, -delay))
        tasks.append(asyncio.create_task(one(i)))
    deadline = t0 + n / rate + cfg.grace
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.perf_counter()))
    cut = time.perf_counter()
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    latencies = [(d if d is not None else cut) - (t0 + i / rate) for i, d in enumerate(done_at)]
    service = [(d if d is not None else cut) - s for s, d in zip(sent, done_at, strict=True) if s is not None]
    last = max((d for d in done_at if d is not None), default=cut)
    while not idle.empty():
        idle.get_nowait().close()
    out = summarise(status, latencies, per_req, last - t0)
    out |= {
        "offered_requests_per_s": rate,
        "offered_events_per_s": rate * per_req,
        "connections": cfg.open_connections,
        "unanswered_at_cutoff": len(pending),
        "requests_waited_for_connection": waited[0],
        "client_dispatch_lag_ms": {k: v for k, v in percentiles(lag).items() if k in ("p99_ms", "max_ms")},
        "from_actual_send": percentiles(service),
        "max_ms_by_second": _max_by_second(latencies, rate),
    }
    return out


def _max_by_second(latencies: list[float], rate: float) -> list[float]:
    """Worst latency of the requests scheduled in each second of the schedule, ms (spikes over time)."""
    per = max(1, round(rate))
    return [round(max(latencies[i : i + per]) * 1000, 1) for i in range(0, len(latencies), per)]


async def closed_loop(
    port: int, prefix: bytes, bodies: list[bytes], per_req: int, connections: int, seconds: float, cfg: Config
) -> dict[str, Any]:
    statuses: list[int] = []
    latencies: list[float] = []
    it = iter(range(len(bodies)))
    t0 = time.perf_counter()
    end = t0 + seconds

    async def worker() -> float:
        conn, last = Conn(port), t0
        for i in it:
            if time.perf_counter() >= end:
                break
            body = bodies[i]
            start = time.perf_counter()
            st, _ = await conn.exchange(prefix + b"%d\r\n\r\n" % len(body), body, cfg.timeout)
            last = time.perf_counter()
            statuses.append(st)
            latencies.append(last - start)
        conn.close()
        return last

    lasts = await asyncio.gather(*(worker() for _ in range(connections)))
    out = summarise(statuses, latencies, per_req, max(lasts) - t0)
    out |= {"connections": connections, "pool_exhausted": len(statuses) >= len(bodies)}
    return out


# ----------------------------------------------------------------------------------------------
# Server processes, monitoring, drain
# ----------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_tree(pid: int) -> list[psutil.Process]:
    try:
        p = psutil.Process(pid)
        return [p, *p.children(recursive=True)]
    except psutil.Error:
        return []


def vm_hwm(pid: int) -> int:
    """Peak resident memory (VmHWM) of the process and its children, bytes."""
    total = 0
    for p in proc_tree(pid):
        try:
            for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for p in proc_tree(pid):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def system_cpu() -> tuple[float, float]:
    """Machine-wide user+system and steal CPU seconds: what else ran during a phase (other processes,
    the hypervisor). Interrupt/softirq time (loopback TCP) is left out: it belongs to no process."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system, getattr(t, "steal", 0.0)


def cpu_by_process() -> dict[tuple[int, str], float]:
    out = {}
    for p in psutil.process_iter(["name", "cpu_times"]):
        t = p.info["cpu_times"]
        if t is not None:
            out[(p.pid, p.info["name"] or "?")] = t.user + t.system
    return out


def other_processes(before: dict[tuple[int, str], float], skip: set[int]) -> list[tuple[str, float]]:
    """The busiest other processes since ``before``, CPU seconds. Kernel threads (kworker, jbd2) doing
    the servers' disk writeback show up here too."""
    used = [
        (f"{name}[{pid}]", round(cpu - before.get((pid, name), 0.0), 2))
        for (pid, name), cpu in cpu_by_process().items()
        if pid not in skip
    ]
    return sorted((u for u in used if u[1] >= 0.1), key=lambda u: -u[1])[:5]


class Server:
    def __init__(self, name: str, cmd: list[str], port: int, log: Path) -> None:
        self.name, self.cmd, self.port, self.log = name, cmd, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    async def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        conn = Conn(self.port)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                health = await get_json(conn, "/health", timeout=2.0)
                if health is not None:
                    return health
                await asyncio.sleep(0.2)
        finally:
            conn.close()
        raise RuntimeError(f"{self.name}: /health not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            return {"exit": None if self.proc is None else self.proc.returncode}
        t0 = time.monotonic()
        for sig, wait in ((signal.SIGINT, 15.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            self.proc.send_signal(sig)
            try:
                code = self.proc.wait(wait)
                return {"signal": sig.name, "exit": code, "stop_seconds": time.monotonic() - t0}
            except subprocess.TimeoutExpired:
                continue
        return {"signal": "SIGKILL", "exit": None, "stop_seconds": time.monotonic() - t0}

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


COUNTERS = ("processed_events", "duplicates", "rejected")


def tracking_of(health: dict[str, Any] | None) -> dict[str, int] | None:
    t = (health or {}).get("tracking")
    if isinstance(t, dict) and "backlog_events" in t:
        return {"backlog_events": int(t["backlog_events"]), **{k: int(t.get(k) or 0) for k in COUNTERS}}
    return None


class Monitor:
    """Samples the server's VmHWM every 0.5 s and, with tracking, its backlog every 1 s."""

    def __init__(self, server: Server, tracking: bool) -> None:
        self.server, self.tracking = server, tracking
        self.hwm = 0
        self.backlog: list[tuple[float, int]] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        conn, tick = Conn(self.server.port), 0
        try:
            while True:
                self.hwm = max(self.hwm, vm_hwm(self.server.pid))
                if self.tracking and tick % 2 == 0:
                    t = tracking_of(await get_json(conn, "/health"))
                    if t is not None:
                        self.backlog.append((time.perf_counter(), t["backlog_events"]))
                tick += 1
                await asyncio.sleep(0.5)
        finally:
            conn.close()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self.hwm = max(self.hwm, vm_hwm(self.server.pid))
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def max_backlog(self, since: float) -> int:
        return max((b for t, b in self.backlog if t >= since), default=0)


async def drain(port: int, budget: float, phase_start: float, before: dict[str, int]) -> dict[str, Any]:
    """Poll /health until the backlog is 0 on two polls in a row with unchanged counters (the counters
    may be updated just after the backlog); the drain ends at the first of those two polls."""
    conn, t0 = Conn(port), time.perf_counter()
    last: dict[str, int] | None = None
    zero_since: float | None = None
    try:
        while time.perf_counter() - t0 <= budget:
            now = time.perf_counter()
            t = tracking_of(await get_json(conn, "/health", timeout=10.0))
            if t is not None and t["backlog_events"] == 0:
                if zero_since is not None and t == last:
                    break
                zero_since = now if t != last else zero_since
            else:
                zero_since = None
            last = t or last
            await asyncio.sleep(0.25)
    finally:
        conn.close()
    end = zero_since if zero_since is not None else time.perf_counter()
    deltas = {k: (last or before).get(k, 0) - before.get(k, 0) for k in COUNTERS}
    return {
        "drained": zero_since is not None,
        "backlog_left": None if last is None else last["backlog_events"],
        "drain_seconds": end - t0,
        **deltas,
        "end_to_end_seconds": end - phase_start,
        "end_to_end_events_per_s": deltas["processed_events"] / (end - phase_start),
    }


# ----------------------------------------------------------------------------------------------
# One server, all phases
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    events_per_second: int
    batch_size: int
    seconds: int
    closed_seconds: int
    track_seconds: int
    connections: int
    open_connections: int
    gzip: bool
    users: int
    seed: int
    grace: float
    timeout: float
    drain_timeout: float
    closed_pool_factor: float
    track_pool_per_second: int


@dataclass
class Target:
    name: str
    server: Server
    key: str
    tracking: bool
    db: Path
    drain_budget: float = 0.0


async def run_phase(
    t: Target, mon: Monitor | None, phase: str, work: Workload, cfg: Config
) -> dict[str, Any]:
    port = t.server.port
    health_conn = Conn(port)
    before = tracking_of(await get_json(health_conn, "/health")) if t.tracking else None
    health_conn.close()
    cpu0, client0, start = cpu_seconds(t.server.pid), time.process_time(), time.perf_counter()
    busy0, steal0 = system_cpu()
    procs0 = cpu_by_process()
    if phase == "track":
        prefix = request_prefix("/v1/track", port, t.key, False)
        res = await closed_loop(port, prefix, work.track_bodies, 1, cfg.connections, cfg.track_seconds, cfg)
    else:
        prefix = request_prefix("/v1/batch", port, t.key, cfg.gzip)
        if phase == "open":
            rate = cfg.events_per_second / cfg.batch_size
            res = await open_loop(port, prefix, work.open_bodies, work.batch_size, rate, cfg)
        else:
            res = await closed_loop(
                port, prefix, work.closed_bodies, work.batch_size, cfg.connections, cfg.closed_seconds, cfg
            )
    res["server_cpu_s"] = cpu_seconds(t.server.pid) - cpu0
    res["client_cpu_s"] = time.process_time() - client0
    busy1, steal1 = system_cpu()
    res["other_cpu_s"] = max(0.0, busy1 - busy0 - res["server_cpu_s"] - res["client_cpu_s"])
    res["steal_cpu_s"] = steal1 - steal0
    res["other_processes"] = other_processes(procs0, {os.getpid(), *(p.pid for p in proc_tree(t.server.pid))})
    if t.tracking and mon is not None:
        res["max_backlog_events_sampled"] = mon.max_backlog(start)
        res["backlog_samples"] = [(round(at - start, 1), b) for at, b in mon.backlog if at >= start]
        res["drain"] = await drain(port, t.drain_budget, start, before or {})
        res["drain"]["server_cpu_s"] = cpu_seconds(t.server.pid) - cpu0 - res["server_cpu_s"]
        t.drain_budget = max(0.0, t.drain_budget - res["drain"]["drain_seconds"])
    return res


async def run_target(t: Target, work: Workload, cfg: Config) -> dict[str, Any]:
    out: dict[str, Any] = {"phases": {}}
    t.server.start()
    try:
        out["health_at_start"] = await t.server.wait_ready()
        mon = Monitor(t.server, t.tracking)
        mon.start()
        for phase in ("open", "closed", "track"):
            print(f"[{t.name}] {phase} ...", flush=True)
            res = await run_phase(t, mon, phase, work, cfg)
            out["phases"][phase] = res
            print(f"[{t.name}] {phase}: {_brief(res)}", flush=True)
        await mon.stop()
        out["server_peak_rss_bytes"] = mon.hwm
    finally:
        out["stop"] = t.server.stop()
    out["server_log_tail"] = t.server.log_tail(10)
    return out


def _brief(r: dict[str, Any]) -> str:
    s = (
        f"{r['achieved_events_per_s']:,.0f} events/s ({r['achieved_requests_per_s']:,.0f} req/s), "
        f"p50 {_ms(r['p50_ms'])}, p99 {_ms(r['p99_ms'])}, statuses {r['status_counts']}"
    )
    if "drain" in r:
        d = r["drain"]
        s += f"; drain {d['drain_seconds']:.1f} s, end-to-end {d['end_to_end_events_per_s']:,.0f} events/s"
    return s


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:,.1f} ms"


# ----------------------------------------------------------------------------------------------
# Setup and row counts
# ----------------------------------------------------------------------------------------------
def cxlens_target(tmp: Path, cfg: Config) -> Target:
    db = tmp / "cxlens.duckdb"
    exe = str(VENV_BIN / "cxlens")
    made = subprocess.run(
        [exe, "sources", "create", "bench", "--db", str(db), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(made.stdout)["write_key"]
    port = free_port()
    cmd = [exe, "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)]
    t = Target("cxlens", Server("cxlens", cmd, port, tmp / "cxlens.log"), key, True, db)
    t.drain_budget = cfg.drain_timeout
    return t


def peer_target(tmp: Path) -> Target:
    db = tmp / "peer.sqlite"
    port = free_port()
    cmd = [sys.executable, str(PEER_SCRIPT), "--db", str(db), "--port", str(port)]
    return Target("peer", Server("peer", cmd, port, tmp / "peer.log"), "ignored", False, db)


def count_rows(t: Target) -> dict[str, Any]:
    try:
        if t.name == "peer":
            con = sqlite3.connect(t.db)
            try:
                return {"events": con.execute("SELECT count(*) FROM events").fetchone()[0]}
            finally:
                con.close()
        import duckdb

        dcon = duckdb.connect(str(t.db), read_only=True)
        try:
            return {
                table: dcon.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("tracking_events", "tracking_rejects", "interactions", "customers")
            }
        finally:
            dcon.close()
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}"}


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    packages = ("cxlens", "fastapi", "uvicorn", "uvloop", "httptools", "duckdb", "orjson", "psutil")
    return {**describe_machine(packages), "sqlite": sqlite3.sqlite_version}


def ratios(res: dict[str, Any]) -> dict[str, float | None]:
    cx, peer = res["targets"].get("cxlens", {}), res["targets"].get("peer", {})
    if "phases" not in cx or "phases" not in peer:
        return {}
    out: dict[str, float | None] = {}
    for phase in ("open", "closed", "track"):
        a, b = cx["phases"].get(phase, {}), peer["phases"].get(phase, {})
        for key in ("achieved_events_per_s", "p99_ms"):
            x, y = a.get(key), b.get(key)
            out[f"{phase}_{key}"] = x / y if x is not None and y else None
    x, y = cx.get("server_peak_rss_bytes"), peer.get("server_peak_rss_bytes")
    out["server_peak_rss"] = x / y if x and y else None
    return out


PHASE_LABEL = {"open": "batch, open loop", "closed": "batch, closed loop", "track": "/v1/track, closed loop"}


def markdown(res: dict[str, Any]) -> str:
    m, c, g = res["machine"], res["config"], res["workload"]
    lines = [
        f"**Tracking API load** — {m['cpu']}, {m['logical_cores']} logical cores, {m['ram_gb']} GiB RAM, "
        f"Python {m['python']}, uvicorn {m['packages']['uvicorn']}, FastAPI {m['packages']['fastapi']}, "
        f"SQLite {m['sqlite']}, DuckDB {m['packages']['duckdb']}",
        f"Offered {c['events_per_second']:,} events/s in batches of {c['batch_size']} for {c['seconds']} s "
        f"({c['open_connections']} connections), gzip {'on' if c['gzip'] else 'off'}; closed loops with "
        f"{c['connections']} connections; {c['users']:,} users (70% of events from 30%), seed {c['seed']}; "
        f"mean event {g['mean_event_bytes']:.0f} B, batch body {g['mean_batch_body_bytes_raw'] / 1024:.1f} KiB "
        f"raw / {g['mean_batch_body_bytes_sent'] / 1024:.1f} KiB sent.",
        "",
        "| server | phase | offered ev/s | achieved ev/s | req/s | statuses | p50 ms | p95 ms | p99 ms | max ms "
        "| server cores | client cores | other cores | drain s | end-to-end ev/s |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, t in res["targets"].items():
        if "error" in t:
            lines.append(f"| {name} | ERROR: {t['error'].splitlines()[0]} ||||||||||||||")
            continue
        for phase, r in t["phases"].items():
            lines.append(_row(name, phase, r))
    lines += [
        "",
        "server/client cores = CPU seconds / phase wall time (the client shares the 2 cores with the server); "
        "other cores = machine-wide busy CPU not used by either (other work on the machine; should be ~0); "
        "drain = time after the last answer until `backlog_events` is 0; end-to-end = events processed / "
        "(first send → backlog empty).",
        "",
    ]
    for name, t in res["targets"].items():
        lines += _notes(name, t)
        if "server_peak_rss_bytes" in t:
            lines.append(
                f"- {name}: server peak RSS (VmHWM) {t['server_peak_rss_bytes'] / 2**20:,.0f} MiB; "
                f"rows after stop {t.get('rows')}; events answered 200: {t.get('events_ok_total'):,}"
            )
    lines += _verdict(res)
    return "\n".join(lines)


def _notes(name: str, t: dict[str, Any]) -> list[str]:
    phases = t.get("phases", {})
    o = phases.get("open")
    if not o:
        return []
    lag, svc = o["client_dispatch_lag_ms"], o["from_actual_send"]
    lines = [
        f"- {name}, open loop: latency from the actual send p50 {_ms(svc['p50_ms'])} / p99 {_ms(svc['p99_ms'])}; "
        f"client dispatch lag p99 {_ms(lag['p99_ms'])} / max {_ms(lag['max_ms'])}; "
        f"{o['requests_waited_for_connection']:,} of {o['requests']:,} requests waited for a free connection "
        f"(pool {o['connections']})"
    ]
    backlog = {
        p: r["max_backlog_events_sampled"] for p, r in phases.items() if "max_backlog_events_sampled" in r
    }
    if backlog:
        lines.append(
            f"- {name}: max sampled backlog_events per phase: "
            + ", ".join(f"{p} {b:,}" for p, b in backlog.items())
        )
    return lines


def _row(name: str, phase: str, r: dict[str, Any]) -> str:
    offered = f"{r['offered_events_per_s']:,.0f}" if "offered_events_per_s" in r else "closed"
    d = r.get("drain")
    drain_s = f"{d['drain_seconds']:.1f}" if d else ""
    e2e = f"{d['end_to_end_events_per_s']:,.0f}" + ("" if d["drained"] else " (not drained)") if d else ""
    statuses = ", ".join(f"{k}: {v:,}" for k, v in r["status_counts"].items())
    cut = f" ({r['unanswered_at_cutoff']} cut off, lower bound)" if r.get("unanswered_at_cutoff") else ""
    return (
        f"| {name} | {PHASE_LABEL[phase]} | {offered} | {r['achieved_events_per_s']:,.0f} | "
        f"{r['achieved_requests_per_s']:,.0f} | {statuses} | {_num(r['p50_ms'])} | {_num(r['p95_ms'])} | "
        f"{_num(r['p99_ms'])}{cut} | {_num(r['max_ms'])} | {r['server_cpu_s'] / r['wall_s']:.2f} | {r['client_cpu_s'] / r['wall_s']:.2f} | "
        f"{r['other_cpu_s'] / r['wall_s']:.2f} | "
        f"{drain_s} | {e2e} |"
    )


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:,.1f}"


def _cpu_warning(res: dict[str, Any]) -> list[str]:
    busy = {
        f"{name} {phase}": r["other_cpu_s"] / r["wall_s"]
        for name, t in res["targets"].items()
        for phase, r in t.get("phases", {}).items()
        if r["wall_s"] > 0 and r["other_cpu_s"] / r["wall_s"] > 0.1
    }
    others = {
        f"{name} {phase}": ", ".join(f"{n} {c:.1f} s" for n, c in r.get("other_processes", []))
        for name, t in res["targets"].items()
        for phase, r in t.get("phases", {}).items()
        if f"{name} {phase}" in busy
    }
    if not busy and res.get("other_cores_before", 0) <= 0.1:
        return []
    return [
        f"- WARNING: other processes used CPU (before the run {res.get('other_cores_before', 0):.2f} cores; "
        + ", ".join(f"{k} {v:.2f}" for k, v in busy.items())
        + "); busiest: "
        + "; ".join(f"{k}: {v}" for k, v in others.items())
        + ". Kernel threads (kworker, jbd2) may be the server's own disk writeback; "
        "user processes mean the phase shared the 2 cores with unrelated work: rerun on a quiet machine"
    ]


def _verdict(res: dict[str, Any]) -> list[str]:
    lines = _cpu_warning(res)
    r = res.get("ratios") or {}
    if r:
        lines.append(
            "- ratios cxlens/peer: " + ", ".join(f"{k} {v:.2f}" for k, v in r.items() if v is not None)
        )
    for name, t in res["targets"].items():
        o = t.get("phases", {}).get("open")
        if o and o["p99_ms"] is not None:
            met = o["achieved_events_per_s"] >= TARGET_EPS * 0.99 and o["p99_ms"] <= TARGET_P99_MS
            lines.append(
                f"- {name}: issue target (>= {TARGET_EPS:,} events/s, p99 <= {TARGET_P99_MS:.0f} ms at the "
                f"offered rate): {'met' if met else 'not met'} in this run "
                f"({o['achieved_events_per_s']:,.0f} events/s, p99 {o['p99_ms']:,.1f} ms)"
            )
    return lines


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------
def parse_args() -> tuple[Config, argparse.Namespace]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events-per-second", type=int, default=TARGET_EPS, help="offered rate, open loop")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seconds", type=int, default=30, help="open-loop batch phase length")
    p.add_argument("--closed-seconds", type=int, default=10, help="closed-loop batch phase length")
    p.add_argument("--track-seconds", type=int, default=15, help="closed-loop /v1/track phase length")
    p.add_argument("--connections", type=int, default=8, help="connections of the closed-loop phases")
    p.add_argument("--open-connections", type=int, default=32, help="connection pool of the open loop")
    p.add_argument("--gzip", action=argparse.BooleanOptionalAction, default=True, help="gzip batch bodies")
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--grace", type=float, default=15.0, help="open loop: wait after the schedule ends")
    p.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    p.add_argument("--drain-timeout", type=float, default=300.0, help="cxlens backlog wait, all phases")
    p.add_argument("--closed-pool-factor", type=float, default=3.0, help="closed pool = factor x offered")
    p.add_argument("--track-pool-per-second", type=int, default=4000, help="pre-generated /v1/track bodies")
    p.add_argument("--skip-peer", action="store_true")
    p.add_argument("--skip-cxlens", action="store_true")
    p.add_argument("--tmp", default=None, help="parent of the temp dir (default: system temp)")
    a = _results.parse_args(p, SMOKE)
    cfg = Config(
        a.events_per_second, a.batch_size, a.seconds, a.closed_seconds, a.track_seconds, a.connections,
        a.open_connections, a.gzip, a.users, a.seed, a.grace, a.timeout, a.drain_timeout,
        a.closed_pool_factor, a.track_pool_per_second,
    )  # fmt: skip
    return cfg, a


async def run_all(cfg: Config, a: argparse.Namespace, tmp: Path, work: Workload) -> dict[str, Any]:
    targets: dict[str, Any] = {}
    makers: list[tuple[str, Callable[[], Target]]] = []
    if not a.skip_cxlens:
        makers.append(("cxlens", lambda: cxlens_target(tmp, cfg)))
    if not a.skip_peer:
        makers.append(("peer", lambda: peer_target(tmp)))
    for name, make in makers:
        try:
            t = make()
            res = await run_target(t, work, cfg)
            res["rows"] = count_rows(t)
            res["events_ok_total"] = sum(p["events_ok"] for p in res["phases"].values())
            targets[name] = res
        except (RuntimeError, subprocess.CalledProcessError, OSError, ValueError, KeyError) as e:
            detail = getattr(e, "stderr", None) or ""
            targets[name] = {"error": f"{type(e).__name__}: {e}\n{detail}".strip()}
            print(f"[{name}] ERROR {targets[name]['error']}", flush=True)
    return targets


def main() -> int:
    cfg, a = parse_args()
    results: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": cfg.__dict__,
        "machine": machine(),
    }
    busy0 = system_cpu()[0]
    time.sleep(2.0)
    results["other_cores_before"] = (system_cpu()[0] - busy0) / 2.0
    tmp = Path(tempfile.mkdtemp(prefix="cxlens-bench-tracking-", dir=a.tmp))
    try:
        work = generate(cfg)
        results["workload"] = work.stats
        print(
            f"generated {work.stats['open_requests'] + work.stats['closed_pool_requests']:,} batches and "
            f"{work.stats['track_pool_requests']:,} single events in {work.stats['seconds']:.1f} s "
            f"(mean event {work.stats['mean_event_bytes']:.0f} B)",
            flush=True,
        )
        try:
            import uvloop

            runner: Callable[..., Any] = uvloop.run
        except ImportError:
            runner = asyncio.run
        results["targets"] = runner(run_all(cfg, a, tmp, work))
    finally:
        _rmtree(tmp)
    results["ratios"] = ratios(results)
    out = _results.write_result(a, "tracking", results)  # before the summary, which may fail on odd figures
    print()
    print(markdown(results))
    print(f"\nJSON ({out}):\n{out.read_text()}")
    return 0


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
