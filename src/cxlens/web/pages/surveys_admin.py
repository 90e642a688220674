"""``/surveys``: the list of surveys, the form editor with its live preview, the responses with
filters (linkable, paged, refreshing themselves, as CSV), and the live feed of the latest responses.

A survey's name is one URL path segment, percent-encoded wherever a page or a redirect builds a
URL (``survey_url``; templates use the ``url_segment`` filter), so "NPS quarterly" works everywhere.

The editor posts the whole form on every change (HTMX); the preview answers come back as the
form's ``answer:<question>`` fields, so branching can be tried in the preview. Problems are shown
next to the fields they belong to (``surveys.editor`` maps each path to its place in the form).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from cxlens.errors import Conflict, InvalidInput, PayloadTooLarge
from cxlens.storage.store import Session
from cxlens.surveys import (
    FILTER_KEYS,
    SEGMENTS,
    ResponsesOf,
    StoredSurvey,
    access_survey,
    create_survey,
    export_responses,
    latest_responses,
    list_responses,
    parse_filter,
    responses_survey,
    survey_counts,
    template_document,
    update_survey,
)
from cxlens.surveys.language import TEMPLATES
from cxlens.web.deps import Reader, ResponsesViewer, SurveyManager
from cxlens.web.downloads import csv_download
from cxlens.web.pages.render import is_fragment, render
from cxlens.web.survey_form import (
    EditorForm,
    apply_action,
    blank_document,
    document_of,
    editor_slots,
    form_from_document,
    form_from_fields,
    preview,
)
from cxlens.web.urls import survey_url

router = APIRouter(include_in_schema=False)
ANSWER = "answer:"  # the preview's answer fields; editor fields never start with it
PAGE = 50
MAX_FORM_FIELDS = 10_000  # 200 questions x their fields x a few languages
MAX_IMPORT_BYTES = 2 << 20
CSV_COLUMNS = (
    "response_id", "answered_at", "survey", "metric", "score", "scale_min", "scale_max", "segment",
    "comment", "channel", "touchpoint", "customer_id", "customer_name",
)  # fmt: skip


def _go(request: Request, url: str) -> Response:
    """To another page: HTMX follows ``HX-Redirect``; a plain form follows a 303."""
    if request.headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _problem_status(request: Request) -> int:
    # HTMX swaps only 2xx answers: a fragment shows its problems with 200, a plain post says 400.
    return 200 if is_fragment(request) else 400


# --- list and create ---------------------------------------------------------------------------


@router.get("/surveys")
def surveys(request: Request, _: ResponsesViewer, s: Reader) -> Response:
    return render(request, "survey_admin_list.html", surveys=survey_counts(s), templates=list(TEMPLATES))


@router.post("/surveys")
def new_survey(
    request: Request,
    _: SurveyManager,
    name: Annotated[str, Form(max_length=100)],
    template: Annotated[str, Form(max_length=20)] = "nps",
) -> Response:
    name = name.strip()
    try:
        document = (
            blank_document(name) if template == "blank" else {**template_document(template), "name": name}
        )
        with request.app.state.store.unit_of_work() as uow:
            create_survey(uow, name=name, document=document)
    except (InvalidInput, Conflict) as error:
        return render(
            request, "survey_admin_message.html", status=_problem_status(request), error=error.message
        )
    return _go(request, survey_url(name, "edit"))


@router.get("/surveys/latest")
def latest(request: Request, _: ResponsesViewer, s: Reader) -> Response:
    """The overview's live feed (a fragment that polls itself)."""
    return render(request, "survey_latest.html", rows=latest_responses(s, limit=10))


# --- the editor --------------------------------------------------------------------------------


def _record(request: Request, name: str) -> StoredSurvey:
    with request.app.state.store.session() as s:
        return access_survey(s, name)


def _editor_context(
    record: StoredSurvey, form: EditorForm, answers: Any, locale: str | None
) -> dict[str, Any]:
    return {
        "record": record,
        "form": form,
        "view": preview(form, answers, locale),
        "slots": editor_slots(form),
    }


async def _posted(request: Request, record: StoredSurvey) -> tuple[EditorForm, dict[str, list[str]], str]:
    """The editor's form as posted, the preview's answers and the preview's language."""
    data = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    fields = {key: value for key, value in data.multi_items() if isinstance(value, str)}
    answers = {
        key.removeprefix(ANSWER): [v for v in data.getlist(key) if isinstance(v, str)]
        for key in set(data.keys())
        if key.startswith(ANSWER)
    }
    form = replace(form_from_fields(fields), name=record.name)  # the survey's name is not edited
    return form, answers, fields.get("preview_locale", "")


@router.get("/surveys/{name}/edit")
def edit(request: Request, _: SurveyManager, s: Reader, name: str) -> Response:
    record = access_survey(s, name)
    form = replace(form_from_document(record.definition), name=record.name)
    return render(request, "survey_admin_edit.html", **_editor_context(record, form, {}, None))


