"""The two anonymous ways to a survey: the web widget and the public link.

A **widget** shows one survey in a small panel on the brand's own pages. Its publishable key
(``cxw_…``) is public by design — it sits in the page's ``<script>`` tag — so it grants nothing but
"show this one survey": the key maps to exactly one survey, only the widget's allowed origins may
ask for it (the browser's ``Origin`` header; a script outside a browser can claim any origin, so the
check keeps other sites from showing the survey, it does not authenticate the visitor), and only
those origins may frame the answer page. The visitor is who the host page says it is (a user id, or
an anonymous id the script keeps): as trustworthy as the brand's tracking, no more.

Before showing, the contact-frequency rule is asked for the visitor (``invitations.recently_contacted``
for a known customer, plus any anonymous link made for the same identity): a visitor sees the panel
at most once per ``contact_days``. Showing makes a link (``links.insert_link``) whose answer is
recorded under the visitor's identity.

The **public link** ``/p/srv_…`` shows a survey to anyone: each start makes an anonymous link.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from cxlens.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cxlens.storage.keys import insert_row
from cxlens.storage.store import Session, UnitOfWork
from cxlens.surveys.invitations import recently_contacted
from cxlens.surveys.links import insert_link, sendable_survey
from cxlens.surveys.records import Widget

KEY_PREFIX = "cxw_"
MAX_ORIGINS = 50
MAX_ID_LENGTH = 200
_KEY = re.compile(r"cxw_[A-Za-z0-9_-]{16,64}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ORIGIN = re.compile(rf"(https?)://({_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])(?::(\d{{1,5}}))?")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_NO_WIDGET = "No widget has this key; copy the script tag again from `cxlens surveys widget list`."
_NO_SURVEY = "This survey does not exist or is closed."


@dataclass(frozen=True)
class WidgetSettings:
    """What the pages customers see need from Settings: the widget, the public link, and the brand
    they show (CXLENS_BRAND_*, validated in config.py)."""

    public_url: str
    contact_days: float
    link_days: float
    brand_name: str | None
    brand_logo_url: str | None
    brand_color: str


@dataclass(frozen=True)
class Visitor:
    """Who the host page says is looking: a user id, else the script's anonymous id."""

    user_id: str | None = None
    anonymous_id: str | None = None
    touchpoint: str | None = None
    locale: str | None = None

    def identity(self) -> dict[str, str]:
        if self.user_id:
            return {"user_id": self.user_id}
        if self.anonymous_id:
            return {"anonymous_id": self.anonymous_id}
        raise InvalidInput("Send a user_id or an anonymous_id for the visitor.")


def check_origin(text: str) -> str:
    """``scheme://host[:port]`` exactly as a browser sends it in ``Origin`` (lower case, no default
    port); http(s) only, no path, no wildcard. InvalidInput says what is wrong."""
    origin = text.strip().lower()
    found = _ORIGIN.fullmatch(origin)
    if found is None:
        raise InvalidInput(
            f"{text!r} is not an origin: write scheme://host[:port] with http or https, no path, no "
            "wildcard, e.g. https://shop.example.com or http://localhost:8080."
        )
    scheme, host, port = found.groups()
    if port is not None and not 1 <= int(port) <= 65535:
        raise InvalidInput(f"{text!r}: the port must be between 1 and 65535.")
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{int(port)}"


def check_origins(texts: Sequence[str]) -> list[str]:
    """Every origin checked (all problems reported at once), duplicates dropped, order kept."""
    if not texts:
        raise InvalidInput("Name at least one origin allowed to show the widget (--origin https://…).")
    if len(texts) > MAX_ORIGINS:
        raise InvalidInput(f"A widget allows at most {MAX_ORIGINS} origins.")
    checked, problems = [], []
    for text in texts:
        try:
            checked.append(check_origin(text))
        except InvalidInput as problem:
            problems.append({"origin": text, "message": problem.message})
    if problems:
        raise InvalidInput(" ".join(p["message"] for p in problems), data={"problems": problems})
    return list(dict.fromkeys(checked))


