"""A small in-process rate limit for public endpoints (survey answers): at most ``limit`` requests
per ``window`` seconds per client. One process serves a workspace, so memory is the right place."""

from __future__ import annotations

import threading
import time
from collections import deque

from cxlens.errors import Overloaded


class RateLimiter:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> None:
        """Count one request from ``client``; Overloaded (429 + Retry-After) past the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.setdefault(client, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                retry = max(1, int(times[0] + self.window - now) + 1)
                raise Overloaded("Too many requests; wait a moment and try again.", retry_after=retry)
            times.append(now)
            if len(self._seen) > 10_000:  # forget idle clients so the map stays small
                for key in [k for k, v in self._seen.items() if not v or v[-1] <= now - self.window]:
                    del self._seen[key]
