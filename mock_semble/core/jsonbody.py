"""Request bodies, for ``/graphql`` and the control plane alike (SPEC §7).

:func:`read_body` streams a body and stops at 1 MiB (413) without holding more;
:func:`parse_json` refuses what the mock could store but never send back (lone
surrogates, NaN) or cannot parse without running out of stack (deep nesting).
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from starlette.requests import ClientDisconnect, Request

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 64  # request bodies nest 5 deep at most (a state document)


class BodyError(Exception):
    """A body that cannot be read: HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


MSG_TOO_LARGE = "Request body is larger than 1 MiB."


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, read as a stream and cut at ``limit`` bytes (413)."""
    if request.headers.get("content-encoding", "identity").strip().lower() != "identity":
        raise BodyError(415, "Content-Encoding not supported; send the body uncompressed.")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BodyError(400, "Invalid Content-Length header.")
        if int(declared) > limit:
            raise BodyError(413, MSG_TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyError(413, MSG_TOO_LARGE)
            chunks.append(chunk)
    except ClientDisconnect:  # nobody reads the answer, but it is not a server fault
        raise BodyError(400, "The client closed the connection during the body.") from None
    return b"".join(chunks)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json(body: bytes) -> Any:
    """A request body's JSON, or ValueError: UTF-8 (a BOM is tolerated), no NaN or
    Infinity, nested at most MAX_JSON_DEPTH deep, and no lone UTF-16 surrogate
    (``"\\ud800"`` decodes to a string that cannot be encoded as UTF-8 again, so every
    later answer that contains it would fail)."""
    text = body.decode("utf-8-sig")  # UnicodeDecodeError is a ValueError
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON is nested too deeply") from None
    # Cheap tests first: only a body with this many brackets can be this deep.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH or _SURROGATE_ESCAPE.search(text):
        _check_tree(data)
    return data


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _check_tree(data: Any) -> None:
    """Depth and strings of a decoded document, without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError("JSON is nested too deeply")
        if isinstance(value, str):
            value.encode("utf-8")  # UnicodeEncodeError (a ValueError): a lone surrogate
        elif isinstance(value, dict):
            for key, item in value.items():
                key.encode("utf-8")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
