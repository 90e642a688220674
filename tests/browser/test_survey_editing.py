"""The survey editor and the answers page in Chromium, against a real ``cxlens serve``.

An analyst creates an NPS survey from the template, changes a question and sees the preview
follow, tries the branching in the preview (a detractor's score shows the detractor's follow-up),
saves and finds the change after a reload. On a phone, the answers filter by NPS segment, and an
answer given through a personal link appears in the open table without a reload.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from playwright.sync_api import Page, expect
from tests.browser.conftest import screenshot
from tests.live_server import free_port, start_server, stop_server

from cxlens.auth.model import Role
from cxlens.auth.service import create_user
from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.surveys.language.templates import TEMPLATES
from cxlens.surveys.links import create_link
from cxlens.surveys.service import create_survey

PASSWORD = "a long analyst password"
HOSTILE = "<img src=x onerror=alert(1)> was slow"
SURVEY = "nps-web"
TITLE = "Would you recommend ACME to a friend?"
DETRACTOR = "We are sorry to hear that. What disappointed you?"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A workspace with an analyst, answers to the survey the test will create, and a second
    survey with a personal link (the token is returned) for the real-time check."""
    db = tmp_path_factory.mktemp("surveys") / "ws.duckdb"
    store = open_store(Settings(db=db))
    try:
        people = [f"p{i}" for i in range(6)]
        names = ["Ana Pérez", "Bo Li", "Cy Ndiaye", "Di Rossi", "Ed Berg", "Flo Kim"]
        customers = pa.table(
            {"user_id": people, "name": names, "email": [f"{p}@example.com" for p in people]}
        )
        assert import_table(store, "customers", customers, options=ImportOptions()).imported == 6
        answers = pa.table(
            {
                "user_id": people,
                "metric": ["nps"] * 6,
                "score": ["2", "6", "7", "8", "9", "10"],
                "comment": [HOSTILE, "Too expensive", "Fine", "", "Quick and friendly", "Love it"],
                "channel": ["email", "web", "email", "app", "email", "web"],
                "touchpoint": ["delivery", "checkout", "delivery", "support", "delivery", "checkout"],
                "survey": [SURVEY] * 6,
                "answered_at": [f"2026-05-0{i + 1}T10:00:00Z" for i in range(6)],
            }
        )
        assert import_table(store, "responses", answers, options=ImportOptions()).imported == 6
        with store.unit_of_work() as uow:
            create_user(
                uow, email="analyst@example.com", name="Ana Lyst", role=Role.analyst, password=PASSWORD
            )
            create_survey(uow, name="csat-live", document=TEMPLATES["csat"]())
            link = create_link(
                uow, survey="csat-live", customer="p0", channel="email", touchpoint="case_solved"
            )
    finally:
        store.close()
    return db, str(link["token"])


@pytest.fixture(scope="module")
def server(world: tuple[Path, str]) -> Iterator[str]:
    port = free_port()
    process = start_server(world[0], port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


def sign_in(page: Page, base: str, target: str) -> None:
    page.goto(base + target)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill("analyst@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base + target)


def test_an_analyst_creates_edits_previews_and_saves_an_nps_survey(page: Page, server: str) -> None:
    sign_in(page, server, "/surveys")
    page.get_by_label("Start from").select_option("nps")
    page.get_by_label("Name").fill(SURVEY)
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(f"{server}/surveys/{SURVEY}/edit")
    preview = page.locator("#survey-preview")
    detractor = preview.locator("legend", has_text=DETRACTOR)
    expect(preview.locator("legend").first).to_contain_text("How likely are you to recommend us")

    page.locator('[name="q:0:title:en"]').fill(TITLE)
    expect(preview.locator("legend").first).to_contain_text(TITLE)  # the preview follows the form
    expect(detractor).to_have_count(0)
    preview.locator("label.scale__point", has=page.locator('input[value="3"]')).click()
    expect(detractor).to_be_visible()  # branching, in the preview
    expect(preview).to_contain_text("Thank you for your honest feedback.")
    screenshot(page, "survey-editor")

    page.locator('[name="q:3:visibleIf"]').fill("{nps_score} <=")  # a broken condition
    expect(page.locator("#problems-q-3")).to_contain_text("Show if:")
    expect(preview).to_contain_text("cannot be shown")
    page.locator('[name="q:3:visibleIf"]').fill("{nps_score} <= 6")
    expect(page.locator("#problems-q-3")).to_be_empty()
    expect(detractor).to_be_visible()

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-status")).to_have_text("Saved.")
    page.reload()
    expect(page.locator('[name="q:0:title:en"]')).to_have_value(TITLE)
    expect(page.locator("#survey-preview legend").first).to_contain_text(TITLE)


def test_answers_on_a_phone_filter_and_arrive_live(
    mobile_page: Page, page: Page, server: str, world: tuple[Path, str]
) -> None:
    dialogs: list[str] = []
    mobile_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(mobile_page, server, f"/surveys/{SURVEY}/responses")
    rows = mobile_page.locator("#response-rows tr")
    expect(rows).to_have_count(6)
    expect(rows.first).to_contain_text("Flo Kim")  # newest first
    mobile_page.get_by_label("NPS segment").select_option("detractor")
    mobile_page.get_by_role("button", name="Filter").click()
    expect(mobile_page).to_have_url(re.compile(r"segment=detractor"))
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator(".comment")).to_have_text(HOSTILE)  # shown as text, never run
    width: Any = mobile_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing wider than the screen"
    screenshot(mobile_page, "survey-responses")
    rows.first.get_by_role("link").click()
    expect(mobile_page.get_by_role("heading", level=1)).to_have_text("Bo Li")

    # An answer arrives while the table is open: it appears without a reload (the body polls).
    mobile_page.goto(f"{server}/surveys/csat-live/responses")
    expect(mobile_page.locator("#response-rows")).to_contain_text("No responses yet")
    page.goto(f"{server}/s/{world[1]}")
    page.locator("label.scale__point", has=page.locator('input[value="2"]')).click()
    page.wait_for_load_state("networkidle")  # the answer page saves the choice and redraws its form
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Thank you for your feedback!")).to_be_visible()
    live = mobile_page.locator("#response-rows tr")
    expect(live).to_have_count(1, timeout=15_000)
    expect(live.first).to_contain_text("Ana Pérez")
    expect(live.first).to_contain_text("case_solved")
    assert dialogs == []
