"""``/surveys/loop``: closing the loop — how many unhappy answers were followed up, solved,
re-surveyed and recovered (tiles), the latest follow-ups, and the rules (added and disabled by
those who manage surveys). The numbers and their definitions come from ``surveys.loop``.

The route is a literal ``/surveys/loop`` registered before the survey pages' ``/surveys/{name}/…``
routes; it has no further segment, so a survey named "loop" keeps its own pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from cxlens.auth import Permission
from cxlens.automation import (
    DEFAULT_MAX_SCORE,
    add_rule,
    disable_rule,
    list_rules,
    loop_summary,
    period_bound,
    recent_followups,
)
from cxlens.cases import PRIORITIES
from cxlens.errors import Conflict, InvalidInput, NotFound
from cxlens.storage.store import Session
from cxlens.surveys import list_surveys
from cxlens.web.deps import Reader, ResponsesViewer, SurveyManager
from cxlens.web.pages.render import is_fragment, render
from cxlens.web.security import principal_of
from cxlens.web.urls import customer_url, timeline_anchor

router = APIRouter(include_in_schema=False)
RECENT = 25
Field = Annotated[str, Form(max_length=200)]

# The funnel's steps: (summary key, title, rate key, what the rate is a share of, what it means).
STEPS = (
    ("unhappy", "Unhappy responses", None, "", "Responses a rule follows up: at or below its score."),
    ("followed_up", "Followed up", "followed_up_rate", "of unhappy", "A follow-up case was opened."),
    ("solved", "Case solved", "solved_rate", "of followed up", "The follow-up case is solved or closed."),
    ("resurveyed", "Re-surveyed", "resurveyed_rate", "of solved", "The re-survey invitation was sent."),
    ("answered_again", "Responded again", "answered_again_rate", "of solved", "Same metric, after the solve."),
    ("recovered", "Recovered", "recovered_rate", "of those who responded again", "That response is above the rule's score."),
)  # fmt: skip


@router.get("/surveys/loop")
def loop_page(request: Request, _: ResponsesViewer, s: Reader, since: str = "", until: str = "") -> Response:
    try:
        start, end = period_bound(since, "since"), period_bound(until, "until")
        error = None
    except InvalidInput as problem:
        start = end = None
        error = problem.message
    return render(
        request, "loop.html", **_page(request, s, start, end), since=since, until=until, error=error
    )


@router.post("/surveys/loop/rules")
def add_rule_form(
    request: Request,
    _: SurveyManager,
    name: Field,
    metric: Field,
    team: Field,
    max_score: Field = "",
    survey: Field = "",
    priority: Field = "high",
    resurvey: Field = "",
) -> Response:
    form = {"name": name.strip(), "metric": metric, "team": team, "max_score": max_score, "survey": survey}
    try:
        with request.app.state.store.unit_of_work() as uow:
            rule = add_rule(
                uow,
                name=name.strip(),
                metric=metric,
                max_score=_score(max_score),
                survey=survey or None,
                team=team,
                priority=priority,
                resurvey=bool(resurvey),
            )
    except (InvalidInput, Conflict, NotFound) as problem:
        return _rules(
            request, error=problem.message, form={**form, "priority": priority, "resurvey": resurvey}
        )
    return _rules(request, message=f"Rule {rule.name} added: answers from now on are followed up.")


@router.post("/surveys/loop/rules/{name}/disable")
def disable_rule_form(request: Request, _: SurveyManager, name: str) -> Response:
    try:
        with request.app.state.store.unit_of_work() as uow:
            disable_rule(uow, name)
    except (Conflict, NotFound) as problem:
        return _rules(request, error=problem.message)
    return _rules(request, message=f"Rule {name} disabled: new answers are no longer followed up.")


def _score(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError as error:
        raise InvalidInput(f"The highest score to follow up must be a number, not {text!r}.") from error


def _rules(
    request: Request,
    *,
    message: str | None = None,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    """The rules section again (HTMX), or the whole page for a plain form post."""
    # HTMX swaps only 2xx answers: a fragment shows its problem with 200, a plain post says 400.
    status = 400 if error and not is_fragment(request) else 200
    with request.app.state.store.session() as s:
        context = {
            **_page(request, s, None, None),
            "message": message,
            "rule_error": error,
            "form": form or {},
        }
    template = "loop_rules.html" if is_fragment(request) else "loop.html"
    return render(request, template, status=status, since="", until="", error=None, **context)


def _page(request: Request, s: Session, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    principal = principal_of(request)
    summary = loop_summary(s, since=since, until=until)
    return {
        "tiles": [_tile(summary, *step) for step in STEPS],
        "followups": [_row(r) for r in recent_followups(s, RECENT, since=since, until=until)],
        "rules": list_rules(s),
        "can_manage": principal is not None and principal.can(Permission.manage_surveys),
        "surveys": [
            v for v in list_surveys(s) if v["metric"] in DEFAULT_MAX_SCORE and v["archived_at"] is None
        ],
        "metrics": DEFAULT_MAX_SCORE,
        "priorities": PRIORITIES,
        "form": {},
    }


def _tile(
    summary: dict[str, Any], key: str, title: str, rate: str | None, of: str, means: str
) -> dict[str, Any]:
    share = summary[rate] if rate else None
    return {
        "key": key,
        "title": title,
        "value": summary[key],
        "rate_text": f"{share:.0%} {of}" if share is not None else ("–" if rate else ""),
        "means": means,
    }


def _row(followup: dict[str, Any]) -> dict[str, Any]:
    """A follow-up as the table shows it; links are built here, never taken from data."""
    return {
        **followup,
        "response": f"{followup['metric'].upper()} {followup['score']:g} ({followup['response_id']})",
        "customer": followup["customer_name"] or followup["customer_id"],
        "customer_url": customer_url(followup["customer_id"]),
        # The case's entry on the customer's timeline, until cases have a page of their own.
        "case_url": customer_url(followup["customer_id"], anchor=timeline_anchor(followup["case_id"])),
        "recovered": None
        if followup["recovered"] is None
        else f"{followup['recovered']} ({followup['score_again']:g})",
    }
