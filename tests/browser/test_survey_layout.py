"""The survey pages as a new user met them, measured in Chromium on a real ``cxlens serve`` with the
demo company: no page wider than a 390 px phone, the header in at most two rows, no table clipped at
1440 px, an email on one line in the Customer 360 profile, the loop's follow-up case opening its
timeline entry, and the brand (not cxlens) on every page a customer sees, with the CSP holding
(the fixtures fail a test on any console error, a CSP refusal included). Screenshots of each page
go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.conftest import ConsoleErrors, screenshot
from tests.live_server import free_port, start_server, stop_server

from cxlens.auth.model import Role
from cxlens.auth.service import create_user
from cxlens.automation.loop import run_loop
from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.demo.build import build_demo
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.surveys.links import insert_link

PASSWORD = "a long analyst password"
BRAND, BRAND_RGB = "Acme Home", "rgb(15, 81, 50)"  # CXLENS_BRAND_COLOR=#0f5132
LONG_EMAIL = "maria.fernanda.oliveira-santos@example.com.br"
WIDE = {"width": 1440, "height": 900}
STAFF_PAGES = (
    "/surveys",
    "/surveys/NPS%20quarterly/responses",
    "/surveys/NPS%20quarterly/send",
    "/surveys/loop",
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A served demo company with a follow-up case, a customer with a long email, and a survey link."""
    db = tmp_path_factory.mktemp("survey-layout") / "demo.duckdb"
    store = open_store(Settings(db=db))
    try:
        build_demo(store, customers=300, months=3, seed=11)
        person = pa.table(
            {
                "user_id": ["long-1"],
                "email": [LONG_EMAIL],
                "name": ["Maria Santos"],
                "phone": ["+44 20 7946 0958"],
            }
        )
        assert import_table(store, "customers", person, options=ImportOptions()).imported == 1
        now = datetime.now(UTC)
        unhappy = pa.table(
            {"user_id": ["long-1"], "metric": ["nps"], "score": ["2"], "survey": ["NPS quarterly"],
             "comment": ["The parcel arrived broken and nobody called me back about the refund."],
             "answered_at": [now.isoformat()]}
        )  # fmt: skip
        assert import_table(store, "responses", unhappy, options=ImportOptions(source="manual")).imported == 1
        assert run_loop(store, contact_days=30, now=now)["followups_opened"] >= 1
        with store.unit_of_work() as uow:
            create_user(uow, email="ada@example.com", name="Ada Analyst", role=Role.admin, password=PASSWORD)
            survey_key = uow.fetch_value("SELECT survey_key FROM surveys WHERE name = 'CSAT after case'")
            customer = uow.fetch_one(
                "SELECT c.customer_key, c.customer_id FROM customers c JOIN identities x USING (customer_key) "
                "WHERE x.value = 'long-1'"
            )
            assert customer
            token, _ = insert_link(
                uow, survey_key=survey_key, customer_key=customer["customer_key"], channel="email",
                touchpoint=None, days=30,
            )  # fmt: skip
            public_id = uow.fetch_value("SELECT survey_id FROM surveys WHERE name = 'NPS quarterly'")
    finally:
        store.close()
    port = free_port()
    server = start_server(db, port, env={"CXLENS_BRAND_NAME": BRAND, "CXLENS_BRAND_COLOR": "#0f5132"})
    try:
        yield {
            "base": f"http://127.0.0.1:{port}",
            "token": token,
            "public_id": public_id,
            "customer": customer["customer_id"],
        }
    finally:
        stop_server(server)


def sign_in(page: Page, base: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base + "/")


def header_rows(page: Page) -> int:
    """Rows the header's parts occupy: its brand, each page link and the account, grouped into rows
    by vertical overlap (items of one row are centred, so their tops differ by a few pixels)."""
    return int(
        page.evaluate(
            """() => {
              const boxes = [...document.querySelectorAll('.topbar .brand, .topnav li, .topbar .account')]
                .map(e => e.getBoundingClientRect()).sort((a, b) => a.top - b.top);
              let rows = 0, bottom = -Infinity;
              for (const box of boxes) {
                if (box.top >= bottom - 1) { rows += 1; bottom = box.bottom; } else { bottom = Math.max(bottom, box.bottom); }
              }
              return rows;
            }"""
        )
    )


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def test_on_a_phone_no_page_is_wider_than_the_screen_and_the_header_takes_two_rows(
    mobile_page: Page, world: dict[str, Any]
) -> None:
    sign_in(mobile_page, world["base"])
    for path in (*STAFF_PAGES, f"/customers/{world['customer']}"):
        mobile_page.goto(world["base"] + path)
        mobile_page.wait_for_load_state("networkidle")
        screenshot(mobile_page, f"surveys-layout-390-{slug(path)}")
        assert page_width(mobile_page) <= 390, path
        assert header_rows(mobile_page) <= 2, path


