"""The web app end to end: a real ``cxlens serve`` on a small demo company, driven by Chromium.

An admin signs in, reads the overview (every tile and chart, no console errors), drills into the
explorer and changes the dimension, opens a Customer 360 and pages through the timeline, uploads
a file with a bad row and reads the reason; a viewer cannot import. Screenshots of every page go
to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from playwright.sync_api import Page, expect
from tests.browser.conftest import ConsoleErrors, screenshot
from tests.live_server import free_port, start_server, stop_server

from cxlens.auth.model import Role
from cxlens.auth.service import create_user
from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.demo.build import build_demo
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table

PASSWORD = "a long demo password"
TILES = 9
# Hostile customer text, loaded through the import pipeline; none of it may run in the browser.
PAYLOADS = [
    "<script>alert('name')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(2)>",
    "</script><script>alert(3)</script>",
    "<iframe src=javascript:alert(4)>",
    "{{7*7}} ${alert(5)}",
]


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo workspace, and the user id of its busiest customer (a timeline of several pages)."""
    db = tmp_path_factory.mktemp("web") / "demo.duckdb"
    store = open_store(Settings(db=db))
    try:
        build_demo(store, customers=600, months=4, seed=7)
        hostile = pa.table(
            {
                "user_id": [f"x{i}" for i in range(len(PAYLOADS))],
                "name": PAYLOADS,
                "segment": PAYLOADS,
                "email": [f"hostile{i}@example.com" for i in range(len(PAYLOADS))],
            }
        )
        assert import_table(store, "customers", hostile, options=ImportOptions()).imported == len(PAYLOADS)
        events = pa.table(
            {
                "user_id": [f"x{i}" for i in range(len(PAYLOADS))],
                "metric": ["nps"] * len(PAYLOADS),
                "score": ["3"] * len(PAYLOADS),
                "comment": PAYLOADS,
                "answered_at": ["2026-10-01T10:00:00Z"] * len(PAYLOADS),
            }
        )
        assert import_table(store, "responses", events, options=ImportOptions()).imported == len(PAYLOADS)
        with store.unit_of_work() as uow:
            for role in (Role.admin, Role.viewer):
                create_user(
                    uow, email=f"{role}@example.com", name=f"Demo {role}", role=role, password=PASSWORD
                )
        with store.session() as s:
            busiest = s.fetch_value(
                "SELECT x.value FROM identities x JOIN interactions i USING (customer_key) "
                "WHERE x.kind = 'user_id' GROUP BY x.value ORDER BY count(*) DESC, x.value LIMIT 1"
            )
    finally:
        store.close()
    return db, str(busiest)


