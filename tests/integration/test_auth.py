"""Users, sign-in, throttling, sessions and API tokens on a real workspace with real argon2, and
the ``cxlens users`` / ``cxlens tokens`` commands run as real processes."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from tests.live_server import run_cxlens

from cxlens.auth.model import Principal, Role
from cxlens.auth.passwords import needs_rehash, verify_password
from cxlens.auth.queries import count_users, list_tokens, list_users, session_principal, token_principal
from cxlens.auth.service import (
    LoginResult,
    create_token,
    create_user,
    disable_user,
    enable_user,
    login,
    logout,
    revoke_token,
    set_password,
)
from cxlens.bootstrap import auth_settings, open_store
from cxlens.config import Settings
from cxlens.core.credentials import hash_secret
from cxlens.errors import Conflict, InvalidInput, NotFound, Overloaded, Unauthenticated
from cxlens.storage.duckdb_store import DuckDBStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
SETTINGS = auth_settings(Settings())


def add_user(
    store: DuckDBStore, email: str = "ana@example.com", *, role: Role = Role.analyst, password: str = PASSWORD
) -> dict[str, Any]:
    with store.unit_of_work() as uow:
        return create_user(uow, email=email, name="Ana Lima", role=role, password=password)


def sign_in(
    store: DuckDBStore,
    email: str = "ana@example.com",
    password: str = PASSWORD,
    *,
    client: str = "10.0.0.1",
    now: datetime = T0,
) -> LoginResult:
    with store.unit_of_work() as uow:
        return login(uow, email=email, password=password, client=client, settings=SETTINGS, now=now)


def refusal(store: DuckDBStore, *args: Any, **kwargs: Any) -> Unauthenticated | Overloaded:
    with pytest.raises((Unauthenticated, Overloaded)) as refused:
        sign_in(store, *args, **kwargs)
    return refused.value


def who(store: DuckDBStore, session_token: str, now: datetime = T0) -> tuple[Principal, str] | None:
    with store.session() as s:
        return session_principal(s, session_token, now)


def rows(store: DuckDBStore, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with store.session() as s:
        return s.fetch_all(sql, params)


# -- users ----------------------------------------------------------------------------------------


def test_create_user_stores_an_argon2id_hash_and_refuses_a_second_account_per_email(
    store: DuckDBStore,
) -> None:
    user = add_user(store, " Ana@Example.com ")
    assert set(user) == {"user_id", "email", "name", "role", "created_at"}
    assert user["user_id"].startswith("usr_") and len(user["user_id"]) == 28
    assert (user["email"], user["name"], user["role"]) == ("ana@example.com", "Ana Lima", "analyst")
    (stored,) = rows(store, "SELECT password_hash FROM users")
    assert stored["password_hash"].startswith("$argon2id$")
    assert verify_password(stored["password_hash"], PASSWORD)
    with pytest.raises(Conflict):
        add_user(store, "ANA@example.com")
    with pytest.raises(InvalidInput):
        add_user(store, "bob@example.com", password="short")
    with store.session() as s:
        assert count_users(s) == 1


def test_users_are_found_by_email_or_public_id(store: DuckDBStore) -> None:
    user = add_user(store)
    add_user(store, "admin@example.com", role=Role.admin)
    with store.unit_of_work() as uow:
        assert disable_user(uow, user["user_id"])["email"] == "ana@example.com"
        assert enable_user(uow, "ANA@example.com")["disabled_at"] is None
    with pytest.raises(NotFound), store.unit_of_work() as uow:
        disable_user(uow, "nobody@example.com")
    with pytest.raises(NotFound), store.unit_of_work() as uow:
        disable_user(uow, "usr_000000000000000000000000")


def test_the_last_enabled_admin_cannot_be_disabled(store: DuckDBStore) -> None:
    add_user(store, "root@example.com", role=Role.admin)
    with pytest.raises(Conflict, match="last enabled admin"), store.unit_of_work() as uow:
        disable_user(uow, "root@example.com")
    add_user(store, "second@example.com", role=Role.admin)
    with store.unit_of_work() as uow:
        assert disable_user(uow, "root@example.com")["disabled_at"] is not None
    with pytest.raises(Conflict, match="already disabled"), store.unit_of_work() as uow:
        disable_user(uow, "root@example.com")


def test_list_users_shows_the_last_sign_in_and_never_a_hash(store: DuckDBStore) -> None:
    add_user(store)
    sign_in(store, now=T0)
    with store.session() as s:
        (listed,) = list_users(s)
    assert "password_hash" not in listed
    assert not any(str(v).startswith("$argon2") for v in listed.values())
    assert listed["last_login_at"] == T0 and listed["disabled_at"] is None


# -- signing in -----------------------------------------------------------------------------------


def test_sign_in_opens_a_session_with_its_csrf_token(store: DuckDBStore) -> None:
    user = add_user(store)
    result = sign_in(store, "  ANA@example.com", now=T0)
    assert result.principal == Principal(kind="user", id=user["user_id"], name="Ana Lima", role=Role.analyst)
    assert result.expires_at == T0 + timedelta(hours=12)
    assert len(result.session_token) >= 43 and len(result.csrf_token) >= 43
    assert result.session_token != result.csrf_token
    assert who(store, result.session_token) == (result.principal, result.csrf_token)
    again = sign_in(store, now=T0)
    assert again.session_token != result.session_token  # a new session every time
    assert who(store, "not-a-session") is None


def test_unknown_email_wrong_password_and_disabled_user_get_the_same_answer(store: DuckDBStore) -> None:
    add_user(store)
    add_user(store, "gone@example.com")
    add_user(store, "admin@example.com", role=Role.admin)
    with store.unit_of_work() as uow:
        disable_user(uow, "gone@example.com")
    refusals = [
        refusal(store, "nobody@example.com", PASSWORD),
        refusal(store, "ana@example.com", "wrong horse battery"),
        refusal(store, "gone@example.com", PASSWORD),  # the right password of a disabled user
    ]
    assert all(isinstance(r, Unauthenticated) for r in refusals)
    assert {(r.code, r.message, r.http_status) for r in refusals} == {
        ("unauthenticated", "Wrong email or password.", 401)
    }
    # Each refusal was recorded although the caller's unit of work rolled back on the error.
    recorded = rows(store, "SELECT email, succeeded FROM login_attempts ORDER BY email")
    assert recorded == [
        {"email": "ana@example.com", "succeeded": False},
        {"email": "gone@example.com", "succeeded": False},
        {"email": "nobody@example.com", "succeeded": False},
    ]


@pytest.mark.parametrize("email", ["ana@example.com", "nobody@example.com"])
def test_five_failures_throttle_the_email_until_the_oldest_leaves_the_window(
    store: DuckDBStore, email: str
) -> None:
    add_user(store)
    for minute in range(5):
        assert isinstance(
            refusal(store, email, "wrong password!", now=T0 + timedelta(minutes=minute)), Unauthenticated
        )
    # Refused before the password is checked: even the right one does not get through.
    throttled = refusal(store, email, PASSWORD, now=T0 + timedelta(minutes=5))
    assert isinstance(throttled, Overloaded)
    assert throttled.code == "login_throttled" and throttled.http_status == 429
    assert throttled.retry_after == 600  # the failure at T0 leaves the 15-minute window at T0+15
    assert throttled.data == {"retry_after": 600}
    # Retrying while throttled does not extend the wait.
    last_second = refusal(store, email, PASSWORD, now=T0 + timedelta(minutes=15) - timedelta(seconds=1))
    assert isinstance(last_second, Overloaded) and last_second.retry_after == 1
    throttled_rows = rows(store, "SELECT count(*) AS n FROM login_attempts WHERE succeeded IS NULL")
    assert throttled_rows == [{"n": 2}]
    if email == "ana@example.com":
        assert sign_in(store, email, now=T0 + timedelta(minutes=15)).principal.role is Role.analyst
    else:
        assert isinstance(refusal(store, email, PASSWORD, now=T0 + timedelta(minutes=15)), Unauthenticated)


def test_other_emails_and_an_owner_who_signed_in_are_not_throttled(store: DuckDBStore) -> None:
    add_user(store)
    add_user(store, "bob@example.com")
    for minute in range(4):
        refusal(store, "ana@example.com", "wrong password!", now=T0 + timedelta(minutes=minute))
    sign_in(store, now=T0 + timedelta(minutes=4))  # the owner proves they are there
    for minute in range(5, 9):
        refusal(store, "ana@example.com", "wrong password!", now=T0 + timedelta(minutes=minute))
    # 8 failures in the window, but only 4 since the last success.
    sign_in(store, now=T0 + timedelta(minutes=9))
    for minute in range(10, 15):
        refusal(store, "ana@example.com", "wrong password!", now=T0 + timedelta(minutes=minute))
    assert isinstance(refusal(store, now=T0 + timedelta(minutes=15)), Overloaded)
    assert sign_in(store, "bob@example.com", now=T0 + timedelta(minutes=15)).principal.name == "Ana Lima"


def test_a_client_spraying_many_emails_is_throttled_on_its_own(store: DuckDBStore) -> None:
    add_user(store)
    for i in range(20):  # four times the per-email limit, each email failing once
        refusal(store, f"guess{i}@example.com", "wrong password!", client="203.0.113.9", now=T0)
    sprayer = refusal(store, client="203.0.113.9", now=T0 + timedelta(minutes=1))
    assert isinstance(sprayer, Overloaded) and sprayer.retry_after == 14 * 60
    assert sign_in(store, client="198.51.100.7", now=T0 + timedelta(minutes=1))


def test_a_session_expires_after_the_configured_hours(store: DuckDBStore) -> None:
    add_user(store)
    result = sign_in(store, now=T0)
    assert who(store, result.session_token, T0 + timedelta(hours=12) - timedelta(seconds=1)) is not None
    assert who(store, result.session_token, T0 + timedelta(hours=12)) is None
    with store.unit_of_work() as uow:
        short = login(
            uow,
            email="ana@example.com",
            password=PASSWORD,
            client="10.0.0.1",
            settings=replace(SETTINGS, session_hours=0.5),
            now=T0,
        )
    assert who(store, short.session_token, T0 + timedelta(minutes=31)) is None
    # Expired sessions are cleared at the next sign-in.
    sign_in(store, now=T0 + timedelta(days=1))
    assert rows(store, "SELECT count(*) AS n FROM auth_sessions") == [{"n": 1}]


def test_logout_ends_only_that_session(store: DuckDBStore) -> None:
    add_user(store)
    laptop, phone = sign_in(store), sign_in(store)
    with store.unit_of_work() as uow:
        logout(uow, laptop.session_token)
        logout(uow, "never-issued")  # harmless
    assert who(store, laptop.session_token) is None
    assert who(store, phone.session_token) is not None


def test_disabling_a_user_ends_their_sessions_and_enabling_does_not_revive_them(store: DuckDBStore) -> None:
    add_user(store)
    add_user(store, "admin@example.com", role=Role.admin)
    old = sign_in(store)
    with store.unit_of_work() as uow:
        disabled = disable_user(uow, "ana@example.com")
    assert disabled["disabled_at"] is not None and "password_hash" not in disabled
    assert who(store, old.session_token) is None
    with store.unit_of_work() as uow:
        enable_user(uow, "ana@example.com")
    assert who(store, old.session_token) is None
    assert who(store, sign_in(store).session_token) is not None


def test_a_session_of_a_disabled_user_is_refused_even_if_its_row_survived(store: DuckDBStore) -> None:
    add_user(store)
    result = sign_in(store)
    with store.session() as s:  # disabled behind the service's back: the lookup must still refuse
        s.execute("UPDATE users SET disabled_at = now()")
    assert rows(store, "SELECT count(*) AS n FROM auth_sessions") == [{"n": 1}]
    assert who(store, result.session_token) is None


def test_a_new_password_ends_sessions_and_replaces_the_old_one(store: DuckDBStore) -> None:
    add_user(store)
    before = sign_in(store)
    with store.unit_of_work() as uow:
        set_password(uow, "ana@example.com", "a brand new passphrase")
    assert who(store, before.session_token) is None
    assert isinstance(refusal(store, password=PASSWORD), Unauthenticated)
    assert sign_in(store, password="a brand new passphrase").principal.kind == "user"
    with pytest.raises(InvalidInput), store.unit_of_work() as uow:
        set_password(uow, "ana@example.com", "short")


def test_a_hash_with_older_parameters_is_upgraded_at_sign_in(store: DuckDBStore) -> None:
    add_user(store)
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with store.session() as s:
        s.execute("UPDATE users SET password_hash = ?", [weak])
    sign_in(store)
    (stored,) = rows(store, "SELECT password_hash FROM users")
    assert stored["password_hash"] != weak and not needs_rehash(stored["password_hash"])
    assert verify_password(stored["password_hash"], PASSWORD)


# -- API tokens -----------------------------------------------------------------------------------


def test_tokens_are_shown_once_act_with_their_role_and_stop_when_revoked(store: DuckDBStore) -> None:
    with store.unit_of_work() as uow:
        created = create_token(uow, name="ci-export", role=Role.viewer)
    token = created["token"]
    assert token.startswith("cxt_") and created["hint"] == token[:10] + "…"
    assert (created["name"], created["role"]) == ("ci-export", "viewer")
    with store.session() as s:
        assert token_principal(s, token) == Principal(
            kind="token", id="ci-export", name="ci-export", role=Role.viewer
        )
        assert token_principal(s, token + "x") is None
        assert token_principal(s, token.removeprefix("cxt_")) is None
        (listed,) = list_tokens(s)
    assert set(listed) == {"name", "role", "token_hint", "created_at", "revoked_at"}
    assert token not in json.dumps(listed, default=str)
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        create_token(uow, name="ci-export", role=Role.admin)
    with store.unit_of_work() as uow:
        revoke_token(uow, "ci-export")
    with store.session() as s:
        assert token_principal(s, token) is None
    with pytest.raises(NotFound), store.unit_of_work() as uow:
        revoke_token(uow, "ci-export")
    with store.unit_of_work() as uow:  # the name is free again, with a new token
        renewed = create_token(uow, name="ci-export", role=Role.analyst)
    with store.session() as s:
        assert renewed["token"] != token
        assert token_principal(s, renewed["token"]) == Principal(
            "token", "ci-export", "ci-export", Role.analyst
        )
        assert len(list_tokens(s)) == 2


def test_no_password_or_token_is_stored_in_clear(store: DuckDBStore) -> None:
    add_user(store, role=Role.admin)
    session = sign_in(store)
    refusal(store, password="my other secret password")
    with store.unit_of_work() as uow:
        api_token = create_token(uow, name="robot", role=Role.admin)["token"]
    secrets = [PASSWORD, "my other secret password", session.session_token, api_token]
    assert all(_occurrences(store, secret) == [] for secret in secrets)
    # The scan does find what is there: the hashes that stand in for the secrets.
    assert _occurrences(store, hash_secret(session.session_token)) == ["auth_sessions.session_hash"]
    assert _occurrences(store, hash_secret(api_token)) == ["api_tokens.token_hash"]


def _occurrences(store: DuckDBStore, text: str) -> list[str]:
    """Every table.column of the workspace whose values contain ``text``."""
    columns = rows(
        store,
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'",
    )
    found = []
    for c in columns:
        column = f'"{c["table_name"]}"."{c["column_name"]}"'
        hits = rows(
            store,
            f'SELECT count(*) AS n FROM "{c["table_name"]}" WHERE contains(CAST({column} AS VARCHAR), ?)',
            [text],
        )
        if hits[0]["n"]:
            found.append(f"{c['table_name']}.{c['column_name']}")
    return found


# -- the commands ---------------------------------------------------------------------------------


def cxlens(*args: str, db: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cxlens(*args, db=db, stdin=stdin, timeout=120)


def test_users_commands(db_path: Path) -> None:
    made = cxlens(
        "users", "create", "Ana@Example.com", "--name", "Ana Lima", "--role", "admin",
        "--password-stdin", "--format", "json", db=db_path, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    user = json.loads(made.stdout)
    assert (user["email"], user["role"]) == ("ana@example.com", "admin") and "password" not in user
    generated = cxlens(
        "users", "create", "bob@example.com", "--name", "Bob", "--role", "viewer",
        "--generate-password", "--format", "json", db=db_path,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    bob_password = json.loads(generated.stdout)["password"]
    assert len(bob_password) == 20
    bad_role = cxlens("users", "create", "c@example.com", "--name", "C", "--role", "owner", db=db_path)
    assert bad_role.returncode == 2 and "admin, analyst, agent, viewer" in bad_role.stderr
    assert "Traceback" not in bad_role.stderr
    disabled = cxlens("users", "disable", "bob@example.com", "--format", "json", db=db_path)
    assert disabled.returncode == 0 and json.loads(disabled.stdout)["disabled_at"]
    listed = cxlens("users", "list", "--format", "json", db=db_path)
    users = {u["email"]: u for u in json.loads(listed.stdout)}
    assert set(users) == {"ana@example.com", "bob@example.com"}
    assert users["bob@example.com"]["disabled_at"] and users["ana@example.com"]["disabled_at"] is None
    assert "$argon2" not in listed.stdout and PASSWORD not in listed.stdout
    assert cxlens("users", "enable", "bob@example.com", db=db_path).returncode == 0
    reset = cxlens(
        "users", "set-password", user["user_id"], "--password-stdin", db=db_path, stdin="a new passphrase!\n"
    )
    assert reset.returncode == 0, reset.stderr
    store = open_store(Settings(db=db_path))
    try:
        assert sign_in(store, "bob@example.com", bob_password).principal.role is Role.viewer
        assert sign_in(store, "ana@example.com", "a new passphrase!").principal.id == user["user_id"]
    finally:
        store.close()


def test_tokens_commands(db_path: Path) -> None:
    shown = cxlens("tokens", "create", "ci-export", "--role", "analyst", db=db_path)
    assert shown.returncode == 0 and "shown only now" in shown.stdout
    (token,) = [line for line in shown.stdout.splitlines() if line.startswith("cxt_")]
    taken = cxlens("tokens", "create", "ci-export", "--role", "viewer", db=db_path)
    assert taken.returncode == 4 and "already named" in taken.stderr
    listed = cxlens("tokens", "list", "--format", "json", db=db_path)
    assert token not in listed.stdout
    assert json.loads(listed.stdout)[0]["token_hint"] == token[:10] + "…"
    assert cxlens("tokens", "revoke", "ci-export", db=db_path).returncode == 0
    renewed = cxlens("tokens", "create", "ci-export", "--role", "viewer", "--format", "json", db=db_path)
    created = json.loads(renewed.stdout)
    assert created["token"].startswith("cxt_") and created["token"] != token
    assert (created["name"], created["role"], created["hint"]) == (
        "ci-export",
        "viewer",
        created["token"][:10] + "…",
    )
    store = open_store(Settings(db=db_path))
    try:
        with store.session() as s:
            assert token_principal(s, token) is None
            assert token_principal(s, created["token"]) == Principal(
                "token", "ci-export", "ci-export", Role.viewer
            )
    finally:
        store.close()


def test_users_create_asks_for_the_password_twice(db_path: Path) -> None:
    # In-process: the hidden prompt reads the terminal (getpass opens /dev/tty), which a piped
    # subprocess cannot drive portably; Click's runner feeds it instead.
    from typer.testing import CliRunner

    from cxlens.cli import app

    args = ["users", "create", "ana@example.com", "--name", "Ana", "--role", "agent", "--db", str(db_path)]
    mismatch = CliRunner().invoke(app, args, input=f"{PASSWORD}\nsomething else!!\n")
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output
    done = CliRunner().invoke(app, args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert PASSWORD not in done.output
    store = open_store(Settings(db=db_path))
    try:
        assert sign_in(store).principal.role is Role.agent
    finally:
        store.close()
