"""Pure customer-domain rules: identity normalisation. Imports nothing from storage or the web."""

from __future__ import annotations

import phonenumbers

IDENTITY_FIELDS = ("user_id", "email", "phone", "anonymous_id")
DYNAMIC_IDENTITY_PREFIXES = ("external:", "social:")
# Lower rank = stronger evidence of who the customer is; the strongest known identity of a row
# decides its customer (docs/data-model.md, "Identity resolution").
IDENTITY_RANK = {"user_id": 1, "external": 2, "email": 3, "phone": 4, "social": 5, "anonymous_id": 6}


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
