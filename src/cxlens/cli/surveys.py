"""``cxlens surveys create|list|show|export|update|archive`` — survey definitions (docs/surveys.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from cxlens.cli import survey_loop, survey_sending, survey_widgets
from cxlens.cli.context import DbOption, settings_for, workspace_store
from cxlens.cli.output import OutputFormat, format_option, render_record, render_rows, to_json
from cxlens.errors import InvalidInput
from cxlens.surveys import (
    StoredSurvey,
    access_survey,
    archive_survey,
    create_link,
    create_survey,
    list_surveys,
    template_document,
    update_survey,
)

app = typer.Typer(
    help="Survey definitions: NPS, CSAT and CES templates, or your own SurveyJS JSON.", no_args_is_help=True
)
FileOption = typer.Option(None, "--file", help="A SurveyJS-subset JSON document (docs/surveys.md).")


def _document(template: str | None, file: Path | None) -> dict[str, Any]:
    if (template is None) == (file is None):
        raise InvalidInput("Give exactly one of --template (nps, csat, ces) or --file survey.json.")
    if template is not None:
        return template_document(template)
    assert file is not None
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"Cannot read {file}: {error.strerror}.") from error
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"{file} is not JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from error
    if not isinstance(document, dict):
        raise InvalidInput(f"{file} must hold one JSON object (a SurveyJS survey).")
    return document


def _summary(record: StoredSurvey) -> dict[str, Any]:
    shown = record.public()
    del shown["definition"]
    return shown


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Short handle, e.g. nps-quarterly."),
    template: str | None = typer.Option(None, "--template", help="Start from a template: nps, csat or ces."),
    file: Path | None = FileOption,
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Create a survey from a template or a SurveyJS JSON file (validated; every problem listed)."""
    document = _document(template, file)
    with workspace_store(db) as store, store.unit_of_work() as uow:
        record = create_survey(uow, name=name, document=document)
    render_record(_summary(record), fmt, title="Survey created")


@app.command("update")
def update(
    ref: str = typer.Argument(..., help="Survey name or id."),
    file: Path = typer.Option(..., "--file", help="The new SurveyJS-subset JSON document."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Replace a survey's definition."""
    document = _document(None, file)
    with workspace_store(db) as store, store.unit_of_work() as uow:
        record = update_survey(uow, ref=ref, document=document)
    render_record(_summary(record), fmt, title="Survey updated")


@app.command("list")
def list_command(db: Path | None = DbOption, fmt: OutputFormat = format_option()) -> None:
    """Every survey with its metric and state."""
    with workspace_store(db) as store, store.session() as s:
        rows = list_surveys(s)
    render_rows(rows, fmt, title="Surveys")


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="Survey name or id."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """A survey's details and its questions."""
    with workspace_store(db) as store, store.session() as s:
        record = access_survey(s, ref)
    if fmt is OutputFormat.json:
        print(to_json(record.public()))
        return
    render_record(_summary(record), fmt, title=f"Survey {record.name}")
    questions = [
        {
            "page": page.get("name"),
            "question": element.get("name"),
            "type": element.get("type"),
            "visible_if": element.get("visibleIf", ""),
        }
        for page in record.definition.get("pages", [])
        for element in page.get("elements", [])
    ]
    render_rows(questions, fmt, title="Questions")


@app.command("export")
def export(
    ref: str = typer.Argument(..., help="Survey name or id."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    db: Path | None = DbOption,
) -> None:
    """The survey as SurveyJS JSON (it imports back with `surveys create --file`)."""
    with workspace_store(db) as store, store.session() as s:
        document = access_survey(s, ref).definition
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        print(text, end="")
    else:
        output.write_text(text, encoding="utf-8")


@app.command("archive")
def archive(
    ref: str = typer.Argument(..., help="Survey name or id."),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """Stop a survey from being sent or answered (its responses stay)."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        record = archive_survey(uow, ref)
    render_record(_summary(record), fmt, title="Survey archived")


@app.command("link")
def link(
    survey: str = typer.Argument(..., help="Survey name or id."),
    customer: str = typer.Argument(..., help="The customer: id, email, phone or any identity."),
    channel: str = typer.Option(
        "email", "--channel", help="Where the link is sent (recorded with the response)."
    ),
    touchpoint: str | None = typer.Option(
        None, "--touchpoint", help="The moment asked about, e.g. case_solved."
    ),
    days: float = typer.Option(30, "--days", help="Days until the link expires."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Where customers reach cxlens (default CXLENS_PUBLIC_URL)."
    ),
    db: Path | None = DbOption,
    fmt: OutputFormat = format_option(),
) -> None:
    """A personal, single-use answer link for one customer (the token is shown once)."""
    with workspace_store(db) as store, store.unit_of_work() as uow:
        made = create_link(
            uow, survey=survey, customer=customer, channel=channel, touchpoint=touchpoint, days=days
        )
    url = f"{(base_url or settings_for(db).public_url).rstrip('/')}/s/{made['token']}"
    if fmt is OutputFormat.json:
        print(to_json({**{k: v for k, v in made.items() if k != "token"}, "url": url}))
        return
    print(url)


survey_sending.register(app)
survey_widgets.register(app)
app.add_typer(survey_loop.app, name="loop")
