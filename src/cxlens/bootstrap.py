"""The composition root: the one place that turns Settings into a wired store, and the live tracking
pipeline. Web, CLI, jobs and tests all call it."""

from __future__ import annotations

from pathlib import Path

from cxlens.config import Settings
from cxlens.ingest.live import LiveConfig, LiveIngest
from cxlens.ingest.segment_wire import WireLimits
from cxlens.metrics.schedule import parse_schedule
from cxlens.metrics.spec import MetricsSettings
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.storage.spool import Spool


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
