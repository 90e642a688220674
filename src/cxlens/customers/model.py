"""Pure customer-domain rules: identity normalisation. Imports nothing from storage or the web."""

from __future__ import annotations

import re

import phonenumbers

IDENTITY_FIELDS = ("user_id", "email", "phone", "anonymous_id")
DYNAMIC_IDENTITY_PREFIXES = ("external:", "social:")
# Lower rank = stronger evidence of who the customer is; the strongest known identity of a row
# decides its customer (docs/data-model.md, "Identity resolution").
IDENTITY_RANK = {"user_id": 1, "external": 2, "email": 3, "phone": 4, "social": 5, "anonymous_id": 6}


# Longest identity values accepted, in characters (docs/data-model.md, "Identities"): an email
# address has at most 254 (RFC 5321's path limit); a phone, however formatted, fits in 64; ids
# and handles in 255, which every system we import from stays within.
MAX_IDENTITY_CHARS = {"email": 254, "phone": 64}
MAX_ID_CHARS = 255
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# C0 controls and DEL (NUL included): never part of an identifier, and they break logs and CSVs.
CONTROL_PATTERN = r"[\x00-\x1f\x7f]"
_CONTROL = re.compile(CONTROL_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)


def max_identity_chars(kind: str) -> int:
    return MAX_IDENTITY_CHARS.get(kind, MAX_ID_CHARS)


def identity_problem(kind: str, value: str) -> str | None:
    """Why ``value`` cannot be an identity of ``kind`` (words to follow the value), or None.
    The same rules as the import's SQL checks (ingest/coerce.py), for one value at a time."""
    if _CONTROL.search(value):
        return "contains a control character"
    limit = max_identity_chars(kind)
    if len(value) > limit:
        return f"is longer than {limit} characters"
    if kind == "email" and not _EMAIL.match(value.strip()):
        return "is not an email address"
    return None


def is_identity_field(name: str) -> bool:
    """Identity kinds a column can carry; ``customer_id`` references an existing profile."""
    return name in IDENTITY_FIELDS or name == "customer_id" or name.startswith(DYNAMIC_IDENTITY_PREFIXES)


def identity_rank(kind: str) -> int:
    return IDENTITY_RANK[kind.split(":", 1)[0]]


def normalize_email(value: str) -> str:
    return value.strip().lower()


def normalize_phone(value: str, *, region: str | None = None) -> str | None:
    """E.164 (``+14155550123``) or None when the text is not a valid phone number. Numbers
    without ``+country`` need ``region`` (ISO 3166 alpha-2)."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_phones(values: list[str], *, region: str | None = None) -> list[str | None]:
    """Normalise distinct phone texts; called once per distinct value the SQL fast path left."""
    return [normalize_phone(v, region=region) for v in values]
