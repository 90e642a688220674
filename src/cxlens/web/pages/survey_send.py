"""``/surveys/{name}/send``: every way to ask with one survey — invite customers by email (and see
what became of each invitation), triggers that ask by themselves, web widgets for the brand's site,
and the survey's public link. Sending itself is the survey pass's work (the ``surveys`` background job) (it is woken so the
emails leave within seconds); the page only plans, under the contact-frequency rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cxlens.auth import Permission
from cxlens.automation import KINDS, add_trigger, list_triggers
from cxlens.errors import InvalidInput
from cxlens.jobs.runner import PeriodicJob
from cxlens.storage.store import Session
from cxlens.surveys import (
    WidgetSettings,
    access_survey,
    create_widget,
    invite_customers,
    list_invitations,
    list_widgets,
    public_link_url,
    revoke_widget,
    script_tag,
    sendable_survey,
)
from cxlens.web.deps import Reader, get_container
from cxlens.web.pages.render import render
from cxlens.web.security import require

router = APIRouter(include_in_schema=False, dependencies=[Depends(require(Permission.manage_surveys))])
MAX_RECIPIENTS = 1000  # by hand; larger audiences go by segment


def _survey_job(request: Request) -> PeriodicJob | None:
    """The survey pass's background job (only while serving): planned invitations wake it."""
    return get_container(request).survey_job


def _contact_days(request: Request) -> float:
    return _widget_settings(request).contact_days  # CXLENS_SURVEY_CONTACT_DAYS, as the widget applies it


def _widget_settings(request: Request) -> WidgetSettings:
    settings: WidgetSettings = request.app.state.widget_settings
    return settings


def _widgets(s: Session, survey_key: int, public_url: str) -> list[dict[str, Any]]:
    return [
        {**w.public(), "script": script_tag(public_url, w.key)}
        for w in list_widgets(s, survey_key=survey_key, active=True)
    ]


def _context(s: Session, name: str, widget_settings: WidgetSettings) -> dict[str, Any]:
    survey = access_survey(s, name)
    triggers = list_triggers(s, survey_key=survey.survey_key)
    segments = [
        r["segment"]
        for r in s.fetch_all(
            "SELECT DISTINCT segment FROM customers WHERE segment IS NOT NULL ORDER BY segment LIMIT 200"
        )
    ]
    return {
        "survey": survey,
        "invitations": list_invitations(s, survey_key=survey.survey_key, limit=50),
        "triggers": triggers,
        "segments": segments,
        "kinds": KINDS,
        "widgets": _widgets(s, survey.survey_key, widget_settings.public_url),
        "public_link": None if survey.archived_at else public_link_url(s, survey.name, widget_settings),
    }


@router.get("/surveys/{name}/send")
def send_page(request: Request, s: Reader, name: str) -> Response:
    context = _context(s, name, _widget_settings(request))
    return render(request, "survey_send.html", **context, contact_days=_contact_days(request))


def _number(form: Any, field: str) -> float | None:
    text = str(form.get(field) or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{field.replace('_', ' ').capitalize()} must be a number.") from None


@router.post("/surveys/{name}/send")
async def send(request: Request, name: str) -> Response:
    form = await request.form()
    refs = [
        line.strip()
        for line in str(form.get("customers") or "").replace(",", "\n").splitlines()
        if line.strip()
    ]
    segment = str(form.get("segment") or "").strip() or None
    store = request.app.state.store
    try:
        if len(refs) > MAX_RECIPIENTS:
            raise InvalidInput(f"At most {MAX_RECIPIENTS:,} customers at a time; choose a segment for more.")
        with store.unit_of_work() as uow:
            record = sendable_survey(uow, name)
            admitted = invite_customers(
                uow,
                survey_key=record.survey_key,
                refs=refs,
                segment=None if refs else segment,
                touchpoint=str(form.get("touchpoint") or "").strip() or None,
                remind_after_days=_number(form, "remind_after_days"),
                contact_days=_contact_days(request),
                now=datetime.now(UTC),
            )
    except InvalidInput as error:
        return render(request, "survey_send_result.html", error=error.message)
    job = _survey_job(request)
    if job is not None:  # invitations planned here are no domain event: wake the pass by hand
        job.wake()
    return render(
        request,
        "survey_send_result.html",
        invited=admitted.scheduled,
        held_back=admitted.suppressed,
        unknown=admitted.unknown,
        contact_days=_contact_days(request),
        scheduled=job is not None,
    )


@router.post("/surveys/{name}/triggers")
async def new_trigger(request: Request, name: str) -> Response:
    form = await request.form()
    store = request.app.state.store
    try:
        with store.unit_of_work() as uow:
            trigger = add_trigger(
                uow,
                name=str(form.get("trigger_name") or "").strip(),
                survey=name,
                kind=str(form.get("kind") or ""),
                event=str(form.get("event") or "").strip() or None,
                every_days=_number(form, "every_days"),
                delay_minutes=_number(form, "delay_minutes") or 0,
                sample_rate=_number(form, "sample_rate") or 1.0,
                remind_after_days=_number(form, "trigger_remind_after_days"),
            )
    except InvalidInput as error:
        return render(request, "survey_trigger_result.html", error=error.message)
    return render(request, "survey_trigger_result.html", trigger=trigger)


@router.post("/surveys/{name}/widgets")
async def new_widget(request: Request, name: str) -> Response:
    form = await request.form()
    origins = [o.strip() for o in str(form.get("origins") or "").replace(",", "\n").splitlines() if o.strip()]
    settings = _widget_settings(request)
    try:
        with request.app.state.store.unit_of_work() as uow:
            widget = create_widget(
                uow,
                survey=name,
                origins=origins,
                touchpoint=str(form.get("widget_touchpoint") or "").strip() or None,
            )
    except InvalidInput as error:
        return render(request, "survey_widget_result.html", error=error.message)
    return render(
        request,
        "survey_widget_result.html",
        widget=widget,
        script=script_tag(settings.public_url, widget.key),
    )


@router.post("/surveys/{name}/widgets/{key}/revoke")
def revoke(request: Request, name: str, key: str) -> Response:
    with request.app.state.store.unit_of_work() as uow:
        widget = revoke_widget(uow, key)
    return render(request, "survey_widget_result.html", revoked=widget)
