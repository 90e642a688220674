"""Pure rules for sources and their write keys. Imports nothing from storage or the web.

A write key is 256 random bits. Only its SHA-256 is stored: a key that random cannot be guessed
from its hash, so a slow password hash would only slow down every tracking request.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from cxlens.core.credentials import check_handle
from cxlens.errors import InvalidInput

KEY_PREFIX = "cxk_"


class SourceKind(StrEnum):
    """Where a source's write key lives, which decides what its calls may change.

    A server key stays on a server the workspace owner runs: its calls are trusted like an import.
    A browser key ships in a web page or a mobile app, so anyone can read it and send calls with
    it: a browser source may link anonymous ids to a profile and add traits, but may not merge
    profiles that have a user id, nor overwrite traits a server source or an import set."""

    server = "server"
    browser = "browser"


def check_kind(kind: str) -> SourceKind:
    try:
        return SourceKind(kind.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"{kind!r} is not a kind of source: use server (a key kept on your servers) or browser "
            "(a key that ships in a web page or an app)."
        ) from None


def new_write_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def check_name(name: str) -> str:
    """Source names become the ``source`` of every row the source sends."""
    return check_handle(name, kind="source name", example="`website` or `ios-app`")
