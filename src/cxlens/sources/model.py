"""Pure rules for sources and their write keys. Imports nothing from storage or the web.

A write key is 256 random bits. Only its SHA-256 is stored: a key that random cannot be guessed
from its hash, so a slow password hash would only slow down every tracking request.
"""

from __future__ import annotations

import secrets

from cxlens.core.credentials import check_handle

KEY_PREFIX = "cxk_"


def new_write_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def check_name(name: str) -> str:
    """Source names become the ``source`` of every row the source sends."""
    return check_handle(name, kind="source name", example="`website` or `ios-app`")
