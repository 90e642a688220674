"""Use cases of auth: users (create, disable, enable, set a password), sign-in and sign-out with
throttling, and API tokens. Every function writes inside the unit of work it is given."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cxlens.auth.model import (
    MAX_EMAIL_LENGTH,
    Principal,
    Role,
    check_display_name,
    check_email,
    check_password,
    check_token_name,
    new_api_token,
    new_secret,
    new_user_id,
    normalize_email,
    token_hint,
)
from cxlens.auth.passwords import dummy_verify, hash_password, needs_rehash, verify_password
from cxlens.core.credentials import hash_secret
from cxlens.errors import Conflict, NotFound, Overloaded, Unauthenticated
from cxlens.storage.keys import insert_row
from cxlens.storage.store import UnitOfWork

WRONG_CREDENTIALS = "Wrong email or password."
CLIENT_FAILURE_FACTOR = 4  # one address may fail for a few people (an office behind one NAT)
# Refused attempts older than this are deleted; successful ones stay as the sign-in history.
ATTEMPT_RETENTION = timedelta(days=30)
_MAX_CLIENT_LENGTH = 100


@dataclass(frozen=True)
class AuthSettings:
    """Sign-in rules, from Settings (``bootstrap.auth_settings``)."""

    session_hours: float
    max_failures: int
    window_minutes: float

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.session_hours)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


# -- users ----------------------------------------------------------------------------------------


def create_user(uow: UnitOfWork, *, email: str, name: str, role: Role, password: str) -> dict[str, Any]:
    email, name, role = check_email(email), check_display_name(name), Role(role)
    check_password(password)
    if uow.fetch_one("SELECT 1 FROM users WHERE email = ?", [email]) is not None:
        raise Conflict(f"A user with email {email} already exists.")
    user_id = new_user_id()
    now = datetime.now(UTC)
    insert_row(
        uow,
        "users",
        "user_key",
        {"user_id": user_id, "email": email, "name": name, "role": role.value,
         "password_hash": hash_password(password), "created_at": now, "updated_at": now},
    )  # fmt: skip
    found = uow.fetch_one(
        "SELECT user_id, email, name, role, created_at FROM users WHERE user_id = ?", [user_id]
    )
    assert found is not None  # inserted just above, in this transaction
    return found


def disable_user(uow: UnitOfWork, ref: str) -> dict[str, Any]:
    """The user can no longer sign in, and every session they have ends now."""
    user = _find_user(uow, ref)
    if user["disabled_at"] is not None:
        raise Conflict(f"User {user['email']} was already disabled at {user['disabled_at']}.")
    if user["role"] == Role.admin and _enabled_admins(uow) == 1:
        # Nobody could manage users from the web any more; the CLI would be the only way back.
        raise Conflict(f"User {user['email']} is the last enabled admin: make another admin first.")
    uow.execute(
        "UPDATE users SET disabled_at = now(), updated_at = now() WHERE user_key = ?", [user["user_key"]]
    )
    _end_sessions(uow, user["user_key"])
    return _user_record(uow, user["user_key"])


def enable_user(uow: UnitOfWork, ref: str) -> dict[str, Any]:
    user = _find_user(uow, ref)
    if user["disabled_at"] is None:
        raise Conflict(f"User {user['email']} is not disabled.")
    uow.execute(
        "UPDATE users SET disabled_at = NULL, updated_at = now() WHERE user_key = ?", [user["user_key"]]
    )
    return _user_record(uow, user["user_key"])


def set_password(uow: UnitOfWork, ref: str, password: str) -> None:
    """A new password ends every session of the user: whoever knew the old one is signed out."""
    check_password(password)
    user = _find_user(uow, ref)
    uow.execute(
        "UPDATE users SET password_hash = ?, updated_at = now() WHERE user_key = ?",
        [hash_password(password), user["user_key"]],
    )
    _end_sessions(uow, user["user_key"])


def _find_user(uow: UnitOfWork, ref: str) -> dict[str, Any]:
    column = "user_id" if ref.startswith("usr_") else "email"
    value = ref.strip() if column == "user_id" else normalize_email(ref)
    found = uow.fetch_one(f"SELECT user_key, email, role, disabled_at FROM users WHERE {column} = ?", [value])
    if found is None:
        raise NotFound(f"No user matches {ref!r}; `cxlens users list` shows them.")
    return found


def _user_record(uow: UnitOfWork, user_key: int) -> dict[str, Any]:
    found = uow.fetch_one(
        "SELECT user_id, email, name, role, disabled_at, created_at, updated_at FROM users "
        "WHERE user_key = ?",
        [user_key],
    )
    assert found is not None  # the caller found this user in this transaction
    return found


def _enabled_admins(uow: UnitOfWork) -> int:
    count = uow.fetch_value(
        "SELECT count(*) FROM users WHERE role = ? AND disabled_at IS NULL", [Role.admin.value]
    )
    return int(count)


def _end_sessions(uow: UnitOfWork, user_key: int) -> None:
    uow.execute("DELETE FROM auth_sessions WHERE user_key = ?", [user_key])


# -- signing in and out ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    session_token: str  # for the cookie; only its SHA-256 is stored
    csrf_token: str
    principal: Principal
    expires_at: datetime


def login(
    uow: UnitOfWork,
    *,
    email: str,
    password: str,
    client: str,
    settings: AuthSettings,
    now: datetime | None = None,
) -> LoginResult:
    """A new session for the right email and password of an enabled user.

    Refused attempts raise Overloaded (``login_throttled``: too many recent failures for this email
    or this client, checked before the password) or Unauthenticated (one message for an unknown
    email, a wrong password and a disabled user, so none of them can be told apart). Every attempt
    is recorded; a refused one is committed before the error is raised, because the caller's unit
    of work rolls back on the error and a throttle that forgot failures would never throttle.
    """
    now = now or datetime.now(UTC)
    email, client = normalize_email(email)[:MAX_EMAIL_LENGTH], client[:_MAX_CLIENT_LENGTH]
    try:
        _refuse_if_throttled(uow, email=email, client=client, settings=settings, now=now)
        user = _check_credentials(uow, email, password)
    except (Overloaded, Unauthenticated) as refused:
        # A throttled attempt is not a failure: it must not extend the wait it is told about.
        outcome = None if isinstance(refused, Overloaded) else False
        _record_attempt(uow, email=email, client=client, now=now, succeeded=outcome)
        _commit_so_far(uow)
        raise
    _record_attempt(uow, email=email, client=client, now=now, succeeded=True)
    return _open_session(uow, user, settings=settings, now=now)


def logout(uow: UnitOfWork, session_token: str) -> None:
    uow.execute("DELETE FROM auth_sessions WHERE session_hash = ?", [hash_secret(session_token)])


def _check_credentials(uow: UnitOfWork, email: str, password: str) -> dict[str, Any]:
    user = uow.fetch_one(
        "SELECT user_key, user_id, name, role, password_hash, disabled_at FROM users WHERE email = ?",
        [email],
    )
    if user is None:
        dummy_verify()  # as slow as a real check, so timing does not reveal who has an account
        raise Unauthenticated(WRONG_CREDENTIALS)
    # The password is verified even for a disabled user, for the same reason.
    if not verify_password(user["password_hash"], password) or user["disabled_at"] is not None:
        raise Unauthenticated(WRONG_CREDENTIALS)
    if needs_rehash(user["password_hash"]):
        # The only moment the clear password is at hand to upgrade a hash made with older parameters.
        uow.execute(
            "UPDATE users SET password_hash = ? WHERE user_key = ?",
            [hash_password(password), user["user_key"]],
        )
    return user


def _refuse_if_throttled(
    uow: UnitOfWork, *, email: str, client: str, settings: AuthSettings, now: datetime
) -> None:
    since = now - settings.window
    by_email = _seconds_until_below(
        _email_failures(uow, email, since), settings.max_failures, settings.window, now
    )
    by_client = _seconds_until_below(
        _client_failures(uow, client, since),
        settings.max_failures * CLIENT_FAILURE_FACTOR,
        settings.window,
        now,
    )
    wait = max(by_email, by_client)
    if wait > 0:
        refused = Overloaded(
            f"Too many failed sign-ins. Try again in {math.ceil(wait / 60)} minute(s).",
            retry_after=wait,
            data={"retry_after": wait},
        )
        refused.code = "login_throttled"
        raise refused


def _email_failures(uow: UnitOfWork, email: str, since: datetime) -> list[datetime]:
    """Failures for this email in the window and after its last successful sign-in: the right
    password proves the owner is there, so their earlier typos stop counting."""
    rows = uow.fetch_all(
        "SELECT attempted_at FROM login_attempts WHERE email = ? AND succeeded = false "
        "AND attempted_at > greatest(?, (SELECT coalesce(max(attempted_at), ?) FROM login_attempts "
        "WHERE email = ? AND succeeded)) ORDER BY attempted_at",
        [email, since, since, email],
    )
    return [r["attempted_at"] for r in rows]


def _client_failures(uow: UnitOfWork, client: str, since: datetime) -> list[datetime]:
    """Failures from this client in the window, whatever the email: one success of an attacker's
    own account must not reset the count of their guesses at others."""
    rows = uow.fetch_all(
        "SELECT attempted_at FROM login_attempts WHERE client = ? AND succeeded = false "
        "AND attempted_at > ? ORDER BY attempted_at",
        [client, since],
    )
    return [r["attempted_at"] for r in rows]


def _seconds_until_below(failures: list[datetime], limit: int, window: timedelta, now: datetime) -> int:
    """0 while under the limit; else the whole seconds until enough of the oldest failures have
    left the window for the count to drop below the limit."""
    if len(failures) < limit:
        return 0
    leaves_at = failures[len(failures) - limit] + window
    return max(1, math.ceil((leaves_at - now).total_seconds()))


def _record_attempt(
    uow: UnitOfWork, *, email: str, client: str, now: datetime, succeeded: bool | None
) -> None:
    uow.execute(
        "INSERT INTO login_attempts (email, client, attempted_at, succeeded) VALUES (?, ?, ?, ?)",
        [email, client, now, succeeded],
    )
    # Bounds what a long password-spraying run can make the table grow to.
    uow.execute(
        "DELETE FROM login_attempts WHERE attempted_at < ? AND succeeded IS NOT true",
        [now - ATTEMPT_RETENTION],
    )


def _commit_so_far(uow: UnitOfWork) -> None:
    """Make what was written durable and go on in a fresh transaction, which the caller's unit of
    work then commits or rolls back as usual."""
    uow.execute("COMMIT")
    uow.execute("BEGIN TRANSACTION")


def _open_session(
    uow: UnitOfWork, user: dict[str, Any], *, settings: AuthSettings, now: datetime
) -> LoginResult:
    """Always a new session (never one the browser already had: no session fixation)."""
    token, csrf = new_secret(), new_secret()
    expires_at = now + settings.session_lifetime
    uow.execute("DELETE FROM auth_sessions WHERE expires_at <= ?", [now])
    uow.execute(
        "INSERT INTO auth_sessions (session_hash, user_key, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        [hash_secret(token), user["user_key"], csrf, now, expires_at],
    )
    principal = Principal(kind="user", id=user["user_id"], name=user["name"], role=Role(user["role"]))
    return LoginResult(session_token=token, csrf_token=csrf, principal=principal, expires_at=expires_at)


# -- API tokens -----------------------------------------------------------------------------------


def create_token(uow: UnitOfWork, *, name: str, role: Role) -> dict[str, Any]:
    """A new token, returned once in clear; only its SHA-256 and a short hint are kept."""
    check_token_name(name)
    role = Role(role)
    if uow.fetch_one("SELECT 1 FROM api_tokens WHERE name = ? AND revoked_at IS NULL", [name]):
        raise Conflict(
            f"An active token is already named {name!r}. Revoke it first "
            f"(`cxlens tokens revoke {name}`) or choose another name."
        )
    token = new_api_token()
    insert_row(
        uow,
        "api_tokens",
        "token_key",
        {"name": name, "role": role.value, "token_hash": hash_secret(token), "token_hint": token_hint(token),
         "created_at": datetime.now(UTC)},
    )  # fmt: skip
    return {"name": name, "role": role, "token": token, "hint": token_hint(token)}


def revoke_token(uow: UnitOfWork, name: str) -> None:
    found = uow.fetch_one("SELECT token_key FROM api_tokens WHERE name = ? AND revoked_at IS NULL", [name])
    if found is None:
        raise NotFound(f"No active token named {name!r}; `cxlens tokens list` shows them.")
    uow.execute("UPDATE api_tokens SET revoked_at = now() WHERE token_key = ?", [found["token_key"]])
