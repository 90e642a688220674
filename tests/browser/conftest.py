"""Browser tests: Playwright driving Debian's Chromium (``/usr/bin/chromium``).

Playwright's own browser download does not work offline, so the tests launch the system Chromium
(``.ci/run`` installs it). Without it they skip, except under CI, where a skip would hide tests that
never ran. Every page records console errors and uncaught exceptions (a CSP refusal is one) and the
test fails at teardown if any was not expected with ``console_errors.expect("fragment")``.

Tests that use these fixtures get the ``browser`` marker (deselect with ``-m 'not browser'``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 15_000  # a bound on each wait, so a broken page fails instead of hanging


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright; needs /usr/bin/chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):  # CI installs Chromium: a skip there would hide tests that never ran
        pytest.fail(f"the browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


class ConsoleErrors:
    """Console errors and uncaught exceptions seen on a test's pages."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._expected: list[str] = []

    def expect(self, fragment: str) -> None:
        """Errors containing ``fragment`` are part of the test, not a failure."""
        self._expected.append(fragment)

    def unexpected(self) -> list[str]:
        return [m for m in self.seen if not any(f in m for f in self._expected)]

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.seen.append(f"uncaught {error.name}: {error.message}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.seen.append(f"console.error: {message.text}" + (f" ({where})" if where else ""))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (it is in the dev dependency group)")
    # Chromium refuses to start its sandbox as root (containers, CI); elsewhere it keeps it.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


def _open_page(
    browser: Browser, errors: ConsoleErrors, viewport: dict[str, int], **options: object
) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, **options)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors.watch(page)
    yield page
    context.close()
    if unexpected := errors.unexpected():
        pytest.fail("the page logged errors:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture
def page(browser: Browser, console_errors: ConsoleErrors) -> Iterator[Page]:
    """A fresh page at 1280×800 (its own context: no cookies or storage shared between tests)."""
    yield from _open_page(browser, console_errors, DESKTOP)


@pytest.fixture
def mobile_page(browser: Browser, console_errors: ConsoleErrors) -> Iterator[Page]:
    """A fresh page on a 390×844 phone (honours the meta viewport, touch events)."""
    yield from _open_page(
        browser, console_errors, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as test-artifacts/screenshots/<name>.png (for a human to look at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # caret="initial": hiding the text caret (Playwright's default) injects a <style> that our CSP
    # refuses, which would be logged as a console error whenever a field has the focus.
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path
