"""Pure rules of access: roles, what each may do, who is acting, and what a valid email, name or
password looks like. Imports nothing from storage or the web.

The permission matrix here is the only place a role's rights are written down; docs/security.md
carries a copy generated from it (``python -m cxlens.auth.model``) and a test keeps them equal.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from cxlens.core.credentials import check_handle, secret_hint
from cxlens.errors import InvalidInput


class Role(StrEnum):
    admin = "admin"
    analyst = "analyst"
    agent = "agent"
    viewer = "viewer"


class Permission(StrEnum):
    view_overview = "view_overview"
    view_metrics = "view_metrics"
    view_customers = "view_customers"
    merge_customers = "merge_customers"
    import_data = "import_data"
    manage_users = "manage_users"
    manage_tokens = "manage_tokens"
    manage_sources = "manage_sources"
    view_responses = "view_responses"
    manage_surveys = "manage_surveys"


_P = Permission
MATRIX: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.analyst: frozenset(
        {
            _P.view_overview,
            _P.view_metrics,
            _P.view_customers,
            _P.import_data,
            _P.merge_customers,
            _P.view_responses,
            _P.manage_surveys,
        }
    ),
    Role.agent: frozenset({_P.view_overview, _P.view_customers, _P.view_metrics, _P.view_responses}),
    Role.viewer: frozenset({_P.view_overview, _P.view_metrics}),
}

PERMISSION_DESCRIPTIONS: dict[Permission, str] = {
    _P.view_overview: "See the overview dashboard.",
    _P.view_metrics: "See CX metrics and their breakdowns (aggregates only).",
    _P.view_customers: "See customer profiles and timelines (personal data).",
    _P.merge_customers: "Merge and unmerge customer profiles.",
    _P.import_data: "Import files into the workspace.",
    _P.manage_users: "Create, disable and enable users; set their passwords.",
    _P.manage_tokens: "Create and revoke API tokens.",
    _P.manage_sources: "Create and revoke tracking sources and their write keys.",
    _P.view_responses: "See survey responses with their comments and who gave them (personal data).",
    _P.manage_surveys: "Create, edit and send surveys; manage triggers, widgets and follow-up rules.",
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in MATRIX[role]


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user or an API token."""

    kind: str  # "user" or "token"
    id: str  # a user's public id (usr_…) or a token's name
    name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a role: use one of {', '.join(Role)}.", data={"roles": list(Role)}
        ) from None


# Deliberately simple: the address is an account name, not a mailbox we write to, so all it must
# be is one unambiguous, case-insensitive string that looks like an email.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path
MIN_PASSWORD_LENGTH = 12
# Far above any passphrase; bounds the work one request can ask the hasher to do.
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 100


def normalize_email(text: str) -> str:
    return text.strip().lower()


def check_email(text: str) -> str:
    """The normalised (trimmed, lower-case) email, or InvalidInput."""
    email = normalize_email(text)
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidInput(f"{text!r} is not a valid email address (for example ana@example.com).")
    return email


def check_display_name(text: str) -> str:
    name = text.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"A user's name needs 1–{MAX_NAME_LENGTH} characters.")
    return name


def check_password(password: str) -> str:
    """Length is what makes a password strong (NIST SP 800-63B); composition rules are not
    imposed, only the degenerate case of one repeated character is refused."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"A password may have at most {MAX_PASSWORD_LENGTH} characters.")
    if len(set(password)) == 1:
        raise InvalidInput("A password cannot be one character repeated.")
    return password


TOKEN_PREFIX = "cxt_"
USER_ID_PREFIX = "usr_"


def new_secret() -> str:
    """256 random bits: a session token, a CSRF token or the body of an API token."""
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    # The prefix lets secret scanners and people recognise a leaked cxlens token.
    return TOKEN_PREFIX + new_secret()


def new_user_id() -> str:
    return USER_ID_PREFIX + secrets.token_hex(12)


def token_hint(token: str) -> str:
    return secret_hint(token, TOKEN_PREFIX)


def check_token_name(name: str) -> str:
    """API tokens are named like sources: short, lower-case, safe in a URL and a log line."""
    return check_handle(name, kind="token name", example="`ci-export`")


def matrix_table() -> str:
    """The permission matrix as the Markdown table in docs/security.md."""
    roles = list(Role)
    lines = [
        "| permission | " + " | ".join(roles) + " | allows |",
        "|---|" + "---|" * len(roles) + "---|",
    ]
    for permission in Permission:
        marks = " | ".join("✓" if allows(role, permission) else "—" for role in roles)
        lines.append(f"| `{permission}` | {marks} | {PERMISSION_DESCRIPTIONS[permission]} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(matrix_table(), end="")
