"""Counting the turns other requests get on the event loop while a block runs: a request
that yields between chunks (SPEC §7) gives them some; one that holds the loop, none."""

from __future__ import annotations

import asyncio
from types import TracebackType


class LoopTurns:
    """``async with LoopTurns() as turns: …`` then ``turns.count``: how many times a
    coroutine standing for another request ran while the block did."""

    def __init__(self) -> None:
        self.count = 0
        self._running = True
        self._ticker: asyncio.Future[None] | None = None

    async def _other_request(self) -> None:
        while self._running:
            self.count += 1
            await asyncio.sleep(0)

    async def __aenter__(self) -> LoopTurns:
        self._ticker = asyncio.ensure_future(self._other_request())
        await asyncio.sleep(0)  # it starts before the block does
        self.count = 0
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        counted = self.count
        self._running = False
        assert self._ticker is not None
        await self._ticker
        self.count = counted  # only the turns taken while the block ran
