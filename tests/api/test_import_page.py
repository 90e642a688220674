"""The import page: uploads that are never imported do not stay on disk, and the column mapper
offers (and guesses) identity fields, with every rejected value reported."""

from __future__ import annotations

import html
import io
import os
import re
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.app_helpers import container_for

from cxlens.auth.model import Role
from cxlens.auth.service import create_user
from cxlens.errors import NotFound
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.web.app import create_app
from cxlens.web.imports import ImportJobs

PASSWORD = "correct horse battery staple"


def signed_in(store: DuckDBStore, uploads: Path, **settings: Any) -> tuple[TestClient, dict[str, str]]:
    with store.unit_of_work() as uow:
        create_user(uow, email="an@example.com", name="An", role=Role.analyst, password=PASSWORD)
    container = container_for(store, **settings)
    container = replace(container, web=replace(container.web, uploads_dir=uploads))
    client = TestClient(create_app(container), follow_redirects=False)
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


def mapper(page: str) -> dict[str, tuple[list[str], str]]:
    """Column -> (the options offered, the option selected) of each select in a preview."""
    found = {}
    for column, body in re.findall(r'<select [^>]*name="map:([^"]+)">(.*?)</select>', page, re.S):
        options = re.findall(r'<option value="([^"]*)"', body)
        chosen = re.findall(r'<option value="([^"]*)" selected', body)
        found[html.unescape(column)] = (options, chosen[0] if chosen else "")
    return found


def wait_done(client: TestClient, started: str) -> str:
    job_id = started.split("/import/jobs/", 1)[1].split('"', 1)[0]
    for _ in range(400):
        page = client.get(f"/import/jobs/{job_id}").text
        if "every 500ms" not in page:
            return page
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_the_mapper_offers_identities_and_suggests_them_for_matching_names(
    store: DuckDBStore, tmp_path: Path
) -> None:
    client, csrf = signed_in(store, tmp_path / "uploads")
    body = b"E-mail,Phone Number,User ID,name,Notes\nann@example.com,+44 20 7946 0958,u1,Ann,vip\n"
    columns = mapper(preview(client, csrf, body))
    assert {c: chosen for c, (_, chosen) in columns.items()} == {
        "E-mail": "email",
        "Phone Number": "phone",
        "User ID": "user_id",
        "name": "name",
        "Notes": "",  # kept in attributes
    }
    offered = columns["Notes"][0]
    assert {"email", "phone", "user_id", "anonymous_id", "customer_id"} <= set(offered)


def test_case_events_offer_no_identity_fields(store: DuckDBStore, tmp_path: Path) -> None:
    client, csrf = signed_in(store, tmp_path / "uploads")
    answer = client.post(
        "/import/preview",
        data={"entity": "case_events"},
        files={"file": ("events.csv", b"case_external_id,email\nc1,a@example.com\n")},
        headers=csrf,
    )
    offered, chosen = mapper(answer.text)["email"]
    assert "email" not in offered and chosen == ""


def test_an_invalid_phone_is_listed_with_its_reason_when_imported_from_the_page(
    store: DuckDBStore, tmp_path: Path
) -> None:
    client, csrf = signed_in(store, tmp_path / "uploads")
    body = b"E-mail,Phone Number\nann@example.com,+44 20 7946 0958\nbob@example.com,12\n"
    page = preview(client, csrf, body)
    upload_id = page.split('name="upload_id" value="', 1)[1].split('"', 1)[0]
    # Submit the form as the page fills it: every select with its suggested option.
    form = {f"map:{column}": chosen for column, (_, chosen) in mapper(page).items()}
    started = client.post(
        "/import/run", data={"upload_id": upload_id, "entity": "customers", **form}, headers=csrf
    )
    report = wait_done(client, started.text)
    assert "1 imported" in report and "1 rejected" in report
    assert "Phone Number" in report
    assert "phone: 12 is not a phone number" in html.unescape(report)
    with store.session() as s:
        assert s.fetch_value("SELECT phone FROM customers WHERE email = 'ann@example.com'") == "+442079460958"


def test_the_page_reads_local_phone_numbers_in_the_configured_region(
    store: DuckDBStore, tmp_path: Path
) -> None:
    """CXLENS_DEFAULT_PHONE_REGION applies to the page's imports as to `cxlens import`."""
    client, csrf = signed_in(store, tmp_path / "uploads", default_phone_region="US")
    page = preview(client, csrf, b"email,phone\nann@example.com,(415) 555-0100\n")
    upload_id = page.split('name="upload_id" value="', 1)[1].split('"', 1)[0]
    form = {f"map:{column}": chosen for column, (_, chosen) in mapper(page).items()}
    started = client.post(
        "/import/run", data={"upload_id": upload_id, "entity": "customers", **form}, headers=csrf
    )
    assert "1 imported" in wait_done(client, started.text)
    with store.session() as s:
        assert s.fetch_value("SELECT phone FROM customers WHERE email = 'ann@example.com'") == "+14155550100"
