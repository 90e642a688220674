"""The one runner for background work while cxlens serves.

A job has a name and a lifecycle (``start``/``stop``) and reports ``stats``; the runner starts them
in order and stops them in reverse, so the app's lifespan has one thing to start. Two kinds exist:

- ``PeriodicJob``: calls a function every ``interval`` seconds on a thread of its own, or at once
  when woken (``wake``). Domain events wake it (bootstrap subscribes ``wake`` to the events a job
  reacts to); the period is the sweep that catches up after a crash or a missed event. A run never
  overlaps the previous one, and a failing run is logged and retried on the next.
- anything with the same lifecycle, such as the live tracking pipeline (``ingest.live.LiveIngest``).

State lives in the database, never in a job: every run reads what is left to do, so a restart
resumes where the last committed transaction ended.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from cxlens.errors import CxLensError, NotFound

log = logging.getLogger("cxlens.jobs")


class Job(Protocol):
    @property
    def name(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def stats(self) -> dict[str, Any]: ...


class PeriodicJob:
    """``run`` every ``interval`` seconds, or sooner after ``wake``; ``run`` returns what it did
    (logged when ``worth_logging`` says so)."""

    def __init__(
        self,
        name: str,
        run: Callable[[], Any],
        *,
        interval: float,
        worth_logging: Callable[[Any], bool] = bool,
    ) -> None:
        self._name = name
        self._run = run
        self.interval = interval
        self._worth_logging = worth_logging
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.last_error: str | None = None

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"cxlens-{self._name}", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run now rather than at the end of the period (cheap; safe from any thread)."""
        self._wake.set()

    @property
    def woken(self) -> bool:
        """A wake is waiting for its run (the run clears it as it starts)."""
        return self._wake.is_set()

    async def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.join, timeout)

    def run_once(self) -> Any:
        """One run, in the caller's thread; errors are recorded and logged, never raised."""
        try:
            outcome = self._run()
        except CxLensError as error:  # e.g. the workspace is busy: the next run tries again
            self.last_error = error.message
            log.warning("%s failed: %s", self._name, error.message)
            return None
        except Exception as error:  # a bug must not stop the web app; it is logged with its trace
            self.last_error = repr(error)
            log.exception("%s failed", self._name)
            return None
        finally:
            self.runs += 1
        self.last_error = None
        if self._worth_logging(outcome):
            log.info("%s: %s", self._name, outcome)
        return outcome

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            self.run_once()

    def stats(self) -> dict[str, Any]:
        return {"runs": self.runs, "last_error": self.last_error, "interval_seconds": self.interval}


class JobRunner:
    """Starts its jobs in order, stops them in reverse; finds one by name."""

    def __init__(self, jobs: Sequence[Job] = ()) -> None:
        names = [j.name for j in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self._jobs = list(jobs)
        self._started: list[Job] = []

    def job(self, name: str) -> Job:
        for job in self._jobs:
            if job.name == name:
                return job
        raise NotFound(f"No background job named {name!r}.")

    def wake(self, name: str) -> None:
        """Wake a periodic job now; jobs that cannot be woken ignore it."""
        job = self.job(name)
        if isinstance(job, PeriodicJob):
            job.wake()

    async def start(self) -> None:
        for job in self._jobs:
            await job.start()
            self._started.append(job)

    async def stop(self) -> None:
        while self._started:
            await self._started.pop().stop()

    def stats(self) -> dict[str, dict[str, Any]]:
        return {job.name: job.stats() for job in self._jobs}
