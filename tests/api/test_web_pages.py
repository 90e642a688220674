"""Pages answer with the metrics engine's numbers: the explorer's CSV equals ``ws.metric``; an
import started from the page reports its rejects and does not keep the uploaded file."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pyarrow as pa
from fastapi.testclient import TestClient
from tests.app_helpers import app_for, container_for

from cxlens.auth.model import Role
from cxlens.auth.service import create_user
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.metrics.queries import run_metric
from cxlens.metrics.spec import make_query
from cxlens.storage.duckdb_store import DuckDBStore

PASSWORD = "correct horse battery staple"


def signed_in(store: DuckDBStore, tmp_path: Path, **settings: object) -> tuple[TestClient, dict[str, str]]:
    with store.unit_of_work() as uow:
        create_user(uow, email="an@example.com", name="An", role=Role.analyst, password=PASSWORD)
    client = TestClient(app_for(store, **settings), follow_redirects=False)
    assert client.post("/login", data={"email": "an@example.com", "password": PASSWORD}).status_code == 303
    page = client.get("/import", headers={"accept": "text/html"}).text
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    return client, {"x-csrf-token": token}


def test_explorer_csv_is_the_metric_engines_answer(store: DuckDBStore, tmp_path: Path) -> None:
    answers = pa.table(
        {
            "user_id": [f"u{i}" for i in range(40)],
            "metric": ["nps"] * 40,
            "touchpoint": ["web", "=cmd|' /C calc'!A0"] * 20,  # a formula-looking dimension value
            "score": [str(i % 11) for i in range(40)],
            "answered_at": [f"2024-0{1 + i % 3}-10T10:00:00Z" for i in range(40)],
        }
    )
    assert import_table(store, "responses", answers, options=ImportOptions()).imported == 40
    client, _ = signed_in(store, tmp_path)
    response = client.get("/explore.csv", params={"metric": "nps", "by": "touchpoint", "grain": "month"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    with store.session() as s:
        want = run_metric(s, make_query("nps", by=["touchpoint"], grain="month")).rows
    assert len(rows) == len(want) == 6
    for got, row in zip(rows, want, strict=True):
        assert float(got["value"]) == row["value"] and int(got["n"]) == row["n"]
        assert got["touchpoint"] in ("web", "'=cmd|' /C calc'!A0")  # quoted: never a live formula


def test_an_import_from_the_page_reports_rejects_and_drops_the_upload(
    store: DuckDBStore, tmp_path: Path
) -> None:
    client, csrf = signed_in(store, tmp_path)
    body = b"user_id,email\nok-1,ok@example.com\nbad-1,not-an-email\n"
    preview = client.post(
        "/import/preview", data={"entity": "customers"}, files={"file": ("people.csv", body)}, headers=csrf
    )
    assert preview.status_code == 200 and "Map the columns of people.csv" in preview.text
    upload_id = preview.text.split('name="upload_id" value="', 1)[1].split('"', 1)[0]
    started = client.post(
        "/import/run",
        data={"upload_id": upload_id, "entity": "customers", "map:user_id": "user_id", "map:email": "email"},
        headers=csrf,
    )
    assert started.status_code == 200
    job_id = started.text.split("/import/jobs/", 1)[1].split('"', 1)[0]
    for _ in range(200):
        page = client.get(f"/import/jobs/{job_id}").text
        if "every 500ms" not in page:
            break
        time.sleep(0.05)
    assert "1 imported" in page and "1 rejected" in page and "email" in page
    uploads = container_for(store).web.uploads_dir
    assert uploads.is_dir() and not any(uploads.rglob("people.csv"))  # the uploaded copy is gone
    again = client.post("/import/run", data={"upload_id": upload_id, "entity": "customers"}, headers=csrf)
    assert again.status_code == 404


def test_an_upload_over_the_configured_limit_is_refused_and_not_kept(
    store: DuckDBStore, tmp_path: Path
) -> None:
    client, csrf = signed_in(store, tmp_path, upload_max_bytes=2048)  # CXLENS_UPLOAD_MAX_BYTES
    body = b"user_id,email\n" + b"".join(b"u%d,u%d@example.com\n" % (i, i) for i in range(200))
    assert len(body) > 2048
    refused = client.post(
        "/import/preview", data={"entity": "customers"}, files={"file": ("big.csv", body)}, headers=csrf
    )
    assert refused.status_code == 413
    small = client.post(
        "/import/preview",
        data={"entity": "customers"},
        files={"file": ("small.csv", body[:1000])},
        headers=csrf,
    )
    assert small.status_code == 200
    assert not any(container_for(store).web.uploads_dir.rglob("big.csv"))
