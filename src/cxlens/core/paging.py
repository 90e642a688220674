"""Keyset paging: a page carries its items and the cursor of the next page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
