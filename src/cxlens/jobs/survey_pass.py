"""The survey pass: plan invitations from triggers, open follow-up cases for unhappy answers and plan
their re-surveys (automation/loop.py), then send what is due (and reminders).

``run_pass`` is one pass — ``cxlens surveys run`` calls it (for cron), and ``cxlens serve`` runs it
every ``CXLENS_SURVEY_SCHEDULER_SECONDS`` in a background thread (``SurveyScheduler``). Each step
is idempotent, so a pass cut short by a crash is completed by the next one. Passes never overlap:
the thread runs them one after another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from cxlens.automation.loop import run_loop
from cxlens.automation.triggers import run_triggers
from cxlens.errors import CxLensError
from cxlens.mail.smtp import Mailer, SmtpSettings
from cxlens.storage.store import Store
from cxlens.surveys.sending import SendConfig, send_due

log = logging.getLogger("cxlens.surveys")


@dataclass(frozen=True)
class SchedulerConfig:
    smtp: SmtpSettings
    send: SendConfig
    contact_days: float = 30
    interval_seconds: float = 30


def run_pass(store: Store, config: SchedulerConfig, now: datetime | None = None) -> dict[str, Any]:
    """Plan (triggers), open follow-up cases and plan re-surveys (the loop), then send. Returns what
    happened, for the CLI and the log."""
    now = now or datetime.now(UTC)
    with store.unit_of_work() as uow:
        planned = run_triggers(uow, contact_days=config.contact_days, now=now)
    loop = run_loop(store, contact_days=config.contact_days, now=now)
    with Mailer(config.smtp) as mailer:
        sent = send_due(store, mailer, config.send, now)
    return {
        "planned": planned.scheduled,
        "held_back": planned.suppressed,
        **loop,
        **{k: v for k, v in asdict(sent).items() if k != "errors"},
        "errors": sent.errors[:5],
    }


class SurveyScheduler:
    """Runs ``run_pass`` every ``interval_seconds`` until stopped. A failing pass is logged and the
    next one tries again: the web app keeps serving whatever the SMTP server does."""

    def __init__(
        self, store: Store, config: SchedulerConfig, run: Callable[[Store, SchedulerConfig], Any] = run_pass
    ) -> None:
        self.config = config
        self._store = store
        self._run = run
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        self.last_error: str | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="cxlens-surveys", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run the next pass now (e.g. invitations were just planned in the web app)."""
        self._wake.set()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.config.interval_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                outcome = self._run(self._store, self.config)
                self.last_error = None
                if any(outcome.get(k) for k in ("planned", "followups_opened", "sent", "failed", "reminded")):
                    log.info("survey pass: %s", outcome)
            except CxLensError as error:  # e.g. the workspace is busy: the next pass tries again
                self.last_error = error.message
                log.warning("survey pass failed: %s", error.message)
            except Exception as error:  # a bug must not stop the web app; it is logged with its trace
                self.last_error = repr(error)
                log.exception("survey pass failed")
            self.passes += 1

    def stats(self) -> dict[str, Any]:
        return {"passes": self.passes, "last_error": self.last_error}