@router.post("/surveys/{name}/preview")
async def edit_preview(request: Request, _: SurveyManager, name: str) -> Response:
    record = _record(request, name)
    form, answers, locale = await _posted(request, record)
    return render(
        request, "survey_admin_preview.html", oob=True, **_editor_context(record, form, answers, locale)
    )


@router.post("/surveys/{name}/editor")
async def edit_fields(request: Request, _: SurveyManager, name: str, action: str = "refresh") -> Response:
    """The whole editor again: after adding or removing a question or condition, or a change of
    type or languages (which changes which fields there are)."""
    record = _record(request, name)
    form, answers, locale = await _posted(request, record)
    form = apply_action(form, action)
    return render(request, "survey_admin_editor.html", **_editor_context(record, form, answers, locale))


@router.post("/surveys/{name}/edit")
async def save(request: Request, _: SurveyManager, name: str) -> Response:
    record = _record(request, name)
    form, answers, locale = await _posted(request, record)
    context = _editor_context(record, form, answers, locale)
    try:
        document = document_of(form)
        with request.app.state.store.unit_of_work() as uow:
            update_survey(uow, ref=record.name, document=document)
    except InvalidInput as error:
        status = _problem_status(request)
        return render(request, "survey_admin_saved.html", status=status, error=error.message, **context)
    return render(request, "survey_admin_saved.html", error=None, **context)


@router.post("/surveys/{name}/import")
async def import_json(request: Request, _: SurveyManager, name: str) -> Response:
    record = _record(request, name)
    try:
        document = await _uploaded_document(request)
        if isinstance(document, dict):
            document["name"] = record.name  # the survey keeps its name, whatever the file says
        with request.app.state.store.unit_of_work() as uow:
            update_survey(uow, ref=record.name, document=document)
    except (InvalidInput, PayloadTooLarge) as error:
        status = _problem_status(request)
        problems = error.data.get("problems", [])
        return render(
            request, "survey_admin_message.html", status=status, error=error.message, problems=problems
        )
    return _go(request, survey_url(record.name, "edit"))


async def _uploaded_document(request: Request) -> Any:
    data = await request.form(max_files=1, max_fields=10)
    upload = data.get("file")
    text = data.get("json")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_IMPORT_BYTES + 1)
    elif isinstance(text, str) and text.strip():
        raw = text.encode()
    else:
        raise InvalidInput("Paste a SurveyJS document or choose a .json file.")
    if len(raw) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"The document is larger than {MAX_IMPORT_BYTES >> 20} MB.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(f"This is not JSON: {error}.") from None


@router.get("/surveys/{name}/export.json")
def export_json(_: SurveyManager, s: Reader, name: str) -> Response:
    record = access_survey(s, name)
    return Response(
        json.dumps(record.definition, ensure_ascii=False, indent=2) + "\n",
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="{record.name}.json"'},
    )


# --- responses ---------------------------------------------------------------------------------


def _filter_query(request: Request) -> str:
    """The filters of this view as a query string (no cursor): for links, the CSV and polling."""
    return urlencode({k: request.query_params[k] for k in FILTER_KEYS if request.query_params.get(k)})


def _responses_context(
    request: Request, s: Session, record: ResponsesOf, cursor: str | None
) -> dict[str, Any]:
    query = _filter_query(request)
    context: dict[str, Any] = {
        "record": record,
        "params": request.query_params,
        "query": query,
        "segments": list(SEGMENTS),
        "rows": [],
        "next_url": None,
        "error": None,
        "live": not cursor,  # new responses arrive on the first page
        "rows_url": survey_url(record.name, "responses", "rows") + f"?{query}",
    }
    try:
        page = list_responses(
            s, parse_filter(request.query_params, survey=record.name), cursor=cursor, limit=PAGE
        )
    except InvalidInput as error:
        context["error"] = error.message
        return context
    context["rows"] = page.items
    if page.next_cursor:
        context["next_url"] = (
            survey_url(record.name, "responses")
            + "?"
            + urlencode({**dict(request.query_params), "cursor": page.next_cursor})
        )
    return context


@router.get("/surveys/{name}/responses")
def responses_page(
    request: Request, _: ResponsesViewer, s: Reader, name: str, cursor: str | None = None
) -> Response:
    record = responses_survey(s, name)
    return render(request, "survey_admin_responses.html", **_responses_context(request, s, record, cursor))


@router.get("/surveys/{name}/responses/rows")
def response_rows(request: Request, _: ResponsesViewer, s: Reader, name: str) -> Response:
    """The first page's rows again (the table polls this, so new responses appear as they arrive)."""
    record = responses_survey(s, name)
    return render(request, "survey_admin_response_rows.html", **_responses_context(request, s, record, None))


@router.get("/surveys/{name}/responses.csv")
def responses_csv(request: Request, _: ResponsesViewer, s: Reader, name: str) -> Response:
    record = responses_survey(s, name)
    rows = export_responses(s, parse_filter(request.query_params, survey=record.name))
    return csv_download(
        f"{record.name}-responses.csv",
        CSV_COLUMNS,
        ([row.get(column) for column in CSV_COLUMNS] for row in rows),
    )
