"""The import page: uploads that are never imported do not stay on disk, and the column mapper
offers (and guesses) identity fields, with every rejected value reported."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from cxlens.auth.model import Role
from cxlens.auth.service import create_user
from cxlens.errors import NotFound
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.web.app import create_app
from cxlens.web.imports import ImportJobs

PASSWORD = "correct horse battery staple"


def signed_in(store: DuckDBStore, uploads: Path) -> tuple[TestClient, dict[str, str]]:
    with store.unit_of_work() as uow:
        create_user(uow, email="an@example.com", name="An", role=Role.analyst, password=PASSWORD)
    client = TestClient(create_app(store, imports_dir=uploads), follow_redirects=False)
    assert client.post("/login", data={"email": "an@example.com", "password": PASSWORD}).status_code == 303
    page = client.get("/import", headers={"accept": "text/html"}).text
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    return client, {"x-csrf-token": token}


def preview(client: TestClient, csrf: dict[str, str], body: bytes, name: str = "people.csv") -> str:
    answer = client.post(
        "/import/preview", data={"entity": "customers"}, files={"file": (name, body)}, headers=csrf
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def age(folder: Path, hours: float) -> None:
    """Make an upload folder look ``hours`` old (its modification time is what the sweep reads)."""
    then = time.time() - hours * 3600
    os.utime(folder, (then, then))


def test_uploads_left_by_an_earlier_process_are_deleted_at_start(store: DuckDBStore, tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    left = uploads / "0123456789abcdef"
    left.mkdir(parents=True)
    (left / "people.csv").write_text("email\na@example.com\n")
    mine = uploads / "notes.txt"  # not an upload folder: left alone
    mine.write_text("keep")
    ImportJobs(store, uploads, max_bytes=1 << 20)
    assert not left.exists()
    assert mine.exists()


def test_an_upload_never_imported_is_deleted_once_older_than_the_max_age(
    store: DuckDBStore, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    jobs = ImportJobs(store, uploads, max_bytes=1 << 20, max_age=timedelta(hours=24))
    old = jobs.save(io.BytesIO(b"email\na@example.com\n"), "old.csv", "user-1")
    fresh = jobs.save(io.BytesIO(b"email\nb@example.com\n"), "fresh.csv", "user-1")
    age(old.path.parent, 25)
    age(fresh.path.parent, 23)
    assert jobs.sweep() == 1
    assert not old.path.exists() and fresh.path.exists()
    try:
        jobs.upload(old.id, "user-1")
    except NotFound as error:
        assert "kept for 24 hours" in error.message
    else:
        raise AssertionError("a swept upload is still offered")
    assert jobs.upload(fresh.id, "user-1") == fresh


def test_the_page_sweeps_old_uploads_when_another_file_is_previewed(
    store: DuckDBStore, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    client, csrf = signed_in(store, uploads)
    preview(client, csrf, b"email\na@example.com\n", "first.csv")
    (first,) = [p.parent for p in uploads.rglob("first.csv")]
    age(first, 25)
    preview(client, csrf, b"email\nb@example.com\n", "second.csv")
    assert not first.exists()
    assert len(list(uploads.rglob("second.csv"))) == 1
