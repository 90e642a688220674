"""Use cases on sources: create one (or give a revoked one a new key), revoke one."""

from __future__ import annotations

from dataclasses import dataclass

from cxlens.core.credentials import hash_secret, secret_hint
from cxlens.errors import Conflict, NotFound
from cxlens.sources.model import KEY_PREFIX, SourceKind, check_kind, check_name, new_write_key
from cxlens.storage.store import UnitOfWork


@dataclass(frozen=True)
class NewKey:
    name: str
    write_key: str  # shown once; only its hash is kept
    reactivated: bool
    kind: SourceKind = SourceKind.server


def create_source(uow: UnitOfWork, name: str, *, kind: str = SourceKind.server) -> NewKey:
    """A new source with a new write key. A revoked source gets a new key and is active again (its
    events keep their source name) with the kind given now; an active one is refused, so no key is
    replaced by accident."""
    check_name(name)
    source_kind = check_kind(kind)
    key = new_write_key()
    existing = uow.fetch_one("SELECT source_key, revoked_at FROM sources WHERE name = ?", [name])
    if existing is not None and existing["revoked_at"] is None:
        raise Conflict(
            f"Source {name!r} already exists and is active. Revoke it first "
            f"(`cxlens sources revoke {name}`) to issue a new key."
        )
    if existing is not None:
        uow.execute(
            "UPDATE sources SET key_hash = ?, key_hint = ?, kind = ?, revoked_at = NULL, created_at = now() "
            "WHERE source_key = ?",
            [hash_secret(key), secret_hint(key, KEY_PREFIX), source_kind.value, existing["source_key"]],
        )
    else:
        uow.execute(
            "INSERT INTO sources (source_key, name, key_hash, key_hint, kind, created_at, revoked_at) "
            "SELECT coalesce(max(source_key), 0) + 1, ?, ?, ?, ?, now(), NULL FROM sources",
            [name, hash_secret(key), secret_hint(key, KEY_PREFIX), source_kind.value],
        )
    return NewKey(name=name, write_key=key, reactivated=existing is not None, kind=source_kind)


def revoke_source(uow: UnitOfWork, name: str) -> None:
    """The key stops working at once for new requests (a running server notices within seconds)."""
    found = uow.fetch_one("SELECT revoked_at FROM sources WHERE name = ?", [name])
    if found is None:
        raise NotFound(f"No source named {name!r}; `cxlens sources list` shows them.")
    if found["revoked_at"] is not None:
        raise Conflict(f"Source {name!r} was already revoked at {found['revoked_at']}.")
    uow.execute("UPDATE sources SET revoked_at = now() WHERE name = ?", [name])