@pytest.fixture(scope="module")
def demo_server(demo_world: tuple[Path, str]) -> Iterator[str]:
    db, _ = demo_world
    port = free_port()
    server = start_server(db, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(server)


def sign_in(page: Page, base: str, role: Role, target: str = "/") -> None:
    page.goto(base + target)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(f"{role}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base + target)


def test_admin_reads_the_overview_explorer_customer_360_and_imports(
    page: Page, demo_server: str, demo_world: tuple[Path, str], tmp_path: Path
) -> None:
    base, busiest = demo_server, demo_world[1]
    sign_in(page, base, Role.admin)
    expect(page.get_by_role("heading", name="Is our customer experience good?")).to_be_visible()
    expect(page.locator("article.tile")).to_have_count(TILES)
    expect(page.locator(".tile--loading")).to_have_count(0, timeout=30_000)  # every tile arrived
    expect(page.locator(".tile__value").first).not_to_have_text("…")
    sparks = page.locator(".tile .chart")
    assert sparks.count() >= 5
    expect(page.locator(".tile .chart svg")).to_have_count(sparks.count(), timeout=15_000)
    expect(page.get_by_role("rowheader", name="NPS")).to_be_visible(
        timeout=15_000
    )  # the channel-consistency table
    screenshot(page, "overview")

    page.get_by_role("link", name="Net Promoter Score").click()
    expect(page).to_have_url(re.compile(r"/explore\?metric=nps"))
    expect(page.locator("#results .chart svg")).to_have_count(1, timeout=15_000)
    page.get_by_label("Dimension").select_option("channel")
    expect(page.locator("#results th", has_text="channel")).to_be_visible(timeout=15_000)
    expect(page).to_have_url(re.compile(r"by=channel"))
    expect(page.locator("#results .chart svg")).to_have_count(1, timeout=15_000)
    screenshot(page, "explorer")

    page.get_by_role("link", name="Customers").click()
    page.get_by_label("Name, email, phone or any id").fill(busiest)
    page.get_by_role("button", name="Search").click()
    first = page.locator("#customer-results tbody a").first
    expect(first).to_be_visible()
    first.click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    items = page.locator("#timeline li.item")
    expect(items).to_have_count(25)  # the first page
    page.get_by_role("link", name="Older").click()
    expect(items).not_to_have_count(25)  # the next page is appended
    screenshot(page, "customer-360")

    bad = tmp_path / "customers.csv"
    bad.write_text(
        "user_id,name,email,signed_up_at\n"
        "web-1,Ada Web,ada.web@example.com,2024-03-01T10:00:00Z\n"
        "web-2,Bob Web,not-an-email,2024-03-02T10:00:00Z\n"
    )
    page.get_by_role("link", name="Import").click()
    page.get_by_label("Kind of data").select_option("customers")
    page.get_by_label("File").set_input_files(str(bad))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Map the columns of customers.csv")).to_be_visible()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("1 imported", timeout=30_000)
    expect(page.get_by_role("status")).to_contain_text("1 rejected")
    expect(page.locator("#import-job table")).to_contain_text("email")
    screenshot(page, "import-report")


def test_a_viewer_sees_metrics_but_cannot_import(
    page: Page, demo_server: str, console_errors: ConsoleErrors
) -> None:
    console_errors.expect("403 (Forbidden)")  # the refused page load itself
    sign_in(page, demo_server, Role.viewer)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Overview")).to_be_visible()
    expect(nav.get_by_role("link", name="Import")).to_have_count(0)
    expect(nav.get_by_role("link", name="Customers")).to_have_count(0)
    response = page.goto(demo_server + "/import")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    screenshot(page, "viewer-import-refused")


def test_the_overview_works_on_a_phone(mobile_page: Page, demo_server: str) -> None:
    sign_in(mobile_page, demo_server, Role.admin)
    expect(mobile_page.locator(".tile--loading")).to_have_count(0, timeout=30_000)
    width: Any = mobile_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing wider than the screen"
    screenshot(mobile_page, "overview-phone")


def test_hostile_customer_text_never_runs(page: Page, demo_server: str) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, demo_server, Role.admin, "/customers?q=hostile")
    expect(page.locator("#customer-results tbody tr")).to_have_count(len(PAYLOADS))
    for i, payload in enumerate(PAYLOADS):
        page.goto(f"{demo_server}/customers/hostile{i}@example.com")
        expect(page.get_by_role("heading", level=1)).to_have_text(payload)  # shown as text
        expect(page.locator("#timeline blockquote").first).to_have_text(payload)
    page.goto(f"{demo_server}/explore?metric=nps&by=segment&grain=")
    expect(page.locator("#results .chart svg")).to_have_count(1, timeout=15_000)
    screenshot(page, "hostile-text")
    assert dialogs == [], f"customer text ran as code: {dialogs}"
    assert page.locator("iframe").count() == 0


def test_retention_and_customer_attribute_charts_draw_their_marks(page: Page, demo_server: str) -> None:
    """The retention chart was blank beside a full table, and any customer:<attribute> grouping
    answered 500 (the chart library read the colon as a type code)."""
    sign_in(page, demo_server, Role.admin, "/explore?metric=retention&grain=month")
    table_rows = page.locator("#results tbody tr")
    expect(table_rows.first).to_be_visible()
    cells = page.locator("#results .chart svg .mark-rect.role-mark path")
    expect(cells).to_have_count(table_rows.count(), timeout=15_000)  # a cell per cohort and age
    page.goto(demo_server + "/explore?metric=nps&by=customer:plan&grain=")
    expect(page.locator("#results .chart svg .mark-rect.role-mark path").first).to_be_visible(timeout=15_000)
    assert page.locator("#results .chart svg .mark-rect.role-mark path").count() >= 2  # a bar per plan
    expect(page.locator("#results .chart svg")).to_contain_text("customer:plan")
    page.goto(demo_server + "/explore?metric=nps&by=customer:plan&grain=month")
    lines = page.locator("#results .chart svg .mark-line.role-mark path")
    expect(lines.first).to_be_visible(timeout=15_000)
    assert lines.count() >= 2  # a line per plan
    bands = "Array.from(document.querySelectorAll('#results .chart svg .mark-area path'), p => parseFloat(p.getAttribute('opacity') || '1')).filter(o => o > 0).length"
    assert page.evaluate(bands) == 0  # no haze of overlapping bands until a plan is picked
    points = page.locator("#results .chart svg .mark-symbol path")
    points.nth(points.count() // 2).hover()
    page.wait_for_function(f"({bands}) === 1", timeout=5_000)  # the plan pointed at shows its band
    sizes: Any = page.evaluate(
        "Array.from(document.querySelectorAll('#results .chart svg text'), t => parseFloat(getComputedStyle(t).fontSize))"
    )
    assert sizes and min(sizes) >= 12, "chart text is readable"


@pytest.mark.parametrize("width", [1440, 390])
def test_overview_and_explorer_fit_the_screen(
    browser: Any, console_errors: ConsoleErrors, demo_server: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    console_errors.watch(page)
    try:
        sign_in(page, demo_server, Role.admin, "/?days=365")
        expect(page.locator(".tile--loading")).to_have_count(0, timeout=30_000)
        expect(page.locator(".tile__change").first).to_be_visible()
        assert page.locator(".tile__change", has_text=re.compile(r"\d\.0 vs|-0\.0")).count() == 0
        screenshot(page, f"overview-365-{width}")
        page.goto(demo_server + "/explore?metric=csat&by=channel&grain=month")
        expect(page.locator("#results .chart svg .mark-line.role-mark path").first).to_be_visible(
            timeout=15_000
        )
        width_used: Any = page.evaluate("document.documentElement.scrollWidth")
        assert width_used <= width, "nothing wider than the screen"
        screenshot(page, f"explorer-{width}")
    finally:
        context.close()
    assert console_errors.unexpected() == []
