"""From an analyst's click to a customer's answer, with real parts only: a real ``cxlens serve``
whose survey scheduler sends through a real SMTP server on loopback (STARTTLS, login, a certificate
trusted through SSL_CERT_FILE as a company CA would be), Chromium for both people.

The analyst sends an NPS survey from the web app; the customer opens the email's "3" on a phone,
sees the detractor's follow-up, answers and is thanked; the analyst then finds the answer on the
customer's timeline, the follow-up case the loop opened for it, the NPS figures, the loop's count
and the survey's list of invitations.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
from playwright.sync_api import Page, expect
from tests.browser.conftest import screenshot
from tests.live_server import free_port, start_server, stop_server
from tests.smtp_server import PASSWORD as SMTP_PASSWORD
from tests.smtp_server import USER as SMTP_USER
from tests.smtp_server import SmtpServer, links_in, smtp_server

from cxlens.auth.model import Role
from cxlens.auth.service import create_user
from cxlens.automation.loop import add_rule
from cxlens.bootstrap import open_store
from cxlens.config import Settings
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.surveys.service import create_survey, template_document

PASSWORD = "a long analyst password"
ANALYST = "analyst@example.com"


def prepare(db: Path) -> None:
    store = open_store(Settings(db=db))
    try:
        customers = pa.table({"user_id": ["u-ana"], "email": ["ana@example.com"], "name": ["Ana Lima"]})
        assert import_table(store, "customers", customers, options=ImportOptions()).imported == 1
        with store.unit_of_work() as uow:
            create_user(uow, email=ANALYST, name="Ada Analyst", role=Role.analyst, password=PASSWORD)
            create_survey(uow, name="nps-q4", document=template_document("nps"))
            add_rule(uow, name="detractors", metric="nps", team="customer-success")
    finally:
        store.close()


def sign_in(page: Page, base: str, target: str) -> None:
    page.goto(base + target)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(ANALYST)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base + target)


def server_env(base: str, smtp: SmtpServer) -> dict[str, str]:
    assert smtp.cert is not None
    return {
        "CXLENS_PUBLIC_URL": base,
        "CXLENS_SMTP_HOST": smtp.host,
        "CXLENS_SMTP_PORT": str(smtp.port),
        "CXLENS_SMTP_USERNAME": SMTP_USER,
        "CXLENS_SMTP_PASSWORD": SMTP_PASSWORD,
        "CXLENS_MAIL_FROM": "Acme Feedback <feedback@acme.test>",
        "CXLENS_SURVEY_SCHEDULER_SECONDS": "1",  # follow-up cases open within a second
        "SSL_CERT_FILE": str(smtp.cert),  # the system trust store's stand-in: a company CA
    }


def send_from_the_web_app(page: Page, base: str, smtp: SmtpServer) -> list[str]:
    """The analyst invites Ana; returns the email's one-click scale links."""
    sign_in(page, base, "/surveys/nps-q4/send")
    page.get_by_label("Customers — ids or emails, one per line").fill("ana@example.com")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.locator("#send-result")).to_contain_text("1 invitation planned")
    email = smtp.inbox.wait_for(1)[0]
    assert email["To"] == "ana@example.com" and email["From"] == "Acme Feedback <feedback@acme.test>"
    scale = [link for link in links_in(email) if "?" in link]
    assert len(scale) == 11 and all(link.startswith(base + "/s/cxs_") for link in scale)
    return scale


def answer_on_a_phone(phone: Page, three: str) -> None:
    """Ana taps "3" in the email, hesitates over 9 (the promoter's question), settles on 3 and says why."""
    phone.goto(three)
    expect(phone.locator('input[name="nps_score"][value="3"]')).to_be_checked()
    comment = phone.locator("#survey-form textarea")
    expect(comment).to_be_visible()  # the detractor's follow-up
    follow_up = phone.locator("#survey-form legend").nth(1)
    detractor_question = follow_up.inner_text()
    phone.locator("label.scale__point", has_text=re.compile(r"^9$")).click()
    expect(follow_up).not_to_have_text(detractor_question)  # a promoter is asked something else
    phone.locator("label.scale__point", has_text=re.compile(r"^3$")).click()
    expect(follow_up).to_have_text(detractor_question)
    comment.fill("The courier was three days late.")
    screenshot(phone, "survey-email-answer-phone")
    phone.get_by_role("button", name="Send").click()
    expect(phone.locator("main")).to_contain_text(re.compile("thank", re.I))


def analyst_sees_it_everywhere(page: Page, base: str) -> None:
    page.goto(base + "/customers/ana@example.com")
    expect(page.locator("#timeline")).to_contain_text("The courier was three days late.")
    # The survey pass turns the detractor into a follow-up case for customer-success, which shows
    # on her timeline (the page is server-rendered: reload until the pass has run).
    for _ in range(60):
        if "Follow up: NPS 3" in page.locator("#timeline").inner_text():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("#timeline")).to_contain_text("Follow up: NPS 3 — nps-q4")
    page.goto(base + "/surveys")
    expect(page.locator("tbody tr", has_text="nps-q4")).to_contain_text("100% (1 of 1 emailed)")
    page.goto(base + "/surveys/loop")
    expect(page.locator('[data-step="followed_up"] .tile__value')).to_have_text("1")
    screenshot(page, "survey-loop")
    nps = page.request.get(base + "/api/metrics/nps").json()
    assert nps["rows"][0]["n"] == 1 and nps["rows"][0]["value"] == -100
    page.goto(base + "/surveys/nps-q4/send")
    invitation = page.locator("tbody tr", has_text="ana@example.com")
    expect(invitation).to_contain_text("sent")
    answered = invitation.locator("td").last
    expect(answered).to_have_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"))
    screenshot(page, "survey-send")


def test_an_emailed_nps_survey_is_answered_on_a_phone_and_lands_on_timeline_and_metrics(
    page: Page, mobile_page: Page, tmp_path: Path
) -> None:
    db = tmp_path / "ws.duckdb"
    prepare(db)
    with smtp_server(tmp_path) as smtp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(db, port, env=server_env(base, smtp))
        try:
            scale = send_from_the_web_app(page, base, smtp)
            answer_on_a_phone(mobile_page, scale[3])
            analyst_sees_it_everywhere(page, base)
        finally:
            stop_server(server)
