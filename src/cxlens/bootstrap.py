"""The composition root: the one place that turns Settings into a wired application.

``build(settings)`` opens the store, translates every setting once into the record of the slice that
uses it, wires the event bus to the store's commits and the background jobs to the events, and
returns one frozen ``Container``. ``cxlens serve`` builds it and hands it to ``create_app``; the CLI
and tests use the same translations, so no slice carries a default of its own for a setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cxlens.auth.service import AuthSettings
from cxlens.cases.model import CasesOpened, CasesSolved
from cxlens.config import Settings
from cxlens.core.events import DomainEvent, EventBus
from cxlens.ingest.events import InteractionsIngested, ResponsesRecorded
from cxlens.ingest.live import LiveConfig, LiveIngest
from cxlens.ingest.segment_wire import WireLimits
from cxlens.jobs.runner import Job, JobRunner, PeriodicJob
from cxlens.jobs.survey_pass import SchedulerConfig, survey_job
from cxlens.mail.smtp import SmtpSettings
from cxlens.metrics.schedule import parse_schedule
from cxlens.metrics.spec import MetricsSettings
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.storage.spool import Spool
from cxlens.storage.store import Store
from cxlens.surveys.sending import SendConfig
from cxlens.surveys.widgets import WidgetSettings

# What the survey pass reacts to at once (its period is only the catch-up sweep): new interactions
# and solved cases fire triggers, recorded responses feed the loop, opened cases may need a re-survey.
SURVEY_WAKING_EVENTS: tuple[type[DomainEvent], ...] = (
    InteractionsIngested,
    ResponsesRecorded,
    CasesSolved,
    CasesOpened,
)


@dataclass(frozen=True)
class WebSettings:
    """What only the web app needs."""

    uploads_dir: Path
    upload_max_bytes: int
    upload_max_age: timedelta  # an upload previewed but never imported is deleted after this
    survey_answers_per_minute: int
    trusted_proxies: tuple[str, ...]
    phone_region: str | None  # imports from the page read numbers without +country like the CLI's
    import_chunk_rows: int


@dataclass(frozen=True)
class Container:
    """Everything a way in needs, wired once. ``live`` and ``survey_job`` exist only when serving;
    ``runner`` holds them (the app's lifespan starts and stops it)."""

    settings: Settings
    store: Store
    bus: EventBus
    runner: JobRunner
    live: LiveIngest | None
    survey_job: PeriodicJob | None
    survey_pass: SchedulerConfig
    smtp: SmtpSettings
    wire_limits: WireLimits
    metrics: MetricsSettings
    auth: AuthSettings
    widgets: WidgetSettings
    web: WebSettings


def build(settings: Settings, *, serving: bool = False, store: Store | None = None) -> Container:
    """The wired application. ``serving`` adds the background jobs (live tracking, the survey pass);
    ``store`` reuses an open store (tests) instead of opening ``settings.db``."""
    store = store if store is not None else open_store(settings)
    bus = EventBus()
    store.on_commit.append(bus.publish)  # after COMMIT only; a rollback publishes nothing
    survey_pass = scheduler_config(settings)
    live = live_ingest(settings, store) if serving else None
    surveys = survey_job(store, survey_pass, interval=settings.survey_scheduler_seconds) if serving else None
    if surveys is not None:
        for kind in SURVEY_WAKING_EVENTS:
            bus.subscribe(kind, _waker(surveys))
    jobs: list[Job] = [j for j in (live, surveys) if j is not None]
    return Container(
        settings=settings,
        store=store,
        bus=bus,
        runner=JobRunner(jobs),
        live=live,
        survey_job=surveys,
        survey_pass=survey_pass,
        smtp=survey_pass.smtp,
        wire_limits=wire_limits(settings),
        metrics=metrics_settings(settings),
        auth=auth_settings(settings),
        widgets=widget_settings(settings),
        web=web_settings(settings),
    )


def _waker(job: PeriodicJob) -> Callable[[DomainEvent], None]:
    return lambda _event: job.wake()


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


def trusted_proxies(settings: Settings) -> tuple[str, ...]:
    return tuple(p.strip() for p in settings.trusted_proxies.split(",") if p.strip())


def web_settings(settings: Settings) -> WebSettings:
    return WebSettings(
        uploads_dir=uploads_dir(settings),
        upload_max_bytes=settings.upload_max_bytes,
        upload_max_age=timedelta(hours=settings.upload_max_age_hours),
        survey_answers_per_minute=settings.survey_answers_per_minute,
        trusted_proxies=trusted_proxies(settings),
        phone_region=settings.default_phone_region,
        import_chunk_rows=settings.import_chunk_rows,
    )


def wire_limits(settings: Settings) -> WireLimits:
    return WireLimits(
        max_event_bytes=settings.tracking_max_event_bytes,
        max_batch_bytes=settings.tracking_max_request_bytes,
        max_batch_events=settings.tracking_max_batch_events,
    )


def live_ingest(settings: Settings, store: Store) -> LiveIngest:
    """The tracking pipeline: the spool beside the workspace and its processor."""
    return LiveIngest(store, Spool(spool_dir(settings)), live_config(settings))


def live_config(settings: Settings) -> LiveConfig:
    return LiveConfig(
        max_pending_events=settings.tracking_max_pending_events,
        max_backlog_events=settings.tracking_max_backlog_events,
        batch_events=settings.tracking_batch_events,
        dedupe_days=settings.tracking_dedupe_days,
    )


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


def auth_settings(settings: Settings) -> AuthSettings:
    return AuthSettings(
        session_hours=settings.session_hours,
        max_failures=settings.login_max_failures,
        window_minutes=settings.login_window_minutes,
    )


def widget_settings(settings: Settings) -> WidgetSettings:
    """The web widget and public links (/w/, /p/)."""
    return WidgetSettings(
        public_url=settings.public_url.rstrip("/"),
        contact_days=settings.survey_contact_days,
        link_days=settings.survey_link_days,
        brand_name=settings.brand_name,
        brand_logo_url=settings.brand_logo_url,
        brand_color=settings.brand_color,
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


def send_config(settings: Settings) -> SendConfig:
    return SendConfig(
        public_url=settings.public_url,
        sender=settings.mail_from,
        link_days=settings.survey_link_days,
        max_attempts=settings.survey_send_attempts,
    )


def scheduler_config(settings: Settings) -> SchedulerConfig:
    """Triggers, sending and reminders, as Settings say."""
    return SchedulerConfig(
        smtp=smtp_settings(settings),
        send=send_config(settings),
        contact_days=settings.survey_contact_days,
    )
