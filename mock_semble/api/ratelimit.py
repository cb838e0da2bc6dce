"""``--rate-limit N`` (SPEC §4.1): per token, at most N requests in any rolling 60 s of
real time. Refused requests do not count, so a client that backs off gets through as
soon as its oldest counted request is a minute old. Reset clears the counts."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ..core.runtime import Runtime

WINDOW = 60.0  # seconds of real time (the mock's clock does not move it: decision)
EXTENSION = "rate_limit"
RATE_LIMITED_MESSAGE = "You are making requests too often. Please try again later."
RATE_LIMITED_CODE = "RATE_LIMITED"


class RateLimiter:
    """Counts each token's admitted requests; memory is at most N times per token."""

    def __init__(
        self, limit: int, *, window: float = WINDOW, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._now = now
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[str, deque[float]]] = {}  # token -> (practice, times)

    def admit(self, token: str, practice_id: str) -> bool:
        """Count and admit the request, or refuse it (uncounted) when over the limit."""
        now = self._now()
        with self._lock:
            entry = self._seen.get(token)
            if entry is None:
                entry = self._seen[token] = (practice_id, deque())
            times = entry[1]
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True

    def reset(self, practice_id: str | None) -> None:
        """Reset hook: every count, or those of one practice's tokens."""
        with self._lock:
            if practice_id is None:
                self._seen.clear()
            else:
                for token in [t for t, (p, _) in self._seen.items() if p == practice_id]:
                    del self._seen[token]


def rate_limiter(runtime: Runtime) -> RateLimiter | None:
    """The runtime's limiter (made and hooked to reset on first use), None when off."""
    limit = runtime.settings.rate_limit
    if limit is None:
        return None
    limiter = runtime.extensions.get(EXTENSION)
    if limiter is None:
        with runtime.lock:
            limiter = runtime.extensions.get(EXTENSION)
            if limiter is None:
                limiter = RateLimiter(limit)
                runtime.on_reset(limiter.reset)
                runtime.extensions[EXTENSION] = limiter
    assert isinstance(limiter, RateLimiter)
    return limiter
