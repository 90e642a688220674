"""Email invitations through a real SMTP server on loopback (aiosmtpd, STARTTLS + login): what the
email holds, the one-click first answer, the contact-frequency rule, failures and retries,
reminders, and a pass that runs twice sending once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from tests.app_helpers import app_for
from tests.smtp_server import PASSWORD, USER, SmtpServer, links_in, smtp_server

from cxlens.bootstrap import send_config, smtp_settings
from cxlens.config import Settings
from cxlens.errors import MailFailed
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.jobs.survey_pass import SchedulerConfig, run_pass
from cxlens.mail.smtp import Mailer
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.invitations import invite_customers, list_invitations
from cxlens.surveys.links import open_link
from cxlens.surveys.service import create_survey, template_document

BASE = "http://cx.example.test"


@pytest.fixture
def smtp(tmp_path: Path) -> SmtpServer:
    with smtp_server(tmp_path, refuse={"gone@example.com"}) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def workspace(store: DuckDBStore) -> DuckDBStore:
    customers = pa.table(
        {
            "user_id": ["u1", "u2", "u3", "u4"],
            "email": ["ana@example.com", "ben@example.com", None, "gone@example.com"],
            "name": ["Ana", "Ben", "Cy", "Gone"],
            "segment": ["vip", "vip", "vip", "basic"],
            "attributes": ['{"locale": "de"}', None, None, None],
        }
    )
    assert import_table(store, "customers", customers, options=ImportOptions()).imported == 4
    with store.unit_of_work() as uow:
        document = template_document("nps")
        document["title"] = {"default": "How did we do? <script>alert(1)</script>", "de": "Wie war es?"}
        create_survey(uow, name="nps-q", document=document)
    return store


def config_for(smtp: SmtpServer, *, attempts: int = 3) -> SchedulerConfig:
    return SchedulerConfig(
        smtp=replace(
            smtp_settings(Settings()),
            host=smtp.host,
            port=smtp.port,
            security="starttls",
            username=USER,
            password=PASSWORD,
            timeout=10,
            tls_context=smtp.client_tls(),
        ),
        send=replace(
            send_config(Settings()),
            public_url=BASE,
            sender="Acme <feedback@acme.test>",
            link_days=14,
            max_attempts=attempts,
        ),
        contact_days=30,
    )


def invite(store: DuckDBStore, refs: list[str], now: datetime, **options: object) -> tuple[int, int]:
    with store.unit_of_work() as uow:
        key = int(uow.fetch_value("SELECT survey_key FROM surveys WHERE name = 'nps-q'"))
        admitted = invite_customers(
            uow,
            survey_key=key,
            refs=refs,
            contact_days=30,
            now=now,
            **options,  # type: ignore[arg-type]
        )
    return admitted.scheduled, admitted.suppressed


def statuses(store: DuckDBStore) -> dict[str, tuple[str, str | None]]:
    """Each customer's newest invitation: status and reason."""
    with store.session() as s:
        rows = list_invitations(s)
    newest: dict[str, tuple[str, str | None]] = {}
    for r in rows:  # newest first
        newest.setdefault(r["address"] or r["customer_id"], (r["status"], r["reason"]))
    return newest


