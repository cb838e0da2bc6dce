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
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # brackets inside strings do not nest
_INNERMOST = re.compile(r"[\[{][^\[\]{}]*[\]}]")  # an array or object with none inside
MAX_CONTAINERS = 100_000  # arrays and objects in one body


class TooComplex(ValueError):
    """Valid JSON with more arrays and objects than a request body may have."""


MSG_TOO_COMPLEX = f"Request body has more than {MAX_CONTAINERS} JSON arrays and objects."


def parse_json(body: bytes, max_containers: int | None = MAX_CONTAINERS) -> Any:
    """A request body's JSON, or ValueError: UTF-8 (a BOM is tolerated), no NaN or
    Infinity, nested at most MAX_JSON_DEPTH deep, at most MAX_CONTAINERS arrays and
    objects (TooComplex; ``None``: any number, for a state file read at start-up), and
    no lone UTF-16 surrogate (``"\\ud800"`` decodes to a string that cannot be encoded as
    UTF-8 again, so every later answer that contains it would fail).

    Depth and size are judged on the text, before decoding, by regular expressions
    (C speed): decoding 1 MiB of ``[[]]`` makes 0.3 million lists, and walking them
    in Python held the event loop for most of a second."""
    text = body.decode("utf-8-sig")  # UnicodeDecodeError is a ValueError
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:  # else it cannot be too deep
        _check_structure(text, max_containers)
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON is nested too deeply") from None
    if _SURROGATE_ESCAPE.search(text):  # a lone one fails to encode (UnicodeEncodeError)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    return data


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _check_structure(text: str, max_containers: int | None) -> None:
    """At most MAX_CONTAINERS arrays and objects, nested at most MAX_JSON_DEPTH deep:
    each pass removes the innermost ones, so MAX_JSON_DEPTH passes empty any document
    that is not deeper (invalid JSON is left for the decoder to refuse)."""
    bare = _STRINGS.sub("", text)
    if max_containers is not None and bare.count("[") + bare.count("{") > max_containers:
        raise TooComplex(MSG_TOO_COMPLEX)
    for _ in range(MAX_JSON_DEPTH):
        bare, found = _INNERMOST.subn("", bare)
        if not found:
            return
    if "[" in bare or "{" in bare:
        raise ValueError("JSON is nested too deeply")
