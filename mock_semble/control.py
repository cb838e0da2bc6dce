"""The control plane, ``/__mock/…`` (SPEC §4): JSON over HTTP, never in the schema.

Handlers stay small: decode and check the body, call the runtime, answer JSON.
Bad input is a 4xx ``{"error": …}``; an unknown id is a 404.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import __version__
from .clock import parse_datetime
from .config import ConfigError, parse_permissions
from .limits import parse_json
from .runtime import Runtime

Handler = Callable[[Request], Awaitable[Response]]
MAX_CONTROL_BODY = 16 * 1024 * 1024  # state documents can be large
ANY_METHOD = ["GET", "POST", "PUT", "DELETE", "PATCH"]


class BadRequest(Exception):
    """A control-plane refusal: status and a one-line reason."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


async def json_body(request: Request, *, allow_empty: bool = True) -> dict[str, Any]:
    """The request's JSON object; an empty body is ``{}`` where allowed."""
    try:
        body = await request.body()
    except ClientDisconnect:  # nobody reads the answer, but it is not a server fault
        raise BadRequest("the client closed the connection during the body") from None
    if len(body) > MAX_CONTROL_BODY:
        raise BadRequest("request body is too large", 413)
    if not body.strip():
        if allow_empty:
            return {}
        raise BadRequest("a JSON object body is required")
    try:
        data = parse_json(body)
    except ValueError:
        raise BadRequest("request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    return data


def field(data: dict[str, Any], name: str, kind: type, *, required: bool = False) -> Any:
    """``data[name]`` checked against ``kind`` (``None`` when absent and optional)."""
    value = data.get(name)
    if value is None:
        if required:
            raise BadRequest(f"'{name}' is required")
        return None
    # JSON true/false are Python ints too: only a bool field takes them.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise BadRequest(f"'{name}' must be a {kind.__name__.replace('str', 'string')}")
    return value


def guarded(handler: Handler) -> Handler:
    """Refuse without the admin token (when one is set); map BadRequest to 4xx."""

    async def endpoint(request: Request) -> Response:
        admin = runtime_of(request).settings.admin_token
        if admin is not None:
            given = request.headers.get("x-mock-admin-token", "")
            if not hmac.compare_digest(given.encode(), admin.encode()):
                return error("missing or invalid x-mock-admin-token", 401)
        try:
            return await handler(request)
        except BadRequest as exc:
            return error(exc.message, exc.status)

    endpoint.__name__ = handler.__name__
    return endpoint


async def health(request: Request) -> Response:
    runtime = runtime_of(request)
    return JSONResponse(
        {"status": "ok", "version": __version__, "uptimeSeconds": round(runtime.uptime(), 3)}
    )


async def reset(request: Request) -> Response:
    runtime = runtime_of(request)
    practice_id = request.query_params.get("practiceId")
    if practice_id is not None and practice_id not in runtime.store.practices:
        raise BadRequest(f"unknown practice {practice_id!r}", 404)
    runtime.reset(practice_id)
    return JSONResponse(
        {"reset": "practice" if practice_id else "all", "practiceId": practice_id},
        background=BackgroundTask(runtime.store.collect_garbage),  # free after answering
    )


def practice_json(practice: Any) -> dict[str, Any]:
    return {"id": practice.id, "name": practice.name, "webhooksEnabled": practice.webhooks_enabled}


async def create_practice(request: Request) -> Response:
    data = await json_body(request, allow_empty=False)
    name = field(data, "name", str, required=True)
    if not name.strip() or len(name) > 256:
        raise BadRequest("'name' must be 1 to 256 characters")
    enabled = field(data, "webhooksEnabled", bool)
    practice = runtime_of(request).store.add_practice(
        name, webhooks_enabled=True if enabled is None else enabled
    )
    return JSONResponse(practice_json(practice), status_code=201)


async def list_practices(request: Request) -> Response:
    store = runtime_of(request).store
    return JSONResponse({"practices": [practice_json(p) for p in store.practices.values()]})


async def create_token(request: Request) -> Response:
    data = await json_body(request, allow_empty=False)
    store = runtime_of(request).store
    practice_id = field(data, "practiceId", str, required=True)
    if practice_id not in store.practices:
        raise BadRequest(f"unknown practice {practice_id!r}", 404)
    try:
        permissions = parse_permissions(data.get("permissions"), "permissions")
    except ConfigError as exc:
        raise BadRequest(str(exc)) from None
    token = field(data, "token", str)
    if token is not None and (not token.strip() or len(token) > 512):
        raise BadRequest("'token' must be 1 to 512 characters")
    if token is not None and store.token(token) is not None:
        raise BadRequest("that token already exists", 409)
    record = store.add_token(practice_id, permissions, token=token)
    return JSONResponse(
        {
            "token": record.token,
            "practiceId": record.practice_id,
            "permissions": sorted(p.value for p in record.permissions),
        },
        status_code=201,
    )


async def clock(request: Request) -> Response:
    runtime = runtime_of(request)
    if request.method == "DELETE":
        runtime.clock.reset()
    elif request.method == "PUT":
        data = await json_body(request, allow_empty=False)
        if ("frozenAt" in data) == ("advanceSeconds" in data):
            raise BadRequest("give exactly one of 'frozenAt' or 'advanceSeconds'")
        if "frozenAt" in data:
            try:
                runtime.clock.freeze(parse_datetime(data["frozenAt"]))
            except (TypeError, ValueError, OverflowError):
                raise BadRequest("'frozenAt' must be an ISO-8601 timestamp") from None
        else:
            seconds = data["advanceSeconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise BadRequest("'advanceSeconds' must be a number")
            try:
                runtime.clock.advance(seconds)
            except OverflowError:
                raise BadRequest("'advanceSeconds' is out of range") from None
    return JSONResponse(runtime.clock.describe())


async def requests_journal(request: Request) -> Response:
    journal = runtime_of(request).requests
    if request.method == "DELETE":
        journal.clear()
        return JSONResponse({"requests": []})
    return JSONResponse({"requests": journal.entries()})


async def not_found(request: Request) -> Response:
    return error(f"no control-plane route {request.method} {request.url.path}", 404)


def routes(extra: list[Route] | None = None) -> list[Route]:
    """Every ``/__mock`` route; ``extra`` are contributed by the delivery engine etc."""
    from .snapshot import get_state, put_state  # snapshot imports this module

    table = [
        Route("/__mock/reset", guarded(reset), methods=["POST"]),
        Route("/__mock/practices", guarded(create_practice), methods=["POST"]),
        Route("/__mock/practices", guarded(list_practices), methods=["GET"]),
        Route("/__mock/tokens", guarded(create_token), methods=["POST"]),
        Route("/__mock/clock", guarded(clock), methods=["GET", "PUT", "DELETE"]),
        Route("/__mock/requests", guarded(requests_journal), methods=["GET", "DELETE"]),
        Route("/__mock/state", guarded(get_state), methods=["GET"]),
        Route("/__mock/state", guarded(put_state), methods=["PUT"]),
    ]
    return [
        Route("/__mock/health", health, methods=["GET"]),
        *table,
        *(extra or []),
        Route("/__mock/{rest:path}", guarded(not_found), methods=ANY_METHOD),
    ]
