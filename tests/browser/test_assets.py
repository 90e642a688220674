"""The vendored front end works under the app's Content-Security-Policy, in a real Chromium.

A small FastAPI app on loopback serves ``/static`` through ``mount_static`` and one page built from
base.html and the macros, with the strict CSP. Chromium must draw its Vega-Lite charts (only
possible without ``eval`` through vega-interpreter), send the CSRF token with HTMX requests, keep
hostile text in chart data as text, and lay the page out at desktop and phone widths.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import altair as alt
import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from playwright.sync_api import Page, expect
from tests.browser.conftest import ConsoleErrors, screenshot
from tests.live_server import free_port

from cxlens.auth.model import Principal, Role
from cxlens.web.templating import fmt_number, json_script, mount_static, templates

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
CSRF_TOKEN = "csrf-test-token-1234"
HOSTILE = "</script><script>alert(1)</script>"

PAGE = """{% extends "base.html" %}
{% import "macros.html" as ui %}
{% block title %}Assets · cxlens{% endblock %}
{% block main %}
<h1>Assets</h1>
<div class="tiles">{% for tile in tiles %}{{ ui.metric_tile(tile) }}{% endfor %}</div>
{{ ui.chart("chart-bars", bars) }}
<button type="button" id="echo-button" hx-post="/echo" hx-target="#echo">Echo the token</button>
<div id="echo"></div>
{{ ui.data_table(columns, rows, caption="Customers") }}
{{ ui.pager("/?after=cus_3") }}
<ol class="timeline">
  {% for channel in ["web", "app", "email", "phone", "chat", "social", "store", "other"] %}
  <li class="item"><span class="channel channel-{{ channel }}" role="img" aria-label="{{ channel }}"></span>
    <div class="body"><p class="when">2024-05-01 10:00 UTC · {{ channel }}</p><p class="what">Message</p>
    <blockquote class="text">{{ hostile }}</blockquote></div></li>
  {% endfor %}
