"""The one typed Settings object. Every field has a description; docs/configuration.md is generated
from it (``cxlens docs config``) and a test fails when the two drift apart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """cxlens configuration, read from ``CXLENS_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="CXLENS_", extra="ignore", frozen=True)

    db: Path = Field(
        default=Path("cxlens.duckdb"),
        description="Path of the workspace's DuckDB file (also `--db`).",
    )
    host: str = Field(default="127.0.0.1", description="Interface `cxlens serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port `cxlens serve` listens on.")
    memory_limit: str = Field(
        default="1600MB",
        description="Memory the embedded engine may use before spilling to disk (DuckDB syntax). "
        "The process peaks about 150 MB above it (interpreter, libraries); the default keeps a "
        "10-million-row import under 2 GB (docs/benchmarks.md).",
    )
    threads: int = Field(default=0, ge=0, description="Engine threads; 0 means one per core.")
    import_chunk_rows: int = Field(
        default=1_000_000,
        ge=1,
        description="Rows committed per transaction during bulk import; a crash loses at most the "
        "chunk in flight, which the next run completes.",
    )
    max_line_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Longest single line/record accepted in CSV and JSON Lines files.",
    )
    upload_max_age_hours: float = Field(
        default=24,
        gt=0,
        description="Files uploaded on the import page but never imported are deleted after this many "
        "hours (and at every start of `cxlens serve`, since the list of uploads lives in memory).",
    )
    default_phone_region: str | None = Field(
        default=None,
        description="ISO country code (e.g. `US`, `BR`) used to read phone numbers written without "
        "a `+country` prefix; without it such numbers are rejected.",
    )
    page_size: int = Field(default=50, ge=1, le=1000, description="Default page size of lists.")
    metrics_min_n: int = Field(
        default=30,
        ge=1,
        description="Groups with fewer responses (or cases) than this are flagged `small_n` and never called "
        "significant: their figures are shown, not presented as facts.",
    )
    fcr_repeat_days: float = Field(
        default=7,
        ge=0,
        description="First-contact resolution: a case counts as resolved at first contact only if the "
        "customer opens no new case within this many days after it was resolved.",
    )
    business_days: str = Field(
        default="1-5",
        description="Business days for business-hours metrics (`frt_business`, `ttr_business`): ISO week "
        "days, 1 = Monday, as ranges or a list (`1-5`, `1-6`, `1,2,3,4,7`).",
    )
    business_hours: str = Field(default="09:00-17:00", description="Business hours of each business day.")
    business_timezone: str = Field(default="UTC", description="IANA time zone of the business hours.")
    business_holidays: str = Field(
        default="", description="Days without business hours, as ISO dates separated by commas."
    )
    spool_dir: Path | None = Field(
        default=None,
        description="Folder of the tracking API's spool: accepted events wait there, on disk, until they "
        "are applied to the workspace. Default: `<db>.spool` beside the workspace file.",
    )
    tracking_max_event_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        description="Largest tracking event accepted, as compact JSON (Segment: 32 KB).",
    )
    tracking_max_request_bytes: int = Field(
        default=500 * 1024,
        ge=1024,
        description="Largest tracking request body, after gzip decoding (Segment: 500 KB per batch).",
    )
    tracking_max_batch_events: int = Field(
        default=2500, ge=1, description="Most events in one `/v1/batch` request (Segment: 2,500)."
    )
    tracking_max_pending_events: int = Field(
        default=100_000,
        ge=100,
        description="Events waiting to be written to the spool before new requests get 429 Too Many "
        "Requests with `Retry-After`.",
    )
    tracking_max_backlog_events: int = Field(
        default=5_000_000,
        ge=1000,
        description="Accepted events not yet applied to the workspace before new requests get 429 (bounds "
        "the spool's disk use when the workspace cannot keep up).",
    )
    tracking_batch_events: int = Field(
        default=200_000,
        ge=100,
        description="Most spooled events applied to the workspace in one transaction.",
    )
    tracking_dedupe_days: int = Field(
        default=7,
        ge=1,
        description="How long a message id is remembered: a retry within this window is dropped as a "
        "duplicate (Segment: about 24 hours; RudderStack: 7 days).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Addresses (or CIDR ranges) of reverse proxies, separated by commas, whose "
        "`X-Forwarded-For` and `X-Forwarded-Proto` headers are believed. None by default: the client "
        "address is the connection's peer, so a forged header cannot dodge the survey rate limit or lock "
        "someone else out of sign-in (docs/security.md).",
    )
    upload_max_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1024,
        description="Largest file accepted on the import page (413 `payload_too_large` beyond it); the "
        "command line (`cxlens import`) has no limit.",
    )
    session_hours: float = Field(
        default=12,
        gt=0,
        description="How long a web sign-in lasts; the session then expires and the user signs in again.",
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins for one email within `CXLENS_LOGIN_WINDOW_MINUTES` before further "
        "attempts are refused (429 `login_throttled`) without checking the password; one client address "
        "may fail four times as often, across emails.",
    )
    login_window_minutes: float = Field(
        default=15,
        gt=0,
        description="The sliding window over which failed sign-ins are counted.",
    )

    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address customers reach cxlens at, without a trailing slash: survey links in "
        "emails and the widget's script point there.",
    )
    survey_answers_per_minute: int = Field(
        default=60,
        ge=1,
        description="Requests one client address may make per minute to the pages customers answer "
        "surveys on (`/s/`, `/p/`, `/w/`) before getting 429 with `Retry-After`.",
    )
    # The brand on every page a customer sees (survey page, thank-you page, public link, widget).
    brand_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        description="Your company's or product's name, shown to customers on survey pages, the thank-you "
        "page and in the web widget; unset, those pages name no one (never cxlens).",
    )
    brand_logo_url: str | None = Field(
        default=None,
        max_length=2000,
        description="A logo beside the brand name: an `https://` URL or a path on this server (`/…`).",
    )
    brand_color: str = Field(
        default="#1d4ed8",
        description="The accent colour of customer pages (buttons, links, the chosen score) as `#rrggbb`; "
        "white text on it must reach 4.5:1 contrast (WCAG AA).",
    )
    smtp_host: str = Field(default="localhost", description="SMTP server that sends survey invitations.")
    smtp_port: int = Field(
        default=25, ge=1, le=65535, description="Its port (usually 25, 587 with STARTTLS, 465 with TLS)."
    )
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="starttls",
        description="`starttls` upgrades a plain connection (and refuses to send if the server cannot), `tls` "
        "connects with TLS from the start, `none` sends in clear text (a relay on the same machine only).",
    )
    smtp_username: str | None = Field(default=None, description="SMTP user name; no login when unset.")
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password (never printed or logged)."
    )
    smtp_timeout_seconds: float = Field(default=30, gt=0, description="How long to wait for the SMTP server.")
    mail_from: str = Field(
        default="cxlens <surveys@localhost>",
        description="The From of survey invitations, e.g. `Acme <feedback@acme.example>`.",
    )
    survey_contact_days: float = Field(
        default=30,
        ge=0,
        description="Contact-frequency rule across all surveys: no customer is invited (by a trigger, by "
        "hand or by the widget) more than once within this many days; 0 turns the rule off.",
    )
    survey_link_days: float = Field(
        default=30, gt=0, le=365, description="How long an emailed or widget survey link can be answered."
    )
    survey_send_attempts: int = Field(
        default=3, ge=1, description="Tries to send one invitation before it is marked failed."
    )
    survey_scheduler_seconds: float = Field(
        default=30,
        gt=0,
        description="How often `cxlens serve` runs triggers, sends due invitations and reminders, and opens "
        "follow-up cases (`cxlens surveys run` does one pass, for cron).",
    )
    debug: bool = Field(
        default=False,
        description="Show the full traceback of an unexpected error on the command line instead of one "
        "line (for a bug report).",
    )

    @field_validator("brand_logo_url")
    @classmethod
    def _logo_url(cls, value: str | None) -> str | None:
        return None if value is None else check_logo_url(value)

    @field_validator("brand_color")
    @classmethod
    def _brand_color(cls, value: str) -> str:
        return check_brand_color(value)


