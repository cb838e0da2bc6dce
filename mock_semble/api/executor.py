"""graphql-core's executor for the full pipeline, bounded like the fast path (SPEC §7).

The full pipeline answers what the fast path does not compile (fragments, directives,
documents over 16 KiB, …), so it must not be the way around the limits: 30 aliased
lists over 10^5 records once held the event loop for 24 s and built 300 MB.

- Every completed value is counted into a :class:`~.response.ResponseBudget` (a lower
  bound of its JSON size); past 32 MiB completion stops with :class:`ResponseTooLarge`
  and the answer becomes ``RESPONSE_TOO_LARGE``.
- A list longer than :data:`~.response.CHUNK` items is completed through an async
  iterator that gives the event loop a turn every :data:`ITEMS_PER_TURN` items.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from graphql import GraphQLNonNull
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from .response import CHUNK, ResponseBudget, ResponseTooLarge

# graphql-core completes an item in ~10 µs per field: 32 items of a dozen fields stay
# well under the ~100 ms any one request may hold the loop, even with several lists.
ITEMS_PER_TURN = 32


def _json_size(value: Any) -> int:
    """A lower bound of ``value``'s JSON size, for a completed scalar or container."""
    if isinstance(value, str):
        return len(value) + 2
    if value is None or isinstance(value, bool):
        return 4
    return 2 if isinstance(value, dict | list) else 1


class BudgetedExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context with a response budget and chunked lists."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = ResponseBudget()

    def complete_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if self.budget.exceeded:
            raise ResponseTooLarge
        completed = super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )
        if not isinstance(return_type, GraphQLNonNull):  # its inner type is counted
            key = path.key
            size = _json_size(completed) + (len(key) + 4 if isinstance(key, str) else 1)
            self.budget.charge(size)
        return completed

    def complete_list_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if isinstance(result, list | tuple) and len(result) > CHUNK:
            result = self._in_chunks(result)
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    async def _in_chunks(self, items: Sequence[Any]) -> AsyncIterator[Any]:
        for start in range(0, len(items), ITEMS_PER_TURN):
            if start:
                await asyncio.sleep(0)  # other requests run between chunks
            if self.budget.exceeded:
                raise ResponseTooLarge
            for item in items[start : start + ITEMS_PER_TURN]:
                yield item
