"""``/s/{token}``: the public page where a customer answers a survey from a personal link.

Public (the token is the credential: 192 random bits, single use, expiring), rate-limited per
client, and built for phones. Answers are saved as they are given (branching re-renders the form
through HTMX), so a customer who leaves can come back; the final submit records one response.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxlens.errors import InvalidInput
from cxlens.surveys import OpenLink, complete, frame_origins, open_link, save_partial
from cxlens.surveys.language import completion_text, visible_questions
from cxlens.web.clients import client_address
from cxlens.web.pages.customer_facing import render_customer_page
from cxlens.web.pages.render import is_fragment
from cxlens.web.ratelimit import RateLimiter

router = APIRouter(include_in_schema=False)


def _guard(request: Request) -> None:
    limiter: RateLimiter = request.app.state.survey_limiter  # one per app (web/app.py)
    limiter.check(client_address(request))


def _locale(request: Request, link: OpenLink) -> str:
    """?lang=de, else the browser's first language the survey has, else the survey's default."""
    asked = request.query_params.get("lang")
    wanted = (
        [asked]
        if asked
        else [p.split(";")[0].strip()[:2] for p in request.headers.get("accept-language", "").split(",")]
    )
    for locale in wanted:
        if locale and locale in link.survey.locales:
            return locale
    return link.survey.default_locale


def _form(
    request: Request,
    token: str,
    link: OpenLink,
    answers: dict[str, Any],
    problems: dict[str, str],
    status: int = 200,
) -> Response:
    locale = _locale(request, link)
    template = "survey_form.html" if is_fragment(request) else "survey_page.html"
    return render_customer_page(
        request,
        template,
        status=status,
        token=token,
        survey=link.survey,
        locale=locale,
        questions=visible_questions(link.survey, answers),
        answers=answers,
        problems=problems,
    )


@router.get("/s/{token}")
def answer_page(request: Request, token: str) -> Response:
    _guard(request)
    link = _open(request, token)
    if link.answered:
        return render_customer_page(
            request,
            "survey_done.html",
            text=completion_text(link.survey, link.answers, _locale(request, link)),
        )
    clicked = _clicked_answers(request, link)
    if not clicked:
        return _form(request, token, link, link.answers, {})
    # One-click first answer: the email's scale links carry ?question=value. The choice is saved as a
    # partial answer, never as the response: mail scanners open links too, and only a person submits.
    answers = {**link.answers, **clicked}
    try:
        with request.app.state.store.unit_of_work() as uow:
            answers = save_partial(uow, link, answers)
    except InvalidInput as error:
        return _form(request, token, link, link.answers, _problems(error), status=400)
    return _form(request, token, link, answers, {})


def _clicked_answers(request: Request, link: OpenLink) -> dict[str, Any]:
    """Answers named in the query string (only questions of this survey; ``lang`` is not one)."""
    names = {q.name for q in link.survey.questions()}
    return {k: v for k, v in request.query_params.items() if k in names and v != ""}


def _problems(error: InvalidInput) -> dict[str, str]:
    problems = {str(p.get("question", "")): str(p.get("message", "")) for p in error.data.get("problems", [])}
    return problems or {"": error.message}


def _open(request: Request, token: str) -> OpenLink:
    with request.app.state.store.session() as s:
        link = open_link(s, token)
        # Embed mode: a widget's link may be framed by the widget's origins (web/security.py's
        # SecurityHeaders reads this); every other page keeps frame-ancestors 'none'.
        request.state.frame_ancestors = frame_origins(s, link.widget_key)
    return link


async def _answers(request: Request, link: OpenLink) -> tuple[dict[str, Any], str]:
    """The form's answers by question name (checkboxes as lists) and the action asked for."""
    form = await request.form()
    answers: dict[str, Any] = {}
    for question in link.survey.questions():
        values = [str(v) for v in form.getlist(question.name) if str(v) != ""]
        if question.type == "checkbox":
            if values:
                answers[question.name] = values
        elif values:
            answers[question.name] = values[-1]
    return answers, str(form.get("_action") or "save")


@router.post("/s/{token}")
async def answer_submit(request: Request, token: str) -> Response:
    _guard(request)
    link = _open(request, token)
    if link.answered:  # submitted twice (or replayed): recorded once, thanked again
        return render_customer_page(
            request,
            "survey_done.html",
            text=completion_text(link.survey, link.answers, _locale(request, link)),
        )
    answers, action = await _answers(request, link)
    store = request.app.state.store
    try:
        if action == "submit":
            cleaned = complete(store, link, answers)
            return render_customer_page(
                request,
                "survey_done.html",
                text=completion_text(link.survey, cleaned, _locale(request, link)),
            )
        with store.unit_of_work() as uow:
            cleaned = save_partial(uow, link, answers)
    except InvalidInput as error:
        # HTMX swaps only 2xx answers: a fragment shows its problems with 200, a plain post says 400.
        status = 200 if is_fragment(request) else 400
        return _form(request, token, link, answers, _problems(error), status=status)
    return _form(request, token, link, cleaned, {})
