"""The survey pass: plan invitations from triggers, open follow-up cases for unhappy answers and plan
their re-surveys (automation/loop.py), then send what is due (and reminders).

``run_pass`` is one pass — ``cxlens surveys run`` calls it (for cron). ``cxlens serve`` runs it as
the job runner's ``surveys`` job (``survey_job``): at once when a committed event says there may be
work (bootstrap wires which), and every ``CXLENS_SURVEY_SCHEDULER_SECONDS`` as the sweep that catches
up after a crash or a missed event. Each step is idempotent, so a pass cut short by a crash is
completed by the next one. Passes never overlap: the job runs them one after another.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from cxlens.automation.loop import run_loop
from cxlens.automation.triggers import run_triggers
from cxlens.jobs.runner import PeriodicJob
from cxlens.mail.smtp import Mailer, SmtpSettings
from cxlens.storage.store import Store
from cxlens.surveys.sending import SendConfig, send_due

SURVEY_JOB = "surveys"


@dataclass(frozen=True)
class SchedulerConfig:
    """What one pass needs, from Settings (``bootstrap.scheduler_config``)."""

    smtp: SmtpSettings
    send: SendConfig
    contact_days: float


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


def survey_job(store: Store, config: SchedulerConfig, *, interval: float) -> PeriodicJob:
    """The pass as a background job: woken by the events bootstrap subscribes it to, and run every
    ``interval`` seconds (``CXLENS_SURVEY_SCHEDULER_SECONDS``) as the sweep that catches up."""
    return PeriodicJob(
        SURVEY_JOB, lambda: run_pass(store, config), interval=interval, worth_logging=_worth_logging
    )


def _worth_logging(outcome: dict[str, Any]) -> bool:
    return any(outcome.get(k) for k in ("planned", "followups_opened", "sent", "failed", "reminded"))
