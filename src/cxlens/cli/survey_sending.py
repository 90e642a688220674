"""``cxlens surveys send|invitations|run`` and ``cxlens surveys trigger add|list|disable`` — getting
surveys to customers by email (docs/surveys.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from cxlens.automation import add_trigger, disable_trigger, list_triggers
from cxlens.bootstrap import scheduler_config
from cxlens.cli.context import DbOption, settings_for, workspace_store
from cxlens.cli.output import OutputFormat, format_option, render_record, render_rows
from cxlens.jobs.survey_pass import run_pass
from cxlens.surveys import access_survey, invite_customers, list_invitations, sendable_survey

triggers = typer.Typer(
    help="Surveys that ask by themselves: after an interaction, a solved case, or every N days."
)


def send(
    survey: str = typer.Argument(..., help="Survey name or id."),
    customers: list[str] | None = typer.Argument(None, help="Customer ids or emails."),
    segment: str | None = typer.Option(None, "--segment", help="Every customer of this segment instead."),
    touchpoint: str | None = typer.Option(None, "--touchpoint", help="The moment asked about."),
    remind_after_days: float | None = typer.Option(
        None, "--remind-after-days", help="Send one reminder this many days later if still unanswered."
    ),
    ignore_contact_rule: bool = typer.Option(
        False, "--ignore-contact-rule", help="Invite even customers asked within CXLENS_SURVEY_CONTACT_DAYS."
    ),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Invite customers by email now: plans the invitations, then sends them over SMTP."""
    settings = settings_for(db)
    config = scheduler_config(settings)
    now = datetime.now(UTC)
    with workspace_store(db) as store:
        with store.unit_of_work() as uow:
            record = sendable_survey(uow, survey)
            admitted = invite_customers(
                uow,
                survey_key=record.survey_key,
                refs=customers or (),
                segment=segment,
                touchpoint=touchpoint,
                remind_after_days=remind_after_days,
                contact_days=config.contact_days,
                respect_contact_rule=not ignore_contact_rule,
                now=now,
            )
        outcome = run_pass(store, config, now)
    render_record(
        {
            "invited": admitted.scheduled,
            "held_back": admitted.suppressed,
            "skipped_unknown": ", ".join(admitted.unknown),  # ids or emails no customer has
            **outcome,
        },
        fmt,
        title="Invitations",
    )


def invitations(
    survey: str | None = typer.Option(None, "--survey", help="Only this survey's invitations."),
    status: str | None = typer.Option(None, "--status", help="scheduled, sent, failed or suppressed."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="How many invitations, newest first."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """The newest invitations: to whom, why, and whether they were answered (or why they were held back)."""
    with workspace_store(db) as store, store.session() as s:
        key = access_survey(s, survey).survey_key if survey else None
        rows = list_invitations(s, survey_key=key, status=status, limit=limit)
    render_rows(rows, fmt, title="Invitations")


def run(db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """One pass of what `cxlens serve` does every CXLENS_SURVEY_SCHEDULER_SECONDS: triggers, sending,
    reminders (for cron, when the web app is not running)."""
    settings = settings_for(db)
    with workspace_store(db) as store:
        outcome = run_pass(store, scheduler_config(settings))
    render_record(outcome, fmt, title="Survey pass")


@triggers.command("add")
def trigger_add(
    name: str = typer.Argument(..., help="Short handle, e.g. csat-after-solve."),
    survey: str = typer.Option(..., "--survey", help="The survey to send."),
    kind: str = typer.Option(..., "--kind", help="interaction, case_solved or every."),
    event: str | None = typer.Option(
        None, "--event", help="kind interaction: its name, e.g. 'Order Delivered'."
    ),
    every_days: float | None = typer.Option(
        None, "--every-days", help="kind every: ask once per this many days."
    ),
    delay_minutes: float = typer.Option(0, "--delay-minutes", help="Wait this long after the moment."),
    sample: float = typer.Option(1.0, "--sample", help="Share of moments that invite (0.25: one in four)."),
    touchpoint: str | None = typer.Option(None, "--touchpoint", help="Recorded with the responses."),
    remind_after_days: float | None = typer.Option(None, "--remind-after-days", help="One reminder after."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Start asking by itself at a moment (from now on; earlier moments are not surveyed)."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        record = add_trigger(
            uow,
            name=name,
            survey=survey,
            kind=kind,
            event=event,
            every_days=every_days,
            delay_minutes=delay_minutes,
            sample_rate=sample,
            touchpoint=touchpoint,
            remind_after_days=remind_after_days,
        )
    render_record({k: v for k, v in record.items() if k != "trigger_key"}, fmt, title="Trigger added")


@triggers.command("list")
def trigger_list(db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """Every trigger with its invitations sent, held back by the contact rule, and answered."""
    with workspace_store(db) as store, store.session() as s:
        rows = list_triggers(s)
    render_rows(rows, fmt, title="Triggers")


@triggers.command("disable")
def trigger_disable(
    name: str = typer.Argument(..., help="The trigger's name."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Stop a trigger; its invitations not sent yet are dropped."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        record = disable_trigger(uow, name)
    render_record({k: v for k, v in record.items() if k != "trigger_key"}, fmt, title="Trigger disabled")


def register(app: typer.Typer) -> None:
    app.command("send")(send)
    app.command("invitations")(invitations)
    app.command("run")(run)
    app.add_typer(triggers, name="trigger")