def test_at_1440_the_loop_and_consistency_tables_fit_their_boxes(
    browser: Browser, console_errors: ConsoleErrors, world: dict[str, Any]
) -> None:
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    console_errors.watch(page)
    try:
        sign_in(page, world["base"])
        for path, table in (("/surveys/loop", "Latest follow-ups"), ("/", "Channel consistency")):
            page.goto(world["base"] + path)
            page.wait_for_load_state("networkidle")
            box = page.locator(".table-wrap", has=page.locator("table")).filter(
                has_text=re.compile("Case status" if table == "Latest follow-ups" else "Channels differ")
            )
            expect(box).to_be_visible()
            screenshot(page, f"surveys-layout-1440-{slug(path)}")
            scroll, client = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
            assert scroll <= client, (table, scroll, client)
        assert header_rows(page) == 1
    finally:
        context.close()
    assert not console_errors.unexpected()


def test_the_profile_shows_an_email_on_one_line(mobile_page: Page, world: dict[str, Any]) -> None:
    sign_in(mobile_page, world["base"])
    mobile_page.goto(f"{world['base']}/customers/{world['customer']}")
    for selector in ("#profile-email", "#profile-phone"):
        element = mobile_page.locator(selector)
        expect(element).to_be_visible()
        height, line = element.evaluate(
            "e => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight)]"
        )
        assert height < 1.5 * line, (selector, height, line)  # one line, not broken mid-string
    expect(mobile_page.locator("#profile-email")).to_have_attribute("title", LONG_EMAIL)


def test_the_loops_follow_up_case_opens_its_timeline_entry(page: Page, world: dict[str, Any]) -> None:
    sign_in(page, world["base"])
    page.goto(world["base"] + "/surveys/loop")
    case = page.locator(".table-wrap a[href*='#item-']").first
    case_id = case.inner_text()
    case.click()
    expect(page).to_have_url(re.compile(rf"/customers/{world['customer']}#item-{case_id}$"))
    entry = page.locator(f"#item-{case_id}")
    expect(entry).to_be_in_viewport()
    expect(entry).to_contain_text("Follow up")


def test_every_customer_page_shows_the_brand_never_cxlens_and_keeps_the_csp(
    mobile_page: Page, console_errors: ConsoleErrors, world: dict[str, Any]
) -> None:
    base = world["base"]

    def check(name: str) -> None:
        mobile_page.wait_for_load_state("networkidle")
        screenshot(mobile_page, f"customer-page-390-{name}")
        expect(mobile_page.locator(".customer-brand")).to_have_text(BRAND)
        assert "cxlens" not in mobile_page.locator("body").inner_text().lower(), name
        assert "cxlens" not in mobile_page.title().lower(), name
        assert page_width(mobile_page) <= 390, name

    mobile_page.goto(f"{base}/s/{world['token']}")
    check("survey")
    send = mobile_page.get_by_role("button", name="Send")
    assert send.evaluate("e => getComputedStyle(e).backgroundColor") == BRAND_RGB  # /brand.css applied
    mobile_page.locator(".scale__point").nth(1).click()
    mobile_page.wait_for_load_state("networkidle")
    send.click()
    expect(mobile_page.get_by_role("heading", level=1)).to_contain_text("Thank")
    check("thank-you")
    mobile_page.goto(f"{base}/s/{world['token']}?embed=1")  # the widget's panel shows this page
    check("widget-panel")
    mobile_page.goto(f"{base}/p/{world['public_id']}")
    check("public-link")
    console_errors.expect("status of 404")  # the expired link's page itself, not a refused resource
    mobile_page.goto(f"{base}/s/no-such-link")
    check("expired-link")
