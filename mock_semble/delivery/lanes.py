"""Fair scheduling of delivery attempts: a slow or dead receiver delays only its own
subscription's deliveries (SPEC §2.4).

Three bounds, taken in this order for each attempt:

- a **lane** per subscription: at most ``concurrency`` of its requests in flight, the
  rest wait in its own queue;
- **all**: at most :data:`MAX_IN_FLIGHT` requests in flight in total (sockets are finite);
- **fast**: at most ``concurrency`` requests that are still young. A request unanswered
  after :data:`SLOW_AFTER` seconds gives its fast slot back (it keeps its lane and its
  place in *all*), so receivers that hang cannot hold the slots everyone else needs.

With one shared bound (the engine's first design), sixteen events to a receiver that
never answers held all eight slots, and every other practice's deliveries waited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

SLOW_AFTER = 1.0  # seconds; a receiver on the same machine answers in milliseconds
MAX_IN_FLIGHT = 256


class Lanes:
    """Per-subscription lanes under a fast bound and a total bound; one event loop."""

    def __init__(self, concurrency: int, *, slow_after: float = SLOW_AFTER) -> None:
        self.concurrency = max(1, concurrency)
        self.width = self.concurrency
        self.slow_after = slow_after
        self._fast = asyncio.Semaphore(self.concurrency)
        self._all = asyncio.Semaphore(max(MAX_IN_FLIGHT, self.concurrency))
        self._lanes: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}  # lane -> attempts holding or awaiting it

    @asynccontextmanager
    async def slot(self, lane: str) -> AsyncIterator[None]:
        """Hold a place to send one request of ``lane`` (a subscription id)."""
        semaphore = self._lanes.get(lane)
        if semaphore is None:
            semaphore = self._lanes[lane] = asyncio.Semaphore(self.width)
        self._users[lane] = self._users.get(lane, 0) + 1
        try:
            async with semaphore, self._all:
                await self._fast.acquire()
                held = True

                def give_back() -> None:
                    nonlocal held
                    if held:
                        held = False
                        self._fast.release()

                timer = asyncio.get_running_loop().call_later(self.slow_after, give_back)
                try:
                    yield
                finally:
                    timer.cancel()
                    give_back()
        finally:
            self._users[lane] -= 1
            if not self._users[lane]:  # nobody left in this lane: forget it
                del self._users[lane], self._lanes[lane]

    def __len__(self) -> int:
        """Lanes in use (a bounded number: idle lanes are dropped)."""
        return len(self._lanes)
