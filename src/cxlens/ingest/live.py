"""Live ingestion at run time: accepted events go to the spool (group commit, fsync) before the
caller is answered; a processor thread applies spooled events to the workspace in batches.

    request -> validate (segment_wire) -> LiveIngest.accept -> writer task -> Spool.append + fsync
            -> 200                                                 |
                                        Processor thread: Spool.seal -> apply_segments -> discard

Group commit: while one write+fsync is in flight, new requests queue up and go out together in the
next one, so the number of fsyncs per second stays small however many requests arrive.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson

from cxlens.core.credentials import hash_secret
from cxlens.errors import Overloaded, WorkspaceError
from cxlens.ingest.tracking import apply_segments, prune_tracking_log
from cxlens.sources.queries import active_key_hashes
from cxlens.storage.spool import Segment, Spool
from cxlens.storage.store import Store

log = logging.getLogger("cxlens.tracking")

_KEY_REFRESH_SECONDS = 5.0
_PRUNE_EVERY_SECONDS = 3600.0
_STOP_DRAIN_SECONDS = 30.0


@dataclass(frozen=True)
class LiveConfig:
    max_pending_events: int = 100_000
    max_backlog_events: int = 5_000_000
    batch_events: int = 200_000
    dedupe_days: int = 7
    interval_seconds: float = 0.2


class SourceDirectory:
    """Write key -> source name, from an in-memory copy of the active keys' hashes.

    Request handling never waits on the database: a checkpoint or a long transaction there can
    take seconds, and the lookup runs on the event loop. The copy is refreshed in the background
    every few seconds, so a revoked key stops working (and a new one starts) within that time;
    an unknown key costs a hash and a dict lookup, however many are tried."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._by_hash: dict[str, str] = {}

    def refresh(self) -> None:
        with self._store.session() as s:
            self._by_hash = active_key_hashes(s)  # one assignment: readers see old or new, whole

    def source_for(self, key: str) -> str | None:
        return self._by_hash.get(hash_secret(key))


@dataclass
class ProcessorStats:
    applied_events: int = 0
    duplicates: int = 0
    rejected: int = 0
    last_error: str | None = None
    last_batch_events: int = 0
    last_batch_seconds: float = 0.0


class Processor:
    """The thread that applies spooled events to the workspace."""

    def __init__(self, store: Store, spool: Spool, config: LiveConfig) -> None:
        self._store, self._spool, self._config = store, spool, config
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cxlens-tracking", daemon=True)
        self._last_prune = 0.0
        self.stats = ProcessorStats()

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self._wake.wait(self._config.interval_seconds)
            self._wake.clear()
            started = time.monotonic()
            try:
                while self.apply_once():
                    pass
                self._maybe_prune()
                failures = 0
            except Exception as error:  # keep serving: the events stay in the spool and are retried
                failures += 1
                self.stats.last_error = f"{type(error).__name__}: {error}"
                log.exception("applying tracking events failed (attempt %d); will retry", failures)
                self._stopping.wait(min(30.0, 0.5 * 2**failures))
            # At most one batch per interval: a trickle of single calls then costs one transaction
            # per interval rather than one per request, and the timeline is still under a second behind.
            self._stopping.wait(max(0.0, self._config.interval_seconds - (time.monotonic() - started)))
        self._drain_before_stop()

    def _drain_before_stop(self) -> None:
        deadline = time.monotonic() + _STOP_DRAIN_SECONDS
        try:
            while time.monotonic() < deadline and self.apply_once():
                pass
        except Exception:
            log.exception("applying tracking events at shutdown failed; they stay in the spool")

    def apply_once(self) -> bool:
        """Apply the oldest sealed segments (up to ``batch_events``); True if more are waiting."""
        sealed = self._spool.seal()
        if not sealed:
            return False
        batch = _take(sealed, self._config.batch_events)
        started = time.monotonic()
        result = apply_segments(self._store, batch)
        self.stats.applied_events += result.applied
        self.stats.duplicates += result.duplicates
        self.stats.rejected += result.rejected
        self.stats.last_error = None
        self.stats.last_batch_events = result.events
        self.stats.last_batch_seconds = round(time.monotonic() - started, 3)
        self._spool.discard(batch)  # after the counters, so a zero backlog means they are final
        return len(batch) < len(sealed)

    def _maybe_prune(self) -> None:
        if time.monotonic() - self._last_prune < _PRUNE_EVERY_SECONDS:
            return
        self._last_prune = time.monotonic()
        with self._store.unit_of_work() as uow:
            prune_tracking_log(uow, days=self._config.dedupe_days)


