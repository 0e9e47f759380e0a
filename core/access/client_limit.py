"""The per-client attempt limiter: password attempts a minute from one address.

In the process's memory, before any database work or password hash: a flood from one
address is stopped without costing the other operators anything. Each server process
keeps its own count (the README says so).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from functools import lru_cache

from core.platform.config import get_settings

CLIENT_LIMITED = "Too many sign-in attempts from your address; wait a minute, then try again."


class AttemptLimiter:
    """At most ``limit`` attempts per key (a client address) in a sliding ``window`` of seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._seen) > 10_000:  # forget idle addresses instead of growing without bound
                self._seen = {k: q for k, q in self._seen.items() if q and now - q[-1] < self.window}
            q = self._seen.setdefault(key, deque())
            while q and now - q[0] >= self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True


@lru_cache(maxsize=1)
def client_limit() -> AttemptLimiter:
    """Password attempts a minute from one address (``MAC_SIGNIN_PER_MINUTE``, default 20)."""
    return AttemptLimiter(limit=get_settings().signin_per_minute, window=60)
