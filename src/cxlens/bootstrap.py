"""The composition root: the one place that turns Settings into a wired store, and the live tracking
pipeline. Web, CLI, jobs and tests all call it."""

from __future__ import annotations

from pathlib import Path

from cxlens.config import Settings
from cxlens.ingest.live import LiveConfig, LiveIngest
from cxlens.ingest.segment_wire import WireLimits
from cxlens.jobs.survey_pass import SchedulerConfig, SurveyScheduler
from cxlens.mail.smtp import SmtpSettings
from cxlens.metrics.schedule import parse_schedule
from cxlens.metrics.spec import MetricsSettings
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.storage.spool import Spool
from cxlens.surveys.sending import SendConfig


def open_store(settings: Settings) -> DuckDBStore:
    """Open (creating and migrating if needed) the workspace named by ``settings.db``."""
    settings.db.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBStore(
        str(settings.db),
        memory_limit=settings.memory_limit,
        threads=settings.threads,
        max_line_bytes=settings.max_line_bytes,
    )


def spool_dir(settings: Settings) -> Path:
    return settings.spool_dir or settings.db.with_name(settings.db.name + ".spool")


def uploads_dir(settings: Settings) -> Path:
    """Where files uploaded on the import page are kept, next to the workspace."""
    return settings.db.with_name(settings.db.name + ".uploads")


def wire_limits(settings: Settings) -> WireLimits:
    return WireLimits(
        max_event_bytes=settings.tracking_max_event_bytes,
        max_batch_bytes=settings.tracking_max_request_bytes,
        max_batch_events=settings.tracking_max_batch_events,
    )


def live_ingest(settings: Settings, store: DuckDBStore) -> LiveIngest:
    """The tracking pipeline: the spool beside the workspace and its processor."""
    config = LiveConfig(
        max_pending_events=settings.tracking_max_pending_events,
        max_backlog_events=settings.tracking_max_backlog_events,
        batch_events=settings.tracking_batch_events,
        dedupe_days=settings.tracking_dedupe_days,
    )
    return LiveIngest(store, Spool(spool_dir(settings)), config)


def metrics_settings(settings: Settings) -> MetricsSettings:
    """Minimum group size and business hours, validated once."""
    schedule = parse_schedule(
        settings.business_days,
        settings.business_hours,
        settings.business_timezone,
        settings.business_holidays,
    )
    return MetricsSettings(
        min_n=settings.metrics_min_n, fcr_repeat_days=settings.fcr_repeat_days, schedule=schedule
    )


def smtp_settings(settings: Settings) -> SmtpSettings:
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout=settings.smtp_timeout_seconds,
        sender=settings.mail_from,
    )


def scheduler_config(settings: Settings) -> SchedulerConfig:
    """Triggers, sending and reminders, as Settings say."""
    return SchedulerConfig(
        smtp=smtp_settings(settings),
        send=SendConfig(
            public_url=settings.public_url,
            sender=settings.mail_from,
            link_days=settings.survey_link_days,
            max_attempts=settings.survey_send_attempts,
        ),
        contact_days=settings.survey_contact_days,
        interval_seconds=settings.survey_scheduler_seconds,
    )


def survey_scheduler(settings: Settings, store: DuckDBStore) -> SurveyScheduler:
    return SurveyScheduler(store, scheduler_config(settings))