</ol>
{{ ui.data_table(["channel", "count"], [["email", 1234], ["chat", None]]) }}
{% endblock %}
"""
ECHO = """{% import "macros.html" as ui %}
<p id="echoed">{{ token }}</p>
{{ ui.chart("chart-swapped", bars) }}
"""
# A same-origin script (allowed) that tries eval (refused): evidence the CSP is enforced, so the
# chart tests' "no console errors" means the charts needed no eval. (Playwright's page.evaluate
# cannot probe this: DevTools evaluation is exempt from the CSP's eval rule.)
EVAL_PROBE_PAGE = '<!doctype html><link rel="icon" href="data:,"><p id="result">not run</p><script src="/eval-probe.js"></script>'
EVAL_PROBE_SCRIPT = """
let result;
try { new Function("return 1")(); result = "eval ran"; } catch (error) { result = error.name; }
document.getElementById("result").textContent = result;
"""


def bar_spec() -> str:
    """Interactions by channel, one channel named like an attack; sized to its container."""
    data = alt.Data(
        values=[
            {"channel": HOSTILE, "count": 3},
            {"channel": "Email", "count": 5},
            {"channel": "Chat", "count": 2},
        ]
    )
    chart = (
        alt.Chart(data, width="container", height=120, description="Interactions by channel")
        .mark_bar()
        .encode(
            y=alt.Y("channel:N", title=None, axis=alt.Axis(labelLimit=0)),
            x=alt.X("count:Q", title="Interactions"),
            tooltip=["channel:N", "count:Q"],
        )
    )
    return json.dumps(chart.to_dict())


def spark_spec() -> str:
    values = [
        {"period": f"2024-0{m}-01", "value": v}
        for m, v in zip(range(1, 7), [41, 43, 40, 45, 47, 46], strict=True)
    ]
    chart = (
        alt.Chart(alt.Data(values=values), width=160, height=36)
        .mark_line()
        .encode(x=alt.X("period:T", axis=None), y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False)))
        .configure_view(stroke=None)
    )
    return json.dumps(chart.to_dict())


def page_context() -> dict[str, Any]:
    tile = {"interval_text": "95% CI 41.2 – 50.6", "n": 1234, "href": "/explore?metric=nps"}
    return {
        "principal": Principal("user", "usr_test", "Ada Analyst", Role.analyst),
        "csrf_token": CSRF_TOKEN,
        "messages": [("success", "Import finished: 1,234 rows."), ("error", HOSTILE)],
        "bars": bar_spec(),
        "hostile": HOSTILE,
        "tiles": [
            {**tile, "title": "NPS", "value_text": "45.9", "change_text": "+4.1 vs previous 90 days",
             "significant": True, "direction": "up", "good": "up", "spark_id": "spark-nps", "spark_spec": spark_spec()},
            {**tile, "title": "Time to resolve", "value_text": "6.2 h", "change_text": "+0.3 h",
             "significant": False, "direction": "up", "good": "down", "spark_id": None, "spark_spec": None},
        ],
        "columns": ["name", {"key": "email", "label": "Email"}, {"key": "spend", "label": "Spend", "numeric": True, "digits": 2},
                    {"key": "note", "label": "Last message"}],
        "rows": [
            {"name": f"Customer {i}", "email": f"customer{i}@example.com", "spend": 1234.5 * i,
             "note": "A long message that keeps the table wider than a phone: " + HOSTILE}
            for i in range(1, 4)
        ],
    }  # fmt: skip


def make_app() -> FastAPI:
    app = FastAPI()
    mount_static(app)
    env = templates().env

    @app.middleware("http")
    async def content_security_policy(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["content-security-policy"] = CSP
        return response

    @app.get("/")
    def home(request: Request) -> HTMLResponse:
        return HTMLResponse(env.from_string(PAGE).render(request=request, **page_context()))

    @app.get("/eval-probe")
    def eval_probe() -> HTMLResponse:
        return HTMLResponse(EVAL_PROBE_PAGE)

    @app.get("/eval-probe.js")
    def eval_probe_script() -> Response:
        return Response(EVAL_PROBE_SCRIPT, media_type="text/javascript")

    @app.post("/echo")
    def echo(request: Request) -> HTMLResponse:
        token = request.headers.get("x-csrf-token", "(no header)")
        return HTMLResponse(env.from_string(ECHO).render(token=token, bars=bar_spec()))

    return app


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The app on a loopback port, served by uvicorn in a thread for the module's tests."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def open_page(page: Page, url: str) -> list[str]:
    """Load the page and wait for its first-render charts; returns the list dialogs are recorded in."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    response = page.goto(url)
    assert response is not None and response.headers["content-security-policy"] == CSP
    expect(page.locator('.chart[data-spec-id="chart-bars"] svg')).to_be_visible()
    expect(page.locator('.chart[data-spec-id="spark-nps"] svg')).to_be_visible()
    return dialogs


def test_charts_draw_under_the_csp_and_hostile_text_stays_text(
    site: str, page: Page, console_errors: ConsoleErrors
) -> None:
    dialogs = open_page(page, site)

    bars = page.locator('.chart[data-spec-id="chart-bars"]')
    expect(bars.locator("g.mark-rect path")).to_have_count(3)
    expect(bars.locator("svg text", has_text=HOSTILE)).to_have_count(1)  # the axis label, as text
    bars.locator("g.mark-rect path").first.hover()
    expect(page.locator("#vg-tooltip-element.visible")).to_contain_text(HOSTILE)

    # Only the page's own scripts exist: the text in the data and the flash made no <script>.
    inline = page.evaluate(
        "[...document.scripts].filter(s => !s.src && s.type !== 'application/json').length"
    )
    assert inline == 0
    assert dialogs == []
    expect(page.locator(".message.error")).to_have_text(HOSTILE)
    assert console_errors.unexpected() == []

    screenshot(page, "assets-desktop")


def test_the_csp_is_enforced_so_eval_is_refused(site: str, page: Page, console_errors: ConsoleErrors) -> None:
    console_errors.expect("unsafe-eval")  # some Chromium versions also log the refusal
    page.goto(f"{site}/eval-probe")
    expect(page.locator("#result")).to_have_text("EvalError")


