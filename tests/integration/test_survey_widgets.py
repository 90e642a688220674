"""The web widget and the public link against a real workspace: strict origins, a key bound to one
survey, revocation, the contact-frequency rule for visitors, and answers recorded under the
visitor's identity (an existing customer's timeline, or a new anonymous profile); the CLI."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from tests.live_server import run_cxlens

from cxlens.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cxlens.ingest.options import ImportOptions
from cxlens.ingest.service import import_table
from cxlens.interactions.queries import get_timeline
from cxlens.storage.duckdb_store import DuckDBStore
from cxlens.surveys.links import complete, create_link, open_link
from cxlens.surveys.service import archive_survey, create_survey, template_document
from cxlens.surveys.widgets import (
    Visitor,
    WidgetSettings,
    check_origin,
    create_widget,
    frame_origins,
    list_widgets,
    open_widget,
    public_link_url,
    revoke_widget,
    start_public_link,
)

SHOP = "https://shop.example.com"
SETTINGS = WidgetSettings(
    public_url="https://cx.example.com",
    contact_days=30,
    link_days=30,
    brand_name=None,
    brand_logo_url=None,
    brand_color="#1d4ed8",
)


@pytest.fixture
def shop(store: DuckDBStore) -> DuckDBStore:
    """Ana (user u-1) is a customer; two surveys exist."""
    customers = pa.table({"user_id": ["u-1"], "email": ["ana@example.com"], "name": ["Ana"]})
    assert import_table(store, "customers", customers, options=ImportOptions()).imported == 1
    with store.unit_of_work() as uow:
        create_survey(uow, name="nps-web", document=template_document("nps"))
        create_survey(uow, name="csat-web", document=template_document("csat"))
    return store


def widget_for(store: DuckDBStore, survey: str = "nps-web", **options: object) -> str:
    with store.unit_of_work() as uow:
        return str(create_widget(uow, survey=survey, origins=[SHOP], **options).key)  # type: ignore[arg-type]


def show(
    store: DuckDBStore, key: str, visitor: Visitor, *, origin: str = SHOP, settings: WidgetSettings = SETTINGS
) -> dict[str, object]:
    with store.unit_of_work() as uow:
        return open_widget(uow, key=key, origin=origin, visitor=visitor, settings=settings)


def token_of(url: object) -> str:
    return str(url).split("/s/", 1)[1].split("?", 1)[0]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("HTTPS://Shop.Example.COM:443", "https://shop.example.com"),  # as a browser sends Origin
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("http://[::1]:3000", "http://[::1]:3000"),
    ],
)
def test_origins_are_written_as_browsers_send_them(given: str, expected: str) -> None:
    assert check_origin(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "https://shop.example.com/",
        "https://shop.example.com/checkout",
        "https://*.example.com",
        "*",
        "null",
        "shop.example.com",
        "ftp://shop.example.com",
        "javascript:alert(1)",
        "https://user@shop.example.com",
        "https://shop.example.com?x=1",
        "https://shop.example.com:0",
        "https://shop.example.com:70000",
        "https://shop.example.com; frame-ancestors *",
        "https://-bad-.example.com",
    ],
)
def test_anything_but_an_exact_http_origin_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match=r"origin|port"):
        check_origin(bad)


def test_a_widget_lists_every_bad_origin_at_once(shop: DuckDBStore) -> None:
    with shop.unit_of_work() as uow, pytest.raises(InvalidInput) as refused:
        create_widget(uow, survey="nps-web", origins=[SHOP, "https://*.x.com", "http://a.com/b"])
    assert [p["origin"] for p in refused.value.data["problems"]] == ["https://*.x.com", "http://a.com/b"]
    with shop.unit_of_work() as uow, pytest.raises(InvalidInput, match="at least one origin"):
        create_widget(uow, survey="nps-web", origins=[])
    with shop.unit_of_work() as uow:
        archive_survey(uow, "csat-web")
    with shop.unit_of_work() as uow, pytest.raises(Conflict, match="archived"):
        create_widget(uow, survey="csat-web", origins=[SHOP])
    with shop.session() as s:
        assert list_widgets(s) == []


def test_a_key_shows_its_own_survey_on_its_own_origins_only(shop: DuckDBStore) -> None:
    nps_key, csat_key = widget_for(shop, "nps-web"), widget_for(shop, "csat-web", touchpoint="checkout")
    assert nps_key.startswith("cxw_") and len(nps_key) >= 4 + 22  # 128 random bits
    nps = show(shop, nps_key, Visitor(anonymous_id="a-1"))
    csat = show(shop, csat_key, Visitor(anonymous_id="a-2", locale="de-DE"))
    assert nps["show"] is True and str(nps["url"]).startswith("https://cx.example.com/s/cxs_")
    assert "brand" not in nps  # no brand set: the panel is just "Survey"
    branded = replace(SETTINGS, brand_name="Acme")
    assert show(shop, csat_key, Visitor(anonymous_id="a-3"), settings=branded)["brand"] == "Acme"
    assert str(csat["url"]).endswith("?lang=de&embed=1")
    with shop.session() as s:
        opened = open_link(s, token_of(nps["url"]))
        assert (opened.survey_name, opened.channel, opened.customer_id) == ("nps-web", "web", None)
        assert opened.respondent == {"anonymous_id": "a-1"}
        assert frame_origins(s, opened.widget_key) == [SHOP]
        assert open_link(s, token_of(csat["url"])).touchpoint == "checkout"  # the widget's touchpoint
    for origin in ("https://evil.example", "http://shop.example.com", "null"):
        with pytest.raises(PermissionDenied, match="may not be shown"):
            show(shop, nps_key, Visitor(anonymous_id="a-3"), origin=origin)
    for key in ("cxw_unknownunknownunknown", "not-a-key", nps_key + "x"):
        with pytest.raises(NotFound, match="No widget"):
            show(shop, key, Visitor(anonymous_id="a-3"))
    with pytest.raises(InvalidInput, match="user_id or an anonymous_id"):
        show(shop, nps_key, Visitor())


def test_a_revoked_widget_or_an_archived_survey_shows_nothing(shop: DuckDBStore) -> None:
    key = widget_for(shop)
    first = show(shop, key, Visitor(anonymous_id="a-1"))
    with shop.unit_of_work() as uow:
        revoked = revoke_widget(uow, key)
    assert revoked.revoked_at is not None
    assert show(shop, key, Visitor(anonymous_id="a-2")) == {"show": False}
    with shop.session() as s:  # its links may no longer be framed by the shop
        assert frame_origins(s, open_link(s, token_of(first["url"])).widget_key) == []
    with shop.unit_of_work() as uow, pytest.raises(Conflict, match="revoked already"):
        revoke_widget(uow, key)
    other = widget_for(shop, "csat-web")
    with shop.unit_of_work() as uow:
        archive_survey(uow, "csat-web")
    assert show(shop, other, Visitor(anonymous_id="a-3")) == {"show": False}
    with shop.session() as s:
        rows = {w.key: w for w in list_widgets(s)}
        assert rows[key].shown == 1 and rows[key].origins == (SHOP,)


def test_a_visitor_sees_the_panel_at_most_once_per_contact_window(shop: DuckDBStore) -> None:
    key = widget_for(shop)
    assert show(shop, key, Visitor(anonymous_id="a-1"))["show"] is True
    assert show(shop, key, Visitor(anonymous_id="a-1")) == {"show": False}  # its own link counts
    assert show(shop, key, Visitor(anonymous_id="a-2"))["show"] is True  # another visitor
    assert show(shop, key, Visitor(user_id="u-new"))["show"] is True  # identified, no profile yet
    assert show(shop, key, Visitor(user_id="u-new")) == {"show": False}
    with shop.unit_of_work() as uow:  # the window has passed for a-1
        uow.execute("UPDATE survey_links SET created_at = created_at - INTERVAL 31 DAY")
    assert show(shop, key, Visitor(anonymous_id="a-1"))["show"] is True
    no_rule = replace(SETTINGS, contact_days=0, link_days=1)
    assert show(shop, key, Visitor(anonymous_id="a-1"), settings=no_rule)["show"] is True


def test_a_known_customer_contacted_by_email_is_not_asked_again_by_the_widget(shop: DuckDBStore) -> None:
    key = widget_for(shop)
    with shop.session() as s:
        ana = int(s.fetch_value("SELECT customer_key FROM identities WHERE value = 'u-1'"))
    with shop.unit_of_work() as uow:  # an invitation sent five days ago (the planner's own table)
        uow.execute(
            "INSERT INTO survey_invitations (invitation_key, survey_key, customer_key, channel, subject, status, "
            "send_after, attempts, created_at) VALUES (1, 1, ?, 'email', 'manual-1', 'sent', ?, 1, ?)",
            [ana, datetime.now(UTC) - timedelta(days=5), datetime.now(UTC) - timedelta(days=5)],
        )
    assert show(shop, key, Visitor(user_id="u-1")) == {"show": False}
    with shop.unit_of_work() as uow:
        uow.execute("UPDATE survey_invitations SET status = 'suppressed'")  # held back: not a contact
    assert show(shop, key, Visitor(user_id="u-1"))["show"] is True
    assert show(shop, key, Visitor(user_id="u-1")) == {"show": False}
    with shop.unit_of_work() as uow:  # a personal link counts too
        uow.execute("DELETE FROM survey_links")
        create_link(uow, survey="csat-web", customer="ana@example.com")
    assert show(shop, key, Visitor(user_id="u-1")) == {"show": False}


def test_answers_land_on_the_customer_or_a_new_anonymous_profile(shop: DuckDBStore) -> None:
    key = widget_for(shop)
    known = show(shop, key, Visitor(user_id="u-1", touchpoint="checkout"))
    stranger = show(shop, key, Visitor(anonymous_id="anon-42"))
    with shop.session() as s:
        link_known = open_link(s, token_of(known["url"]))
        link_stranger = open_link(s, token_of(stranger["url"]))
    assert link_known.customer_id is not None  # bound to Ana's profile when shown
    complete(shop, link_known, {"nps_score": 3, "detractor_comment": "Slow delivery"})
    complete(shop, link_stranger, {"nps_score": 10})
    with shop.session() as s:
        ana = int(s.fetch_value("SELECT customer_key FROM identities WHERE value = 'u-1'"))
        items = [i for i in get_timeline(s, ana).items if i.type == "response"]
        assert len(items) == 1
        rows = s.fetch_all(
            "SELECT x.kind, x.value, r.score, r.channel, r.touchpoint, r.survey FROM responses r "
            "JOIN customers c USING (customer_key) JOIN identities x ON x.customer_key = c.customer_key "
            "WHERE x.kind IN ('user_id', 'anonymous_id') ORDER BY r.score"
        )
        assert rows == [
            {"kind": "user_id", "value": "u-1", "score": 3.0, "channel": "web", "touchpoint": "checkout",
             "survey": "nps-web"},
            {"kind": "anonymous_id", "value": "anon-42", "score": 10.0, "channel": "web", "touchpoint": None,
             "survey": "nps-web"},
        ]  # fmt: skip
        assert s.fetch_value("SELECT count(*) FROM customers") == 2  # the stranger got a profile


def test_the_public_link_makes_an_anonymous_link_per_start(shop: DuckDBStore) -> None:
    with shop.session() as s:
        url = public_link_url(s, "nps-web", SETTINGS)
        survey_id = s.fetch_value("SELECT survey_id FROM surveys WHERE name = 'nps-web'")
    assert url == f"https://cx.example.com/p/{survey_id}"
    with shop.unit_of_work() as uow:
        tokens = [start_public_link(uow, survey_id=survey_id, settings=SETTINGS) for _ in range(2)]
    with shop.session() as s:
        links = [open_link(s, t) for t in tokens]
    assert {link.channel for link in links} == {"web"} and all(link.customer_id is None for link in links)
    ids = {link.respondent["anonymous_id"] for link in links}
    assert len(ids) == 2 and all(i.startswith("anon_") for i in ids)
    complete(shop, links[0], {"nps_score": 8})
    with shop.session() as s:
        assert s.fetch_value("SELECT count(*) FROM responses WHERE channel = 'web'") == 1
    with shop.unit_of_work() as uow, pytest.raises(NotFound):
        start_public_link(uow, survey_id="nps-web", settings=SETTINGS)  # names are guessable: ids only
    with shop.unit_of_work() as uow:
        archive_survey(uow, "nps-web")
    with shop.unit_of_work() as uow, pytest.raises(NotFound):
        start_public_link(uow, survey_id=survey_id, settings=SETTINGS)


def cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return run_cxlens(
        "surveys", *args, db=db, env={"CXLENS_PUBLIC_URL": "https://cx.example.com/"}, timeout=120
    )


def test_the_cli_creates_lists_and_revokes_widgets_and_prints_the_public_link(
    shop: DuckDBStore, db_path: Path
) -> None:
    shop.close()  # the CLI opens the workspace itself
    made = cli("widget", "create", "nps-web", "--origin", SHOP, "--origin", "http://localhost:8080", "-f", "json",
               db=db_path)  # fmt: skip
    assert made.returncode == 0, made.stderr
    widget = json.loads(made.stdout)
    assert widget["origins"] == [SHOP, "http://localhost:8080"]
    assert widget["script"] == (
        f'<script src="https://cx.example.com/static/widget.js" data-key="{widget["key"]}" async></script>'
    )
    table = cli("widget", "create", "nps-web", "--origin", SHOP, db=db_path)
    assert table.returncode == 0 and '<script src="https://cx.example.com/static/widget.js"' in table.stdout
    bad = cli("widget", "create", "nps-web", "--origin", "https://*.example.com", db=db_path)
    assert bad.returncode != 0 and "not an origin" in bad.stderr and "Traceback" not in bad.stderr
    assert cli("widget", "revoke", widget["key"], db=db_path).returncode == 0
    listed = json.loads(cli("widget", "list", "-f", "json", db=db_path).stdout)
    assert [w["revoked_at"] is not None for w in listed] == [True, False]
    link = json.loads(cli("public-link", "nps-web", "-f", "json", db=db_path).stdout)
    assert link["url"].startswith("https://cx.example.com/p/srv_")
    assert cli("public-link", "nps-web", db=db_path).stdout.strip() == link["url"]
