"""Reads of auth: who a presented session or token belongs to, and the lists for admins.

These run on every authenticated request, so they only read: DuckDB has one writer, and a
request that merely looks at a page must not queue behind imports.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cxlens.auth.model import TOKEN_PREFIX, Principal, Role
from cxlens.core.credentials import hash_secret
from cxlens.storage.store import Session


def session_principal(
    s: Session, session_token: str, now: datetime | None = None
) -> tuple[Principal, str] | None:
    """(principal, csrf_token) for a live session of an enabled user, else None."""
    row = s.fetch_one(
        "SELECT u.user_id, u.name, u.role, a.csrf_token FROM auth_sessions a "
        "JOIN users u ON u.user_key = a.user_key "
        "WHERE a.session_hash = ? AND a.expires_at > ? AND u.disabled_at IS NULL",
        [hash_secret(session_token), now or datetime.now(UTC)],
    )
    if row is None:
        return None
    principal = Principal(kind="user", id=row["user_id"], name=row["name"], role=Role(row["role"]))
    return principal, row["csrf_token"]


def token_principal(s: Session, token: str) -> Principal | None:
    """The principal of an unrevoked API token, else None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = s.fetch_one(
        "SELECT name, role FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
        [hash_secret(token)],
    )
    if row is None:
        return None
    return Principal(kind="token", id=row["name"], name=row["name"], role=Role(row["role"]))


def list_users(s: Session) -> list[dict[str, Any]]:
    """Every user with their last successful sign-in; never a password hash."""
    return s.fetch_all(
        "SELECT u.user_id, u.email, u.name, u.role, u.created_at, u.disabled_at, l.last_login_at "
        "FROM users u LEFT JOIN (SELECT email, max(attempted_at) AS last_login_at FROM login_attempts "
        "WHERE succeeded GROUP BY email) l ON l.email = u.email ORDER BY u.email"
    )


def list_tokens(s: Session) -> list[dict[str, Any]]:
    """Every token, revoked ones included, by its hint; never the token or its hash."""
    return s.fetch_all(
        "SELECT name, role, token_hint, created_at, revoked_at FROM api_tokens ORDER BY name, created_at"
    )


def count_users(s: Session) -> int:
    """All users, disabled ones included (0 means nobody was ever set up)."""
    return int(s.fetch_value("SELECT count(*) FROM users"))
