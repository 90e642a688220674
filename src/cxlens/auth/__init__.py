"""Auth: the people and programs allowed in (users, API tokens), their roles and sessions.

The names below are the slice's public API: the ways in (web/, cli/) import only these
(import-linter contract "Ways in use slices through their facades")."""

from __future__ import annotations

from cxlens.auth.model import Permission, Principal, Role, parse_role
from cxlens.auth.passwords import generate_password
from cxlens.auth.queries import count_users, list_tokens, list_users, session_principal, token_principal
from cxlens.auth.service import (
    AuthSettings,
    create_token,
    create_user,
    disable_user,
    enable_user,
    login,
    logout,
    revoke_token,
    set_password,
)

__all__ = [
    "AuthSettings",
    "Permission",
    "Principal",
    "Role",
    "count_users",
    "create_token",
    "create_user",
    "disable_user",
    "enable_user",
    "generate_password",
    "list_tokens",
    "list_users",
    "login",
    "logout",
    "parse_role",
    "revoke_token",
    "session_principal",
    "set_password",
    "token_principal",
]