def _take(sealed: list[Segment], limit: int) -> list[Segment]:
    """Oldest segments up to ``limit`` events (always at least one)."""
    taken: list[Segment] = []
    events = 0
    for segment in sealed:
        if taken and events + segment.events > limit:
            break
        taken.append(segment)
        events += segment.events
    return taken


@dataclass
class _Pending:
    data: bytes
    events: int
    done: asyncio.Future[None] = field(repr=False)


class LiveIngest:
    """Owns the spool writer and the processor; the web app calls ``accept`` per request."""

    name = "tracking"  # a job of the runner (jobs/runner.py): started and stopped with the app

    def __init__(self, store: Store, spool: Spool, config: LiveConfig) -> None:
        self.spool = spool
        self.config = config
        self.sources = SourceDirectory(store)
        self.processor = Processor(store, spool, config)
        self._queue: list[_Pending] = []
        self._queued_events = 0
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxlens-spool")
        self._closing = False

    async def start(self) -> None:
        self.sources.refresh()
        self._wake = asyncio.Event()
        self._writer = asyncio.create_task(self._write_loop(), name="cxlens-spool-writer")
        self._refresher = asyncio.create_task(self._refresh_loop(), name="cxlens-key-refresh")
        self.processor.start()

    async def _refresh_loop(self) -> None:
        while not self._closing:
            await asyncio.sleep(_KEY_REFRESH_SECONDS)
            try:
                await asyncio.to_thread(self.sources.refresh)
            except Exception:  # keep the last good copy; try again next time
                log.exception("refreshing the write keys failed")

    async def stop(self) -> None:
        self._closing = True
        if self._refresher is not None:
            self._refresher.cancel()
        if self._wake is not None and self._writer is not None:
            self._wake.set()
            await self._writer
        await asyncio.to_thread(self.processor.stop)
        self._executor.shutdown()
        self.spool.close()

    async def accept(self, source: str, events: list[dict[str, Any]]) -> None:
        """Return once ``events`` are durably spooled; raise Overloaded when the queue or the
        backlog is full (the caller answers 429 and the client retries)."""
        if not events:
            return
        self._check_capacity(len(events))
        data = b"".join(orjson.dumps({**event, "_source": source}) + b"\n" for event in events)
        pending = _Pending(data, len(events), asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        self._queued_events += pending.events
        assert self._wake is not None, "LiveIngest.start() was not awaited"
        self._wake.set()
        await pending.done

    def _check_capacity(self, count: int) -> None:
        if self._closing:
            raise Overloaded("The server is shutting down; retry in a moment.", retry_after=5)
        if self._queued_events + count > self.config.max_pending_events:
            raise Overloaded("Too many events are waiting to be stored; retry in a second.", retry_after=1)
        if self.spool.pending_events > self.config.max_backlog_events:
            raise Overloaded(
                "Too many accepted events are waiting to be applied to the workspace; retry later.",
                retry_after=10,
            )

    async def _write_loop(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while not (self._closing and not self._queue):
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue, []
                await self._write(loop, batch)

    async def _write(self, loop: asyncio.AbstractEventLoop, batch: list[_Pending]) -> None:
        events = sum(p.events for p in batch)
        try:
            await loop.run_in_executor(
                self._executor, self.spool.append, b"".join(p.data for p in batch), events
            )
        except OSError as error:
            log.exception("writing to the spool failed")
            failure = WorkspaceError(f"Events could not be stored ({error.strerror}); retry later.")
            for p in batch:
                if not p.done.done():  # a caller that disconnected has cancelled its future
                    p.done.set_exception(failure)
        else:
            for p in batch:
                if not p.done.done():
                    p.done.set_result(None)
            self.processor.wake()
        finally:
            self._queued_events -= events

    def stats(self) -> dict[str, Any]:
        s = self.processor.stats
        return {
            "backlog_events": self.spool.pending_events,
            "processed_events": s.applied_events,
            "duplicates": s.duplicates,
            "rejected": s.rejected,
            "last_error": s.last_error,
            "last_batch": {"events": s.last_batch_events, "seconds": s.last_batch_seconds},
        }
