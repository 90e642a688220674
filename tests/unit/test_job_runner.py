"""The job runner: periodic jobs run on their period or when woken, never overlap, survive a failing
run, and stop in reverse order of starting."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from cxlens.errors import NotFound, WorkspaceBusy
from cxlens.jobs.runner import JobRunner, PeriodicJob


def run_in_own_loop(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """asyncio.run on a thread of its own: a browser test's sync Playwright session in the same
    xdist worker keeps an event loop running on the main thread, where asyncio.run refuses."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(scenario())
        except BaseException as error:  # re-raised in the test's thread below
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if failure:
        raise failure[0]


def test_a_woken_job_runs_at_once_and_a_failing_run_is_recorded_not_raised() -> None:
    ran = threading.Event()
    outcomes = iter([RuntimeError("bug"), WorkspaceBusy("busy"), {"sent": 1}])

    def work() -> object:
        ran.set()
        value = next(outcomes)
        if isinstance(value, Exception):
            raise value
        return value

    job = PeriodicJob("surveys", work, interval=3600)  # the period alone would never run it here

    async def scenario() -> None:
        await job.start()
        for _ in range(3):
            ran.clear()
            job.wake()
            assert ran.wait(10)
        await job.stop()

    run_in_own_loop(scenario)
    # the third run may still be finishing its bookkeeping when stop returns: join made sure it did
    assert job.runs == 3 and job.last_error is None


def test_run_once_records_the_last_error() -> None:
    job = PeriodicJob("x", lambda: 1 / 0, interval=1)
    assert job.run_once() is None
    assert job.stats() == {
        "runs": 1,
        "last_error": "ZeroDivisionError('division by zero')",
        "interval_seconds": 1,
    }


class Recorder:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self._log = name, log

    async def start(self) -> None:
        self._log.append(f"start {self.name}")

    async def stop(self) -> None:
        self._log.append(f"stop {self.name}")

    def stats(self) -> dict[str, object]:
        return {"name": self.name}


def test_the_runner_starts_in_order_and_stops_in_reverse() -> None:
    log: list[str] = []
    runner = JobRunner([Recorder("live", log), Recorder("surveys", log)])

    async def scenario() -> None:
        await runner.start()
        await runner.stop()

    run_in_own_loop(scenario)
    assert log == ["start live", "start surveys", "stop surveys", "stop live"]
    assert runner.stats() == {"live": {"name": "live"}, "surveys": {"name": "surveys"}}
    runner.wake("live")  # not periodic: ignored
    with pytest.raises(NotFound):
        runner.wake("nosuch")
    with pytest.raises(ValueError, match="unique"):
        JobRunner([Recorder("a", log), Recorder("a", log)])