def test_htmx_sends_the_csrf_token_and_swapped_charts_draw(site: str, page: Page) -> None:
    open_page(page, site)
    page.click("#echo-button")
    expect(page.locator("#echoed")).to_have_text(CSRF_TOKEN)
    expect(page.locator('#echo .chart[data-spec-id="chart-swapped"] svg')).to_be_visible()


def test_phone_layout_stacks_tiles_and_scrolls_tables_in_their_box(site: str, mobile_page: Page) -> None:
    page = mobile_page
    open_page(page, site)
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways page scroll
    table = page.get_by_role("region", name="Customers")
    assert table.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls inside its box
    first, second = (page.locator(".tile").nth(i).bounding_box() for i in range(2))
    assert first is not None and second is not None
    assert first["x"] == second["x"] and second["y"] > first["y"]  # one column
    nav = page.locator(".topnav").bounding_box()
    assert nav is not None and nav["x"] + nav["width"] <= width
    screenshot(page, "assets-mobile")


def test_static_files_cache_vendored_files_for_a_year_and_revalidate_our_own(site: str) -> None:
    vendored = httpx.get(f"{site}/static/vendor/vega/vega.min.js")
    assert vendored.status_code == 200
    assert "immutable" in vendored.headers["cache-control"]
    own = httpx.get(f"{site}/static/app.js")
    assert own.status_code == 200 and own.headers["cache-control"] == "no-cache"
    assert httpx.get(f"{site}/static/vendor/nothing.js").status_code == 404


def test_json_script_escapes_what_could_end_the_script_block() -> None:
    embedded = str(json_script({"label": HOSTILE, "and": "a & b <!--"}))
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded
    assert json.loads(embedded) == {"label": HOSTILE, "and": "a & b <!--"}
    assert json.loads(str(json_script(json.dumps([HOSTILE])))) == [HOSTILE]  # JSON text passes through


def test_json_script_refuses_what_json_parse_would() -> None:
    with pytest.raises(ValueError):
        json_script("not json")
    with pytest.raises(ValueError):
        json_script('{"value": NaN}')
    with pytest.raises(ValueError):
        json_script({"value": float("nan")})


def test_fmt_number() -> None:
    assert fmt_number(1234567) == "1,234,567"
    assert fmt_number(1234.5678, 2) == "1,234.57"
    assert fmt_number(None) == "–"
    assert fmt_number(float("nan")) == "–"


def test_navigation_only_for_a_signed_in_user() -> None:
    base = templates().env.get_template("base.html")
    anonymous = base.render()
    assert "<nav" not in anonymous and 'name="csrf-token" content=""' in anonymous
    signed_in = base.render(
        principal=Principal("user", "usr_test2", "<b>Ada</b>", Role.viewer), csrf_token=CSRF_TOKEN
    )
    assert 'href="/explore"' in signed_in and "&lt;b&gt;Ada&lt;/b&gt;" in signed_in
    assert 'href="/customers"' not in signed_in  # a viewer's navigation shows only what it may open
    assert f'name="csrf_token" value="{CSRF_TOKEN}"' in signed_in


def test_data_table_reads_rows_as_lists_or_dicts() -> None:
    ui = templates().env.get_template("macros.html").module
    from_lists = str(ui.data_table(["channel", "n"], [["email", 1234], ["<chat>", None]]))  # type: ignore[attr-defined]
    assert (
        '<td class="num">1234</td>' in from_lists
        and "&lt;chat&gt;" in from_lists
        and "<td>–</td>" in from_lists
    )
    columns = [
        {"key": "name", "label": "Name", "link": "url"},
        {"key": "spend", "numeric": True, "digits": 2},
    ]
    from_dicts = str(ui.data_table(columns, [{"name": "Ada", "url": "/customers/c1", "spend": 1234.5}]))  # type: ignore[attr-defined]
    assert '<a href="/customers/c1">Ada</a>' in from_dicts and '<td class="num">1,234.50</td>' in from_dicts
    assert "Nothing to show." in str(ui.data_table(columns, []))  # type: ignore[attr-defined]
