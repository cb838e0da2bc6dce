"""The journal of GraphQL requests (``/__mock/requests``): bounded, never a token.

Bounded in entries and in what one entry can hold: variables are kept as a rendering
of at most 4 KiB (marked when truncated), names and code lists are cut, so the
journal's memory is at most ``size`` x ~5 KiB whatever clients send.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

MAX_RENDERING = 4096  # characters of a variables rendering (SPEC §4)
MAX_RENDERED_BODY = 64 * 1024  # larger bodies are not rendered at all (CPU per request)
MAX_NAME = 256
MAX_CODES = 50


def render_variables(variables: Any, body_size: int) -> Any:
    """The variables as the journal keeps them: as given when their JSON is at most
    4 KiB, else ``{"truncated": true, "rendering": <first 4 KiB of the JSON>}``."""
    if variables is None:
        return None
    if body_size > MAX_RENDERED_BODY:
        return {"truncated": True, "rendering": f"<request body of {body_size} bytes>"}
    text = json.dumps(variables, ensure_ascii=False, separators=(",", ":"))
    if len(text) <= MAX_RENDERING:
        return json.loads(text)  # a private copy: the caller's objects are not kept
    return {"truncated": True, "rendering": text[:MAX_RENDERING]}


class RequestLog:
    """A ring buffer of the last ``size`` GraphQL requests, oldest first."""

    def __init__(self, size: int = 1000) -> None:
        self._entries: deque[tuple[int, dict[str, Any]]] = deque(maxlen=max(1, size))
        self._sequence = 0

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
        fault: str | None = None,
    ) -> None:
        self._sequence += 1
        entry: dict[str, Any] = {
            "time": at,
            "operationName": None if operation_name is None else operation_name[:MAX_NAME],
            "variables": render_variables(variables, body_size),
            "practiceId": practice_id,
            "status": status,
            "errorCodes": error_codes[:MAX_CODES],
        }
        if fault is not None:
            entry["fault"] = fault
        self._entries.append((self._sequence, entry))

    def entries(self) -> list[dict[str, Any]]:
        return [entry for _, entry in self._entries]

    def page(self, limit: int, after: int | None) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` entries after cursor ``after``, and the next cursor (or None)."""
        selected = [(n, e) for n, e in self._entries if after is None or n > after]
        page = selected[:limit]
        more = len(selected) > limit
        return [e for _, e in page], (str(page[-1][0]) if more and page else None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
