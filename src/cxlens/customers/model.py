"""Pure customer-domain rules: identity normalisation. Imports nothing from storage or the web."""

from __future__ import annotations

import phonenumbers


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
