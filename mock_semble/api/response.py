"""The body of a GraphQL answer: at most 32 MiB, and built without holding the event
loop (SPEC §7).

Large lists are projected and encoded in chunks of :data:`CHUNK` items with a pause for
the event loop between chunks; a :class:`ResponseBudget` counts the bytes as they are
made, so an answer that would pass 32 MiB stops growing there and is replaced whole by
a ``RESPONSE_TOO_LARGE`` error — never sent in part. The bytes are exactly what
Starlette's ``JSONResponse`` would send for the same content.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

MAX_RESPONSE_BYTES = 32 * 1024 * 1024
CHUNK = 256  # list items projected and encoded between two turns of the event loop
PART_BYTES = 1024 * 1024  # a large body is sent in parts of about this size
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
MSG_TOO_LARGE = "The response would be larger than 32 MiB. Select fewer fields or fewer aliases."


class ResponseTooLarge(Exception):
    """The answer passed :data:`MAX_RESPONSE_BYTES` while it was being built."""

    def __init__(self) -> None:
        super().__init__(MSG_TOO_LARGE)


class ResponseBudget:
    """Bytes of one answer so far; :meth:`charge` raises once past the limit."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int = MAX_RESPONSE_BYTES) -> None:
        self.limit = limit
        self.used = 0

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def charge(self, size: int) -> None:
        self.used += size
        if self.used > self.limit:
            raise ResponseTooLarge


@dataclass(frozen=True, slots=True)
class RawJSON:
    """A value already encoded (and charged): its pieces, joined, are its JSON."""

    pieces: list[str]


def dumps(value: Any) -> str:
    """Compact JSON as Starlette's JSONResponse renders it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def too_large() -> dict[str, Any]:
    return {
        "data": None,
        "errors": [{"message": MSG_TOO_LARGE, "extensions": {"code": RESPONSE_TOO_LARGE}}],
    }


async def encode_items(
    items: Sequence[Any], project: Callable[[Any], Any], budget: ResponseBudget
) -> RawJSON:
    """``[project(item), …]`` as JSON, a chunk at a time, yielding the loop in between."""
    pieces = ["["]
    for start in range(0, len(items), CHUNK):
        if start:
            await asyncio.sleep(0)
            pieces.append(",")
        text = dumps([project(item) for item in items[start : start + CHUNK]])[1:-1]
        budget.charge(len(text) + 1)
        pieces.append(text)
    pieces.append("]")
    return RawJSON(pieces)


async def encode_content(content: Any, budget: ResponseBudget) -> list[bytes]:
    """The answer's body in parts of about :data:`PART_BYTES` (sent one at a time, so
    no single write copies the whole answer); long lists are encoded a chunk at a time."""
    pieces: list[str] = []
    await _encode(content, budget, pieces)
    parts: list[bytes] = []
    group: list[str] = []
    size = 0
    for piece in pieces:
        group.append(piece)
        size += len(piece)
        if size >= PART_BYTES:
            parts.append("".join(group).encode("utf-8"))
            group, size = [], 0
    if group or not parts:
        parts.append("".join(group).encode("utf-8"))
    return parts


async def _encode(value: Any, budget: ResponseBudget, out: list[str]) -> None:
    if isinstance(value, RawJSON):
        out.extend(value.pieces)  # charged when it was made
    elif isinstance(value, dict):
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            out.append(f"{',' if n else ''}{dumps(key)}:")
            await _encode(item, budget, out)
        out.append("}")
    elif isinstance(value, list) and len(value) > CHUNK:
        out.extend((await encode_items(value, _same, budget)).pieces)
    else:
        text = dumps(value)
        budget.charge(len(text))
        out.append(text)


def _same(value: Any) -> Any:
    return value


class JSONParts(Response):
    """A JSON body sent in parts: a large answer is written a part at a time, and the
    server waits for the socket to drain in between instead of buffering it whole."""

    media_type = "application/json"

    def __init__(self, parts: list[bytes], status_code: int = 200) -> None:
        super().__init__(b"", status_code)
        self.parts = parts
        self.raw_headers = [
            (b"content-length", str(sum(len(p) for p in parts)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        for n, part in enumerate(self.parts, 1):
            more = n < len(self.parts)
            await send({"type": "http.response.body", "body": part, "more_body": more})
