"""The control plane, ``/__mock/…`` (SPEC §4): JSON over HTTP, never in the schema.

Handlers stay small: decode and check the input, call the runtime, answer JSON. This
module holds the runtime's own routes and the route table; deliveries and state
documents have theirs in :mod:`.deliveries` and :mod:`.state`.
"""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.clock import ClockRangeError, parse_datetime
from ..core.errors import ConfigError
from ..core.tenancy import (
    TokenSeed,
    check_token_text,
    parse_permissions,
    practice_from_json,
    practice_json,
    user_from_json,
    user_json,
)
from ..core.version import __version__
from . import deliveries, faults, inspector, state
from .base import (
    BadRequest,
    error,
    field,
    guarded,
    json_body,
    only_params,
    page_params,
    runtime_of,
)

ANY_METHOD = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]
PRACTICE_FIELDS = (
    "name",
    "webhooksEnabled",
    "labels",
    "numberTypes",
    "memberships",
    "accessGroups",
)
TOKEN_FIELDS = ("practiceId", "permissions", "token", "user")


async def health(request: Request) -> Response:
    runtime = runtime_of(request)
    try:
        only_params(request, ())
    except BadRequest as exc:  # not guarded (health needs no admin token): answer here
        return error(exc.message, exc.status)
    return JSONResponse(
        {"status": "ok", "version": __version__, "uptimeSeconds": round(runtime.uptime(), 3)}
    )


async def reset(request: Request) -> Response:
    runtime = runtime_of(request)
    only_params(request, ("practiceId",))
    await json_body(request, allowed=())  # a body is not a way to name the practice
    practice_id = request.query_params.get("practiceId")
    if practice_id is not None and practice_id not in runtime.tenancy.practices:
        raise BadRequest(f"unknown practice {practice_id[:64]!r}", 404)
    runtime.reset(practice_id)
    return JSONResponse(
        {"reset": "practice" if practice_id else "all", "practiceId": practice_id},
        background=BackgroundTask(runtime.collect_garbage),  # free after answering
    )


async def create_practice(request: Request) -> Response:
    only_params(request, ())
    data = await json_body(request, allow_empty=False, allowed=PRACTICE_FIELDS)
    runtime = runtime_of(request)
    try:
        with runtime.lock:
            seed = practice_from_json(data, "practice", ids=runtime.ids, allow_id=False)
            practice = runtime.tenancy.add_practice(seed)
    except ConfigError as exc:
        raise BadRequest(str(exc)) from None
    return JSONResponse(practice_json(practice), status_code=201)


async def list_practices(request: Request) -> Response:
    only_params(request, ())
    tenancy = runtime_of(request).tenancy
    return JSONResponse({"practices": [practice_json(p) for p in tenancy.practices.values()]})


async def create_token(request: Request) -> Response:
    only_params(request, ())
    data = await json_body(request, allow_empty=False, allowed=TOKEN_FIELDS)
    runtime = runtime_of(request)
    tenancy = runtime.tenancy
    practice_id = field(data, "practiceId", str, required=True)
    if practice_id not in tenancy.practices:
        raise BadRequest(f"unknown practice {practice_id[:64]!r}", 404)
    try:
        permissions = parse_permissions(data.get("permissions"), "permissions")
        token = None if data.get("token") is None else check_token_text(data["token"], "token")
        user = (
            None
            if data.get("user") is None
            else user_from_json(data["user"], "user", ids=runtime.ids)
        )
    except ConfigError as exc:
        raise BadRequest(str(exc)) from None
    with runtime.lock:
        if token is not None and tenancy.token(token) is not None:
            raise BadRequest("that token already exists", 409)
        record = tenancy.add_token(TokenSeed(token or "", practice_id, permissions, user))
    return JSONResponse(
        {
            "token": record.token,
            "practiceId": record.practice_id,
            "permissions": sorted(p.value for p in record.permissions),
            "user": user_json(record.user),
        },
        status_code=201,
    )


async def clock(request: Request) -> Response:
    runtime = runtime_of(request)
    only_params(request, ())
    if request.method == "DELETE":
        runtime.clock.reset()
    elif request.method == "PUT":
        data = await json_body(request, allow_empty=False, allowed=("frozenAt", "advanceSeconds"))
        if ("frozenAt" in data) == ("advanceSeconds" in data):
            raise BadRequest("give exactly one of 'frozenAt' or 'advanceSeconds'")
        try:
            if "frozenAt" in data:
                try:
                    moment = parse_datetime(data["frozenAt"])
                except (TypeError, ValueError, OverflowError):
                    raise BadRequest("'frozenAt' must be an ISO-8601 timestamp") from None
                runtime.clock.freeze(moment)
            else:
                seconds = data["advanceSeconds"]
                if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                    raise BadRequest("'advanceSeconds' must be a number")
                runtime.clock.advance(seconds)
        except ClockRangeError as exc:
            raise BadRequest(str(exc)) from None
    return JSONResponse(runtime.clock.describe())


async def requests_journal(request: Request) -> Response:
    journal = runtime_of(request).requests
    if request.method == "DELETE":
        only_params(request, ())
        journal.clear()
        return JSONResponse({"requests": [], "next": None})
    only_params(request, ("limit", "after"))
    limit, after = page_params(request)
    entries, cursor = journal.page(limit, after)
    return JSONResponse({"requests": entries, "next": cursor})


async def not_found(request: Request) -> Response:
    return error(f"no control-plane route {request.method} {request.url.path[:200]}", 404)


def routes() -> list[Route]:
    """Every ``/__mock`` route."""
    table = [
        Route("/__mock/reset", guarded(reset), methods=["POST"]),
        Route("/__mock/practices", guarded(create_practice), methods=["POST"]),
        Route("/__mock/practices", guarded(list_practices), methods=["GET"]),
        Route("/__mock/tokens", guarded(create_token), methods=["POST"]),
        Route("/__mock/clock", guarded(clock), methods=["GET", "PUT", "DELETE"]),
        Route("/__mock/requests", guarded(requests_journal), methods=["GET", "DELETE"]),
        *deliveries.routes(),
        *faults.routes(),
        *state.routes(),
        *inspector.routes(),
    ]
    return [
        Route("/__mock/health", health, methods=["GET"]),
        *table,
        Route("/__mock/{rest:path}", guarded(not_found), methods=ANY_METHOD),
    ]