def test_invitations_arrive_with_a_one_click_scale_and_open_the_survey(
    workspace: DuckDBStore, smtp: SmtpServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    assert invite(workspace, ["ana@example.com", "u2"], now) == (2, 0)
    outcome = run_pass(workspace, config_for(smtp), now)
    assert outcome["sent"] == 2 and outcome["failed"] == 0
    by_to = {m["To"]: m for m in smtp.inbox.wait_for(2)}
    ana, ben = by_to["ana@example.com"], by_to["ben@example.com"]
    assert ana["Subject"] == "Wie war es?"  # Ana's profile says locale de
    assert ben["Subject"] == "How did we do? <script>alert(1)</script>"  # a subject is plain text
    assert ben["From"] == "Acme <feedback@acme.test>" and ben["Auto-Submitted"] == "auto-generated"
    html = ben.get_body(preferencelist=("html",)).get_content()
    assert "<script>alert" not in html and "&lt;script&gt;" in html  # rendered inert
    links = links_in(ben)
    scale = [link for link in links if "?" in link]
    assert [parse_qs(urlsplit(link).query)["nps_score"] for link in scale] == [[str(v)] for v in range(11)]
    token = urlsplit(links[-1]).path.rsplit("/", 1)[-1]
    assert all(urlsplit(link).path.endswith(token) for link in links)  # one personal link
    assert len(set(links_in(ana)) & set(links)) == 0  # each customer has their own

    # One click on "3" opens the survey with 3 chosen and the detractor's question shown; it is
    # saved as a partial answer, not recorded as a response (mail scanners click links too).
    client = TestClient(app_for(workspace))
    page = client.get(
        urlsplit(scale[3]).path + "?" + urlsplit(scale[3]).query, headers={"accept": "text/html"}
    )
    assert page.status_code == 200 and 'value="3" checked' in page.text and "<textarea" in page.text
    with workspace.session() as s:
        assert open_link(s, token).answers == {"nps_score": 3}
        assert s.fetch_value("SELECT count(*) FROM responses") == 0
        sent = s.fetch_all("SELECT status, link_key IS NOT NULL AS linked, attempts FROM survey_invitations")
    assert sent == [{"status": "sent", "linked": True, "attempts": 1}] * 2


def test_the_contact_rule_holds_back_customers_asked_recently_and_missing_addresses(
    workspace: DuckDBStore, smtp: SmtpServer
) -> None:
    now = datetime.now(UTC)
    assert invite(workspace, ["ana@example.com", "u3"], now) == (1, 1)  # Cy has no email
    run_pass(workspace, config_for(smtp), now)
    assert invite(workspace, ["ana@example.com", "ben@example.com"], now + timedelta(days=29)) == (1, 1)
    assert invite(workspace, ["ana@example.com"], now + timedelta(days=31)) == (1, 0)  # the window passed
    later = invite(workspace, ["ben@example.com"], now + timedelta(days=31), respect_contact_rule=False)
    assert later == (1, 0)  # sent by hand on purpose, ignoring the rule
    assert statuses(workspace)["ana@example.com"][0] == "scheduled"
    with workspace.session() as s:
        reasons = s.fetch_all(
            "SELECT c.name, i.reason FROM survey_invitations i JOIN customers c USING (customer_key) "
            "WHERE i.status = 'suppressed' ORDER BY c.name"
        )
    assert reasons == [{"name": "Ana", "reason": "contact_frequency"}, {"name": "Cy", "reason": "no_address"}]
    # An unknown address is skipped alone and reported; the others are judged as usual.
    with workspace.unit_of_work() as uow:
        key = int(uow.fetch_value("SELECT survey_key FROM surveys WHERE name = 'nps-q'"))
        admitted = invite_customers(
            uow,
            survey_key=key,
            refs=["nobody@example.com", "u3", "nobody@example.com"],
            contact_days=30,
            now=now + timedelta(days=62),
        )
    assert admitted.unknown == ("nobody@example.com",) and admitted.suppressed == 1  # Cy: no address


def test_a_segment_is_invited_in_one_pass_and_a_second_pass_sends_nothing_more(
    workspace: DuckDBStore, smtp: SmtpServer
) -> None:
    now = datetime.now(UTC)
    with workspace.unit_of_work() as uow:
        key = int(uow.fetch_value("SELECT survey_key FROM surveys"))
        admitted = invite_customers(uow, survey_key=key, segment="vip", contact_days=30, now=now)
    assert (admitted.scheduled, admitted.suppressed) == (2, 1)
    config = config_for(smtp)
    assert run_pass(workspace, config, now)["sent"] == 2
    assert run_pass(workspace, config, now)["sent"] == 0
    assert len(smtp.inbox.wait_for(2)) == 2


def test_a_refused_recipient_fails_at_once_and_leaves_no_link(
    workspace: DuckDBStore, smtp: SmtpServer
) -> None:
    now = datetime.now(UTC)
    invite(workspace, ["gone@example.com", "ana@example.com"], now)
    outcome = run_pass(workspace, config_for(smtp), now)
    assert (outcome["sent"], outcome["failed"]) == (1, 1)
    assert "550" in outcome["errors"][0]
    status, reason = statuses(workspace)["gone@example.com"]
    assert status == "failed" and reason is not None and "No such mailbox" in reason
    with workspace.session() as s:
        assert s.fetch_value("SELECT count(*) FROM survey_links") == 1  # Ana's only


def test_an_unreachable_server_is_retried_later_then_the_invitation_goes_out(
    workspace: DuckDBStore, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    invite(workspace, ["ana@example.com"], now)
    with smtp_server(tmp_path) as smtp:
        config = config_for(smtp)
    # The server is gone now: the pass records a temporary failure and keeps the invitation.
    outcome = run_pass(workspace, config, now)
    assert (outcome["sent"], outcome["retrying"]) == (0, 1)
    with workspace.session() as s:
        row = s.fetch_one("SELECT status, attempts, send_after FROM survey_invitations")
        assert s.fetch_value("SELECT count(*) FROM survey_links") == 0
    assert row is not None and row["status"] == "scheduled" and row["attempts"] == 1
    assert row["send_after"] >= now + timedelta(minutes=5)  # not before the pause
    assert run_pass(workspace, config, now)["retrying"] == 0  # nothing due yet
    with smtp_server(tmp_path) as smtp:
        assert run_pass(workspace, config_for(smtp), now + timedelta(minutes=6))["sent"] == 1
        assert smtp.inbox.wait_for(1)[0]["To"] == "ana@example.com"


def test_after_the_last_attempt_an_invitation_is_marked_failed(
    workspace: DuckDBStore, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    invite(workspace, ["ana@example.com"], now)
    with smtp_server(tmp_path) as smtp:
        config = config_for(smtp, attempts=2)
    run_pass(workspace, config, now)
    assert run_pass(workspace, config, now + timedelta(hours=1))["failed"] == 1
    assert statuses(workspace)["ana@example.com"][0] == "failed"


def test_starttls_is_required_when_configured(tmp_path: Path) -> None:
    with smtp_server(tmp_path, tls=False) as plain:
        settings = replace(smtp_settings(Settings()), host=plain.host, port=plain.port, timeout=5)
        with Mailer(settings) as mailer, pytest.raises(MailFailed, match="does not offer STARTTLS"):
            message = EmailMessage()
            message["To"] = "ana@example.com"
            message.set_content("hello")
            mailer.send(message)
        assert plain.inbox.messages == []


def test_a_reminder_goes_once_to_those_who_did_not_answer_and_opens_the_same_answers(
    workspace: DuckDBStore, smtp: SmtpServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    invite(workspace, ["ana@example.com", "ben@example.com"], now, remind_after_days=2)
    config = config_for(smtp)
    run_pass(workspace, config, now)
    first = {m["To"]: m for m in smtp.inbox.wait_for(2)}
    client = TestClient(app_for(workspace))
    ben_link = urlsplit(links_in(first["ben@example.com"])[-1]).path
    assert client.post(ben_link, data={"nps_score": "9", "_action": "submit"}).status_code == 200
    assert run_pass(workspace, config, now + timedelta(days=1))["reminded"] == 0  # not yet
    assert run_pass(workspace, config, now + timedelta(days=2, minutes=1))["reminded"] == 1
    assert run_pass(workspace, config, now + timedelta(days=3))["reminded"] == 0  # once
    reminder = smtp.inbox.wait_for(3)[2]
    assert reminder["To"] == "ana@example.com" and reminder["Subject"].startswith("Erinnerung")
    old, new = links_in(first["ana@example.com"])[-1], links_in(reminder)[-1]
    assert old != new
    client.get(urlsplit(old).path + "?nps_score=4", headers={"accept": "text/html"})
    page = client.get(urlsplit(new).path, headers={"accept": "text/html"})
    assert 'value="4" checked' in page.text  # both tokens open the same answers


def test_a_title_with_a_line_break_cannot_inject_a_header(workspace: DuckDBStore, smtp: SmtpServer) -> None:
    with workspace.unit_of_work() as uow:
        document = template_document("csat")
        document["title"] = "Thanks!\r\nBcc: everyone@example.com"
        create_survey(uow, name="csat-x", document=document)
        key = int(uow.fetch_value("SELECT survey_key FROM surveys WHERE name = 'csat-x'"))
        invite_customers(
            uow, survey_key=key, refs=["ben@example.com"], contact_days=30, now=datetime.now(UTC)
        )
    assert run_pass(workspace, config_for(smtp))["sent"] == 1
    message = smtp.inbox.wait_for(1)[0]
    assert message["Subject"] == "Thanks! Bcc: everyone@example.com" and message["Bcc"] is None
