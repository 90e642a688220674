"""Identifiers. Random ids carry a readable prefix (``cus_``, ``mrg_``); ids derived from content
are deterministic so a re-run of the same input produces the same ids."""

from __future__ import annotations

import hashlib
import secrets


def new_id(prefix: str) -> str:
    """A random, unguessable id (96 bits) with a readable prefix."""
    return f"{prefix}_{secrets.token_hex(12)}"


def stable_id(prefix: str, *parts: str) -> str:
    """A deterministic id from content; mirrors the SQL used by set-based paths (md5, 24 hex)."""
    digest = hashlib.md5("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()
    return f"{prefix}_{digest[:24]}"