def check_logo_url(value: str) -> str:
    """An https URL with a host, or a path on this server; nothing a CSP source or an HTML attribute
    could misread (no spaces, quotes, semicolons or commas)."""
    if _UNSAFE_IN_URL.search(value):
        raise ValueError("the logo URL may not contain spaces, quotes, semicolons, commas or angle brackets")
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.netloc:
        return value
    if not parts.scheme and not parts.netloc and value.startswith("/") and not value.startswith("//"):
        return value
    raise ValueError("give an https:// URL or a path on this server starting with / (e.g. /static/logo.svg)")


def check_brand_color(value: str) -> str:
    """``#rrggbb`` dark enough for white text on it (4.5:1, WCAG AA): customer pages' buttons."""
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError(f"{value!r} is not a colour as #rrggbb (e.g. #1d4ed8)")
    ratio = 1.05 / (relative_luminance(value) + 0.05)
    if ratio < MIN_CONTRAST:
        raise ValueError(
            f"{value} is too light: white text on it has contrast {ratio:.1f}:1, at least {MIN_CONTRAST}:1 "
            "is needed (choose a darker shade)"
        )
    return value.lower()


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


MIN_CONTRAST = 4.5
_UNSAFE_IN_URL = re.compile(r"[\s\"'<>;,\\]")


def settings_reference() -> str:
    """docs/configuration.md, generated from the fields above (``python -m cxlens.config``)."""
    lines = [
        "# Configuration",
        "",
        "Generated from `cxlens.config.Settings` by `python -m cxlens.config > docs/configuration.md`;",
        "a test fails when this file and the code disagree. Every setting is an environment variable.",
        "",
        "| variable | default | description |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else f"`{field.default}`"
        lines.append(f"| `CXLENS_{name.upper()}` | {default} | {field.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_reference(), end="")
