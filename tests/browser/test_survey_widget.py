"""The web widget on a real host page: a brand's page served from another local port (with a strict
CSP of its own) carries the script tag that ``cxlens surveys widget create`` printed; Chromium shows
the panel, the visitor answers the NPS survey inside the iframe (the follow-up branches in), and the
answer lands on that user's timeline in the workspace. A page on an origin the widget does not allow
shows nothing. The workspace is served by a real ``cxlens serve`` whose public URL is its own port.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from playwright.sync_api import Page, expect
from tests.auth_helpers import api_token, bearer
from tests.browser.conftest import SCREENSHOTS, ConsoleErrors
from tests.live_server import CXLENS, free_port, start_server, stop_server

from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.surveys.service import create_survey, template_document

USER = "u-widget"
# A 1×1 PNG as the shop's favicon: without one the browser logs a 404 for /favicon.ico.
FAVICON = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' {server};
    connect-src {server}; frame-src {server}; style-src 'self'">
  <title>Example shop: order confirmed</title>
</head>
<body>
  <h1>Thank you for your order</h1>
  <p>Your parcel is on its way.</p>
  {tag}
</body>
</html>
"""


@dataclass(frozen=True)
class WidgetWorld:
    server: str  # cxlens serve
    allowed: str  # the shop's page, on an origin the widget allows
    foreign: str  # the same page on an origin it does not
    token: str  # an API token, to read the workspace while the server holds it


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_folder(folder: Path) -> ThreadingHTTPServer:
    """A static web server for ``folder`` on a free loopback port, in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def origin_of(httpd: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def create_widget_with_cli(db: Path, server: str, origin: str) -> str:
    """The script tag, exactly as `cxlens surveys widget create` prints it for the brand."""
    made = subprocess.run(
        [*CXLENS, "surveys", "widget", "create", "nps-web", "--origin", origin, "--touchpoint", "order",
         "--format", "json", "--db", str(db)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "CXLENS_PUBLIC_URL": server},
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return str(json.loads(made.stdout)["script"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WidgetWorld]:
    folder = tmp_path_factory.mktemp("widget")
    db, site = folder / "ws.duckdb", folder / "site"
    store = open_store(Settings(db=db))
    try:
        people = pa.table({"user_id": [USER], "email": ["wanda@example.com"], "name": ["Wanda"]})
        assert import_table(store, "customers", people, options=ImportOptions()).imported == 1
        with store.unit_of_work() as uow:
            create_survey(uow, name="nps-web", document=template_document("nps"))
        token = api_token(store)
    finally:
        store.close()
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    site.mkdir()
    allowed, foreign = serve_folder(site), serve_folder(site)
    tag = create_widget_with_cli(db, server, origin_of(allowed))
    # The signed-in shopper: the brand adds data-user-id (and the page's own touchpoint) to the tag.
    signed_in = tag.replace(" async>", f' data-user-id="{USER}" data-touchpoint="checkout" async>')
    (site / "index.html").write_text(HOST_PAGE.format(server=server, tag=signed_in), encoding="utf-8")
    (site / "favicon.ico").write_bytes(FAVICON)
    (site / "guest.html").write_text(HOST_PAGE.format(server=server, tag=tag), encoding="utf-8")
    process = start_server(db, port, env={"CXLENS_PUBLIC_URL": server})
    try:
        yield WidgetWorld(server, origin_of(allowed) + "/", origin_of(foreign) + "/", token)
    finally:
        stop_server(process)
        for httpd in (allowed, foreign):
            httpd.shutdown()
            httpd.server_close()


def screenshot(page: Page, name: str) -> None:
    """As conftest's helper, but the caret is left alone: hiding it makes Playwright inject a <style>
    into every frame, which the survey page's CSP refuses inside the cross-origin iframe (a console
    error that is Playwright's, not the page's)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, caret="initial")


def responses_of(world: WidgetWorld, user: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{world.server}/api/customers/{user}/timeline", headers=bearer(world.token), timeout=10
    )
    assert answer.status_code == 200, answer.text
    return [item for item in answer.json()["items"] if item["type"] == "response"]


def test_the_widget_shows_the_survey_on_the_shop_and_records_the_answer(
    page: Page, world: WidgetWorld
) -> None:
    page.goto(world.allowed + "index.html")
    panel = page.locator("[data-cxlens-widget]")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("button", name="Close the survey")).to_be_visible()
    survey = page.frame_locator("[data-cxlens-widget] iframe")
    expect(survey.get_by_role("heading", name="Your opinion of us")).to_be_visible()
    expect(survey.locator("textarea")).to_have_count(0)
    survey.locator('input[name="nps_score"][value="4"]').check()
    comment = survey.get_by_label("We are sorry to hear that. What disappointed you?")
    expect(comment).to_be_visible()  # the detractor's follow-up, branched in by the server
    comment.fill("The parcel came late.")
    screenshot(page, "survey-widget")
    survey.get_by_role("button", name="Send").click()
    expect(survey.get_by_role("heading", name="Thank you for your honest feedback")).to_be_visible()
    [response] = responses_of(world, USER)
    assert "The parcel came late." in json.dumps(response)
    page.reload()  # the visitor was asked: the panel does not come back
    expect(page.locator("script[data-cxlens-state]")).to_have_attribute("data-cxlens-state", "asked-recently")
    expect(panel).to_have_count(0)


def test_the_panel_fits_a_phone_and_closes(mobile_page: Page, world: WidgetWorld) -> None:
    mobile_page.goto(world.allowed + "guest.html")  # a visitor who is not signed in: an anonymous id
    panel = mobile_page.locator("[data-cxlens-widget]")
    expect(panel).to_be_visible()
    survey = mobile_page.frame_locator("[data-cxlens-widget] iframe")
    expect(survey.get_by_role("heading", name="Your opinion of us")).to_be_visible()
    box = panel.bounding_box()
    assert box is not None and box["x"] == 0 and box["width"] == 390  # the phone's whole width
    width: Any = mobile_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing wider than the screen"
    screenshot(mobile_page, "survey-widget-phone")
    panel.get_by_role("button", name="Close the survey").click()
    expect(panel).to_have_count(0)


def test_a_page_on_another_origin_shows_nothing(
    page: Page, world: WidgetWorld, console_errors: ConsoleErrors
) -> None:
    console_errors.expect("CORS policy")  # Chromium reports the refused request on the page
    console_errors.expect("Failed to load resource")
    page.goto(world.foreign)
    expect(page.locator("script[data-cxlens-state]")).to_have_attribute("data-cxlens-state", "failed")
    expect(page.locator("[data-cxlens-widget]")).to_have_count(0)
    assert page.locator("iframe").count() == 0
