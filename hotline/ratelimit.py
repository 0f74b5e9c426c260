"""A small in-process sliding-window rate limit: public endpoints (the web chatbot), failed logins."""

from __future__ import annotations

import datetime as dt
from collections import deque


class SlidingWindowLimit:
    """At most ``limit`` hits per key within ``window``; time comes from the caller (the app clock)."""

    def __init__(self, limit: int, window: dt.timedelta, max_keys: int = 100_000) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._hits: dict[str, deque[dt.datetime]] = {}

    def allow(self, key: str, now: dt.datetime) -> bool:
        """Count a hit unless ``key`` already had ``limit`` within the window."""
        if self.exceeded(key, now):
            return False
        self.record(key, now)
        return True

    def exceeded(self, key: str, now: dt.datetime) -> bool:
        hits = self._hits.get(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return bool(hits) and len(hits) >= self.limit

    def record(self, key: str, now: dt.datetime) -> None:
        self._hits.setdefault(key, deque()).append(now)
        if len(self._hits) > self.max_keys:  # forget idle keys rather than grow without bound
            for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                del self._hits[stale]
