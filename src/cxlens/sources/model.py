"""Pure rules for sources and their write keys. Imports nothing from storage or the web.

A write key is 256 random bits. Only its SHA-256 is stored: a key that random cannot be guessed
from its hash, so a slow password hash would only slow down every tracking request.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from cxlens.errors import InvalidInput

KEY_PREFIX = "cxk_"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def new_write_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_hint(key: str) -> str:
    """Enough of the key to tell keys apart in a list, far too little to use it."""
    return key[: len(KEY_PREFIX) + 6] + "…"


def check_name(name: str) -> str:
    """Source names become the ``source`` of every row the source sends."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"{name!r} is not a valid source name: use 1–63 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (for example `website` or `ios-app`)."
        )
    return name
