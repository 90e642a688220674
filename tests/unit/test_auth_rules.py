"""Auth rules without a database: the permission matrix, input policies, argon2id hashing and
secrets, and the security doc's copy of the matrix."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from cxlens.auth.model import (
    MATRIX,
    Permission,
    Principal,
    Role,
    allows,
    check_display_name,
    check_email,
    check_password,
    check_token_name,
    matrix_table,
    new_api_token,
    new_user_id,
    parse_role,
    token_hint,
)
from cxlens.auth.passwords import (
    dummy_verify,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from cxlens.auth.service import AuthSettings
from cxlens.bootstrap import auth_settings
from cxlens.config import Settings
from cxlens.core.credentials import hash_secret
from cxlens.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
P = Permission

# Written out by hand from the specification, not derived from MATRIX.
EXPECTED = {
    Role.admin: {
        P.view_overview,
        P.view_metrics,
        P.view_customers,
        P.merge_customers,
        P.import_data,
        P.manage_users,
        P.manage_tokens,
        P.manage_sources,
        P.view_responses,
        P.manage_surveys,
    },
    Role.analyst: {
        P.view_overview,
        P.view_metrics,
        P.view_customers,
        P.import_data,
        P.merge_customers,
        P.view_responses,
        P.manage_surveys,
    },
    Role.agent: {P.view_overview, P.view_customers, P.view_metrics, P.view_responses},
    Role.viewer: {P.view_overview, P.view_metrics},
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_exactly_its_permissions(role: Role) -> None:
    assert set(MATRIX[role]) == EXPECTED[role]
    for permission in Permission:
        assert allows(role, permission) is (permission in EXPECTED[role])
        principal = Principal(kind="user", id="usr_x", name="X", role=role)
        assert principal.can(permission) is (permission in EXPECTED[role])


def test_only_admins_manage_people_tokens_and_sources() -> None:
    for permission in (P.manage_users, P.manage_tokens, P.manage_sources):
        assert [r for r in Role if allows(r, permission)] == [Role.admin]


def test_roles_and_permissions_have_their_public_names() -> None:
    assert [r.value for r in Role] == ["admin", "analyst", "agent", "viewer"]
    assert set(MATRIX) == set(Role)


@pytest.mark.parametrize(("text", "role"), [("admin", Role.admin), (" Viewer ", Role.viewer)])
def test_parse_role(text: str, role: Role) -> None:
    assert parse_role(text) is role


def test_an_unknown_role_is_refused_with_the_list_of_roles() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_role("owner")
    assert "'owner'" in refused.value.message
    for role in ("admin", "analyst", "agent", "viewer"):
        assert role in refused.value.message


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert check_email("  Ana.Lima@Example.COM ") == "ana.lima@example.com"


@pytest.mark.parametrize(
    "bad",
    ["", "ana", "ana@", "@example.com", "ana@example", "a b@example.com", "a@b@c.com", "x" * 250 + "@a.io"],
)
def test_invalid_emails_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        check_email(bad)


def test_password_policy() -> None:
    assert check_password("twelve chars") == "twelve chars"
    for bad, reason in [
        ("eleven char", "at least 12"),
        ("a" * 20, "one character repeated"),
        ("x" * 1025 + "y", "at most"),
    ]:
        with pytest.raises(InvalidInput, match=reason):
            check_password(bad)


def test_names_are_required_and_bounded() -> None:
    assert check_display_name("  Ana Lima ") == "Ana Lima"
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(InvalidInput):
            check_display_name(bad)


def test_token_names() -> None:
    assert check_token_name("ci-export.v2") == "ci-export.v2"
    for bad in ("", "CI", "-x", "a b", "x" * 64):
        with pytest.raises(InvalidInput):
            check_token_name(bad)


def test_passwords_are_hashed_with_salted_argon2id() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert first != second  # a fresh salt each time
    assert "correct horse battery" not in first


def test_verify_password() -> None:
    hashed = hash_password("correct horse battery")
    assert verify_password(hashed, "correct horse battery") is True
    assert verify_password(hashed, "correct horse batterY") is False
    assert verify_password(hashed, "") is False


@pytest.mark.parametrize(
    "malformed", ["", "not a hash", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$", "$2b$12$" + "a" * 53]
)
def test_a_malformed_hash_verifies_nothing_and_raises_nothing(malformed: str) -> None:
    assert verify_password(malformed, "correct horse battery") is False
    assert needs_rehash(malformed) is True


def test_hashes_with_older_parameters_need_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("correct horse battery")
    assert verify_password(weak, "correct horse battery")  # still accepted …
    assert needs_rehash(weak) is True  # … and upgraded at the next sign-in
    assert needs_rehash(hash_password("correct horse battery")) is False


def test_dummy_verify_runs_a_real_verification_quietly() -> None:
    assert dummy_verify() is None


def test_generated_passwords_are_long_random_and_pass_the_policy() -> None:
    generated = {generate_password() for _ in range(20)}
    assert len(generated) == 20
    for password in generated:
        assert re.fullmatch(r"[A-Za-z0-9]{20}", password)
        assert check_password(password) == password


def test_secrets_ids_and_hints() -> None:
    token = new_api_token()
    assert token.startswith("cxt_") and len(token) == 4 + 43  # 32 random bytes, base64url
    assert token_hint(token) == token[:10] + "…"
    assert hash_secret(token) == hashlib.sha256(token.encode()).hexdigest()
    assert new_api_token() != token
    user_id = new_user_id()
    assert re.fullmatch(r"usr_[0-9a-f]{24}", user_id)


def test_auth_settings_come_from_the_one_settings_object() -> None:
    built = auth_settings(Settings(session_hours=2, login_max_failures=3, login_window_minutes=10))
    assert built == AuthSettings(session_hours=2, max_failures=3, window_minutes=10)
    assert built.session_lifetime.total_seconds() == 7200 and built.window.total_seconds() == 600
    assert auth_settings(Settings()) == AuthSettings(session_hours=12, max_failures=5, window_minutes=15)


def test_security_doc_carries_the_current_permission_matrix() -> None:
    doc = (ROOT / "docs" / "security.md").read_text()
    lines = doc.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("| permission |")))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    assert "\n".join(lines[start:end]) + "\n" == matrix_table()
    for section in ("CSRF", "Route protection", "Inert customer text", "Login throttling"):
        assert f"\n## {section}\n" in doc
