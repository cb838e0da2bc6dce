"""The journal of GraphQL requests (``/__mock/requests``): bounded, never a token."""

from __future__ import annotations

from collections import deque
from typing import Any

# Variables of larger requests are not kept: the journal is bounded in entries *and*
# in what one entry can hold.
MAX_VARIABLES_BYTES = 64 * 1024


class RequestLog:
    """A ring buffer of the last ``size`` GraphQL requests, oldest first."""

    def __init__(self, size: int = 1000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max(1, size))

    def record(
        self,
        *,
        at: str,
        operation_name: str | None,
        variables: Any,
        practice_id: str | None,
        status: int,
        error_codes: list[str],
        body_size: int,
    ) -> None:
        if body_size > MAX_VARIABLES_BYTES:
            variables = {"_omitted": f"request body of {body_size} bytes"}
        self._entries.append(
            {
                "time": at,
                "operationName": operation_name,
                "variables": variables,
                "practiceId": practice_id,
                "status": status,
                "errorCodes": error_codes,
            }
        )

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
