"""What every control-plane handler shares: JSON bodies, field checks, the admin guard.

Bad input is a 4xx ``{"error": …}``; unknown query parameters and body fields are
refused naming them; an unknown id is a 404 (SPEC §4).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ..core.jsonbody import BodyError, TooComplex, parse_json, read_body
from ..core.runtime import Runtime

Handler = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")
JSON = "application/json"
SLICE = 256  # items encoded between two turns of the event loop
MSG_UNAUTHORISED = "missing or invalid x-mock-admin-token"


class BadRequest(Exception):
    """A control-plane refusal: status and a one-line reason."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def runtime_of(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


def only_params(request: Request, allowed: Iterable[str]) -> None:
    """Refuse query parameters the route does not know (a typo must not widen an action)."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        known = ", ".join(allowed) or "none"
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)[:200]} (known: {known})")


def only_fields(data: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)[:200]}")


async def json_body(
    request: Request, *, allow_empty: bool = True, allowed: Iterable[str] | None = None
) -> dict[str, Any]:
    """The request's JSON object (streamed, cut at 1 MiB); an empty body is ``{}`` where
    allowed; with ``allowed``, unknown fields are refused."""
    try:
        body = await read_body(request)
    except BodyError as exc:
        raise BadRequest(exc.message, exc.status) from None
    if not body.strip():
        if allow_empty:
            return {}
        raise BadRequest("a JSON object body is required")
    try:
        data = parse_json(body)
    except TooComplex as exc:
        raise BadRequest(str(exc)) from None
    except ValueError:
        raise BadRequest("request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    if allowed is not None:
        only_fields(data, allowed)
    return data


# Refusals name JSON types: a control-plane caller never sees Python's "dict".
_JSON_KINDS: dict[type, str] = {
    str: "a string",
    dict: "an object",
    bool: "a boolean",
    int: "an integer",
}


def field(data: dict[str, Any], name: str, kind: type, *, required: bool = False) -> Any:
    """``data[name]`` checked against ``kind`` (``None`` when absent and optional)."""
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(f"'{name}' is required")
        return None
    # JSON true/false are Python ints too: only a bool field takes them.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise BadRequest(f"'{name}' must be {_JSON_KINDS.get(kind, kind.__name__)}")
    return value


def admin_refusal(request: Request) -> Response | None:
    """The 401 when an admin token is set and the request lacks it."""
    admin = runtime_of(request).settings.admin_token
    if admin is None:
        return None
    given = request.headers.get("x-mock-admin-token", "")
    if hmac.compare_digest(given.encode(), admin.encode()):
        return None
    return error(MSG_UNAUTHORISED, 401)


def guarded(handler: Handler) -> Handler:
    """Refuse without the admin token (when one is set); map BadRequest to 4xx."""

    async def endpoint(request: Request) -> Response:
        refusal = admin_refusal(request)
        if refusal is not None:
            return refusal
        try:
            return await handler(request)
        except BadRequest as exc:
            return error(exc.message, exc.status)

    endpoint.__name__ = handler.__name__
    return endpoint


DEFAULT_PAGE = 100
MAX_PAGE = 1000


def page_params(request: Request) -> tuple[int, int | None]:
    """``limit`` (default 100, 1..1000) and ``after`` (a cursor from ``next``)."""
    params = request.query_params
    raw_limit, raw_after = params.get("limit"), params.get("after")
    limit = DEFAULT_PAGE
    if raw_limit is not None:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
            raise BadRequest(f"'limit' must be an integer from 1 to {MAX_PAGE}")
        limit = int(raw_limit)
    after = None
    if raw_after is not None:
        if not raw_after.isdigit() or len(raw_after) > 18:
            raise BadRequest("'after' must be the 'next' cursor of a previous page")
        after = int(raw_after)
    return limit, after


def encode_json(value: Any) -> bytes:
    """As Starlette's JSONResponse renders: compact, UTF-8, no NaN."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


async def list_response(
    key: str, items: Sequence[T], to_json: Callable[[T], Any], status: int = 200
) -> Response:
    """``{key: [to_json(item), …]}``, encoded a slice at a time with a turn for other
    requests in between (SPEC §7: 10⁵ items must not hold the loop), sent in parts."""
    parts = [b"{" + encode_json(key) + b":["]
    for start in range(0, len(items), SLICE):
        if start:
            await asyncio.sleep(0)
        text = encode_json([to_json(item) for item in items[start : start + SLICE]])[1:-1]
        parts.append((b"," if start else b"") + text)
    parts.append(b"]}")
    return parts_response(parts, status)


def parts_response(parts: list[bytes], status: int = 200) -> Response:
    """A JSON body sent part after part: joining 10⁵ records' worth would hold the loop."""

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    length = str(sum(map(len, parts)))
    return StreamingResponse(
        body(), status_code=status, media_type=JSON, headers={"Content-Length": length}
    )
