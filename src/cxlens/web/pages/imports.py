"""``/import``: upload a file, map its columns with a preview, watch progress, read the report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response

from cxlens.auth import Permission, Principal
from cxlens.errors import CxLensError
from cxlens.ingest import ENTITIES, ImportOptions, entity_spec, guess_mapping, identity_choices, preview_file
from cxlens.web.imports import ImportJobs
from cxlens.web.pages.render import render
from cxlens.web.security import require

Importer = Annotated[Principal, Depends(require(Permission.import_data))]
router = APIRouter(include_in_schema=False)
EXTRA = ""  # the mapping choice "keep as an extra attribute/property"


def _jobs(request: Request) -> ImportJobs:
    jobs: ImportJobs = request.app.state.imports
    return jobs


@router.get("/import")
def import_form(request: Request, _: Importer) -> Response:
    return render(request, "import.html", entities=list(ENTITIES), error=None)


@router.post("/import/preview")
def import_preview(
    request: Request, principal: Importer, file: UploadFile, entity: Annotated[str, Form()]
) -> Response:
    try:
        spec = entity_spec(entity)
        upload = _jobs(request).save(file.file, file.filename or "upload", principal.id)
        columns, rows = preview_file(request.app.state.store, upload.path)
    except CxLensError as error:
        return render(request, "import_error.html", status=error.http_status, error=error.message)
    return render(
        request,
        "import_preview.html",
        upload=upload,
        entity=entity,
        fields=[f for f in spec.fields],
        identities=identity_choices(entity),
        extras=spec.extras_field,
        columns=columns,
        rows=rows,
        guessed=guess_mapping(entity, columns),
    )


@router.post("/import/run")
async def import_run(request: Request, principal: Importer) -> Response:
    form = await request.form()
    try:
        upload = _jobs(request).upload(str(form.get("upload_id", "")), principal.id)
        entity = str(form.get("entity", ""))
        entity_spec(entity)
        mapping = {
            str(key).removeprefix("map:"): str(value)
            for key, value in form.multi_items()
            if str(key).startswith("map:") and str(value) != EXTRA
        }
        web = request.app.state.container.web
        options = ImportOptions(
            mapping=mapping,
            tz=str(form.get("tz") or "") or None,
            source=str(form.get("source") or "import"),
            phone_region=web.phone_region,
            chunk_rows=web.import_chunk_rows,
        )
        job = _jobs(request).start(upload, entity, options)
    except CxLensError as error:
        return render(request, "import_error.html", status=error.http_status, error=error.message)
    return render(request, "import_job.html", job=job)


@router.get("/import/jobs/{job_id}")
def import_job(request: Request, principal: Importer, job_id: str) -> Response:
    return render(request, "import_job.html", job=_jobs(request).job(job_id, principal.id))
