"""Rules shared by every secret and handle cxlens issues: write keys, API tokens, session tokens,
survey links; and the short names of sources, tokens and surveys.

A random secret of 192 bits or more cannot be guessed from its SHA-256, so that is what is stored;
a slow hash is only needed for passwords, which people choose (auth/passwords.py).
"""

from __future__ import annotations

import hashlib
import re

from cxlens.errors import InvalidInput


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a random secret: what is stored instead of the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_hint(secret: str, prefix: str) -> str:
    """Enough of a secret to tell secrets apart in a list, far too little to use it."""
    return secret[: len(prefix) + 6] + "…"


def check_handle(name: str, *, kind: str, example: str, punctuation: str = "._-") -> str:
    """A short lower-case handle (1–63 characters) that is safe in a URL, a log line and a shell."""
    allowed = re.escape(punctuation)
    if not re.fullmatch(rf"[a-z0-9][a-z0-9{allowed}]{{0,62}}", name):
        quoted = [f"'{c}'" for c in punctuation]
        listed = ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]
        raise InvalidInput(
            f"{name!r} is not a valid {kind}: use 1–63 lower-case letters, digits, {listed}, "
            f"starting with a letter or digit (for example {example})."
        )
    return name
