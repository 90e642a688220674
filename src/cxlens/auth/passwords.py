"""Password hashing: argon2id with argon2-cffi's defaults (RFC 9106's second recommended option:
64 MiB, 3 passes, 4 lanes), which the OWASP Password Storage Cheat Sheet accepts."""

from __future__ import annotations

import secrets
import string
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An encoded ``$argon2id$…`` string carrying its own salt and parameters."""
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    """True only for the right password; a mismatch or a malformed hash is simply False."""
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
        return False


def needs_rehash(hashed: str) -> bool:
    """True when the hash was made with other parameters than today's (or cannot be read)."""
    try:
        return _hasher.check_needs_rehash(hashed)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    # Same parameters as real hashes, so verifying against it costs what a real verify costs.
    return _hasher.hash(secrets.token_urlsafe(32))


def dummy_verify() -> None:
    """Spend the time of one real verification, for logins whose email matches no user: without
    it, how fast a login fails would tell which emails have accounts."""
    verify_password(_dummy_hash(), secrets.token_urlsafe(16))


_ALPHABET = string.ascii_letters + string.digits


def generate_password(length: int = 20) -> str:
    """Random letters and digits: 20 of them carry about 119 bits, and survive any terminal or form."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
