"""The spool: a durable, append-only log of accepted tracking events, in segment files.

The tracking API acknowledges an event once it is here, fsynced — not once it is in the
database. Appending a few kilobytes and calling fsync takes about a millisecond, while a database
commit can wait behind a checkpoint for a quarter of a second; the spool keeps the API's latency
flat and the database work batched (docs/decisions/0003-tracking-spool.md).

A segment is a file of JSON lines named ``<nanoseconds>-<counter>.jsonl`` (names sort in creation
order). Exactly one segment is open for appends; ``seal`` closes it so the processor can apply
every sealed segment in one database transaction and then ``discard`` it. A process killed in the
middle of an append leaves at most a torn last line, which is cut off when the spool is reopened:
that append was never acknowledged.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".jsonl"


@dataclass(frozen=True)
class Segment:
    path: Path
    events: int

    @property
    def name(self) -> str:
        return self.path.name


class Spool:
    """Appends come from one writer thread; ``seal``/``discard`` from the processor thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._counter = 0
        self._open: tuple[Path, int] | None = None  # (path, fd)
        self._open_events = 0
        recovered = [_recover(path) for path in self._segment_files()]
        for empty in (s for s in recovered if not s.events):
            empty.path.unlink()
        self._sealed = [s for s in recovered if s.events]
        self._pending = sum(s.events for s in self._sealed)
        _fsync_dir(directory)

    def _segment_files(self) -> list[Path]:
        return sorted(p for p in self.directory.iterdir() if p.suffix == SUFFIX)

    @property
    def pending_events(self) -> int:
        """Events appended (acknowledged) and not yet discarded by the processor."""
        return self._pending

    def append(self, data: bytes, events: int) -> None:
        """Write ``data`` (whole JSON lines) and fsync; return only once it is on disk."""
        with self._lock:
            if self._open is None:
                self._open = self._new_segment()
            _, fd = self._open
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            self._open_events += events
            self._pending += events

    def _new_segment(self) -> tuple[Path, int]:
        self._counter += 1
        path = self.directory / f"{time.time_ns():020d}-{self._counter:06d}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _fsync_dir(self.directory)  # the new file's name must survive a crash too
        return path, fd

    def seal(self) -> list[Segment]:
        """Close the open segment (if any) and return every sealed segment, oldest first."""
        with self._lock:
            if self._open is not None:
                path, fd = self._open
                os.close(fd)
                self._sealed.append(Segment(path, self._open_events))
                self._open, self._open_events = None, 0
            return list(self._sealed)

    def discard(self, segments: list[Segment]) -> None:
        """Forget segments whose events are committed to the database."""
        names = {s.name for s in segments}
        with self._lock:
            self._sealed = [s for s in self._sealed if s.name not in names]
            self._pending -= sum(s.events for s in segments)
        for segment in segments:
            segment.path.unlink(missing_ok=True)
        _fsync_dir(self.directory)

    def close(self) -> None:
        with self._lock:
            if self._open is not None:
                os.close(self._open[1])
                self._sealed.append(Segment(self._open[0], self._open_events))
                self._open, self._open_events = None, 0


def _recover(path: Path) -> Segment:
    """Cut a torn last line (an append the crash interrupted, never acknowledged); count events."""
    data = path.read_bytes()
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        with path.open("r+b") as handle:
            handle.truncate(complete)
            handle.flush()
            os.fsync(handle.fileno())
    return Segment(path, data.count(b"\n", 0, complete))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