def create_widget(
    uow: UnitOfWork, *, survey: str, origins: Sequence[str], touchpoint: str | None = None
) -> Widget:
    """A new widget for a sendable survey, shown on ``origins`` only."""
    allowed = check_origins(origins)
    record = sendable_survey(uow, survey)
    key = KEY_PREFIX + secrets.token_urlsafe(16)
    insert_row(
        uow,
        "survey_widgets",
        "widget_key",
        {"widget_id": key, "survey_key": record.survey_key, "allowed_origins": json.dumps(allowed),
         "touchpoint": _clean(touchpoint, "touchpoint"), "created_at": datetime.now(UTC)},
    )  # fmt: skip
    return access_widget(uow, key)


_WIDGET_SELECT = (
    "SELECT w.widget_key, w.widget_id AS key, v.name AS survey, v.survey_key, w.allowed_origins AS origins, "
    "w.touchpoint, w.created_at, w.revoked_at, v.archived_at AS survey_archived_at, "
    "(SELECT count(*) FROM survey_links l WHERE l.widget_key = w.widget_key) AS shown, "
    "(SELECT count(*) FROM survey_links l WHERE l.widget_key = w.widget_key AND l.answered_at IS NOT NULL) "
    "AS answered FROM survey_widgets w JOIN surveys v USING (survey_key)"
)


def _parsed(row: dict[str, Any]) -> Widget:
    return Widget(**{**row, "origins": tuple(json.loads(row["origins"]))})


def access_widget(s: Session, key: str) -> Widget:
    """A widget by its publishable key (revoked ones too); NotFound when unknown."""
    row = s.fetch_one(f"{_WIDGET_SELECT} WHERE w.widget_id = ?", [key]) if _KEY.fullmatch(key) else None
    if row is None:
        raise NotFound(_NO_WIDGET)
    return _parsed(row)


def list_widgets(s: Session, *, survey_key: int | None = None, active: bool = False) -> list[Widget]:
    """Every widget (of one survey; only those not revoked when ``active``) with its survey, origins,
    state and how often it was shown and answered."""
    rows = s.fetch_all(
        f"{_WIDGET_SELECT} WHERE (CAST(? AS BIGINT) IS NULL OR w.survey_key = ?) "
        "AND (NOT ? OR w.revoked_at IS NULL) ORDER BY w.widget_key",
        [survey_key, survey_key, active],
    )
    return [_parsed(row) for row in rows]


def revoke_widget(uow: UnitOfWork, key: str) -> Widget:
    """Stop showing a widget (pages that still carry its tag show nothing)."""
    widget = access_widget(uow, key)
    if widget.revoked_at is not None:
        raise Conflict(f"Widget {key} is revoked already.")
    uow.execute("UPDATE survey_widgets SET revoked_at = now() WHERE widget_key = ?", [widget.widget_key])
    return access_widget(uow, key)


def widget_for_origin(s: Session, key: str, origin: str | None) -> Widget:
    """The widget, if ``origin`` (the request's Origin header) is one it allows; PermissionDenied otherwise."""
    widget = access_widget(s, key)
    if origin is None or origin.lower() not in widget.origins:
        raise PermissionDenied(
            f"This widget may not be shown on {(origin or 'a page without an Origin')[:100]}: add the origin with "
            "`cxlens surveys widget create … --origin` or use the widget made for this site."
        )
    return widget


def frame_origins(s: Session, widget_key: int | None) -> list[str]:
    """Who may frame a link's answer page: its widget's origins while the widget is live; nobody else."""
    if widget_key is None:
        return []
    value = s.fetch_value(
        "SELECT allowed_origins FROM survey_widgets WHERE widget_key = ? AND revoked_at IS NULL", [widget_key]
    )
    return [check_origin(o) for o in json.loads(value)] if value else []  # re-checked: they enter a header


def open_widget(
    uow: UnitOfWork,
    *,
    key: str,
    origin: str | None,
    visitor: Visitor,
    settings: WidgetSettings,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``{"show": false}`` for a revoked widget, an archived survey or a visitor contacted recently;
    else a new link for the visitor and ``{"show": true, "url": …}`` (the answer page, embedded)."""
    widget = widget_for_origin(uow, key, origin)
    identity = visitor.identity()
    if widget.revoked_at is not None or widget.survey_archived_at is not None:
        return {"show": False}
    customer_key = known_customer(uow, identity)
    at = now or datetime.now(UTC)
    if visitor_contacted(uow, identity, customer_key, at=at, contact_days=settings.contact_days):
        return {"show": False}
    token, _ = insert_link(
        uow,
        survey_key=widget.survey_key,
        customer_key=customer_key,
        channel="web",
        touchpoint=_clean(visitor.touchpoint, "touchpoint") or widget.touchpoint,
        days=settings.link_days,
        respondent=identity,
        widget_key=widget.widget_key,
    )
    shown: dict[str, Any] = {
        "show": True,
        "url": answer_url(settings, token, embed=True, locale=visitor.locale),
    }
    if settings.brand_name:  # the panel is labelled with it on the host page
        shown["brand"] = settings.brand_name
    return shown


def known_customer(s: Session, identity: dict[str, str]) -> int | None:
    """The canonical profile holding this user id or anonymous id, if one does."""
    [(kind, value)] = identity.items()
    key = s.fetch_value(
        "SELECT c.canonical_key FROM identities x JOIN customers c USING (customer_key) "
        "WHERE x.kind = ? AND x.value = ?",
        [kind, value],
    )
    return int(key) if key is not None else None


def visitor_contacted(
    s: Session, identity: dict[str, str], customer_key: int | None, *, at: datetime, contact_days: float
) -> bool:
    """The contact-frequency rule for a visitor: the customer's rule when known, and any link made
    for the same identity before it had a profile (an anonymous link counts as a contact too)."""
    if contact_days <= 0:
        return False
    if customer_key is not None and recently_contacted(
        s, customer_key=customer_key, at=at, contact_days=contact_days
    ):
        return True
    [(kind, value)] = identity.items()
    since = at - timedelta(days=contact_days)
    return bool(
        s.fetch_value(
            "SELECT count(*) FROM survey_links WHERE customer_key IS NULL AND created_at > ? "
            "AND respondent ->> ? = ?",
            [since, kind, value],
        )
    )


def answer_url(
    settings: WidgetSettings, token: str, *, embed: bool = False, locale: str | None = None
) -> str:
    query = [f"lang={locale[:2].lower()}"] if locale and locale[:2].isalpha() else []
    query += ["embed=1"] if embed else []
    return f"{settings.public_url}/s/{token}" + ("?" + "&".join(query) if query else "")


def script_tag(public_url: str, key: str) -> str:
    """The tag to paste into the site's pages (data-user-id for signed-in visitors is optional)."""
    return f'<script src="{escape(public_url)}/static/widget.js" data-key="{escape(key)}" async></script>'


def public_survey(s: Session, survey_id: str) -> dict[str, Any]:
    """The survey behind a public link: by its ``srv_`` id only (names are guessable), not archived."""
    row = s.fetch_one(
        "SELECT survey_key, survey_id, name, title FROM surveys WHERE survey_id = ? AND archived_at IS NULL",
        [survey_id],
    )
    if row is None:
        raise NotFound(_NO_SURVEY)
    return row


def public_link_url(s: Session, survey: str, settings: WidgetSettings) -> str:
    """The public address of a sendable survey (by name or id)."""
    return f"{settings.public_url}/p/{sendable_survey(s, survey).survey_id}"


def start_public_link(uow: UnitOfWork, *, survey_id: str, settings: WidgetSettings) -> str:
    """A fresh anonymous link for someone who opened the public link and pressed Start; its token."""
    survey = public_survey(uow, survey_id)
    token, _ = insert_link(
        uow,
        survey_key=survey["survey_key"],
        customer_key=None,
        channel="web",  # answered on the web, like the widget (responses take the ingest channels)
        days=settings.link_days,
        respondent={"anonymous_id": "anon_" + secrets.token_urlsafe(12)},
    )
    return token


def visitor_from(payload: dict[str, Any]) -> Visitor:
    """The visitor a widget's request describes (strings, bounded lengths)."""
    return Visitor(
        user_id=_clean(payload.get("user_id"), "user_id"),
        anonymous_id=_clean(payload.get("anonymous_id"), "anonymous_id"),
        touchpoint=_clean(payload.get("touchpoint"), "touchpoint"),
        locale=_clean(payload.get("locale"), "locale"),
    )


def _clean(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise InvalidInput(f"{field} must be printable text of at most {MAX_ID_LENGTH} characters.")
    return value.strip() or None
