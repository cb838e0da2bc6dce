"""What ``/graphql`` does about ``--rate-limit`` and API fault rules (SPEC §4.1).

Called once the body is read and the token authenticated (a 401 stays a 401): first
the rate limit, then the first fault rule that answers. A faulted request never
executes; ``delay`` waits (without blocking other requests) and then lets it run.
Nothing here knows a domain: rules match on the request's operation name, root fields,
practice and token only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from ..core.faults import API, FaultRule, fault_rules
from ..core.runtime import Runtime
from .errors import request_error
from .ratelimit import RATE_LIMITED_CODE, RATE_LIMITED_MESSAGE, rate_limiter

DROPPED = 0  # the journal's status of a dropped request: no response (as browsers report it)
MAX_TOKENS = 10_000  # as the GraphQL limits: a rule never parses more than a request may hold
CACHED_QUERY = 16 * 1024  # longer documents are parsed per request, not kept
EDGE_BLOCKED_HTML = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
    "<center><h1>403 Forbidden</h1></center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True, slots=True)
class FaultOutcome:
    """The rate limit's or a rule's answer. ``response`` None: run the request (no
    fault, or a ``delay`` that has waited); ``content`` feeds the journal's codes."""

    rule_id: str | None = None
    status: int = 200
    content: dict[str, Any] = field(default_factory=dict)
    response: Response | None = None


NO_FAULT = FaultOutcome()


def rate_limited_content() -> dict[str, Any]:
    return request_error(RATE_LIMITED_MESSAGE, RATE_LIMITED_CODE) | {"data": None}


async def apply_api_faults(
    runtime: Runtime, token: str, practice_id: str, operation_name: str | None, query: str
) -> FaultOutcome:
    """The rate limit, then the first API rule that answers this request."""
    limiter = rate_limiter(runtime)
    if limiter is not None and not limiter.admit(token, practice_id):
        content = rate_limited_content()
        return FaultOutcome(None, 200, content, JSONResponse(content))

    def facts(key: str) -> Collection[str]:
        if key == "field":
            return root_fields(query, operation_name)
        value = {"operationName": operation_name, "practiceId": practice_id, "token": token}
        found = value.get(key)
        return () if found is None else (found,)

    rule = fault_rules(runtime).take(API, facts)
    if rule is None:
        return NO_FAULT
    if rule.type == "delay":
        await asyncio.sleep(rule.action["ms"] / 1000)
        return FaultOutcome(rule.id)
    return answer(rule)


def answer(rule: FaultRule) -> FaultOutcome:
    """The response of an answering (not delaying) rule."""
    action = rule.action
    kind = rule.type
    if kind == "graphql_error":
        content = request_error(action["message"], action["code"]) | {"data": None}
        return FaultOutcome(rule.id, 200, content, JSONResponse(content))
    if kind == "rate_limited":
        content = rate_limited_content()
        return FaultOutcome(rule.id, 200, content, JSONResponse(content))
    if kind == "edge_blocked":
        return FaultOutcome(rule.id, 403, {}, HTMLResponse(EDGE_BLOCKED_HTML, status_code=403))
    if kind == "drop":
        return FaultOutcome(rule.id, DROPPED, {}, DroppedConnection())
    status = action["status"]  # "http"
    return FaultOutcome(rule.id, status, {}, http_response(action))


def http_response(action: Mapping[str, Any]) -> Response:
    """``{"type":"http","status","body"?,"contentType"?}``: a string body goes as it
    is (default ``text/plain``); any other JSON value is sent as JSON."""
    body = action.get("body")
    media_type = action.get("contentType")
    if body is None:
        return Response(b"", status_code=action["status"], media_type=media_type)
    if isinstance(body, str):
        return Response(body, status_code=action["status"], media_type=media_type or "text/plain")
    response = JSONResponse(body, status_code=action["status"])
    if media_type is not None:
        response.headers["content-type"] = media_type
    return response


class DroppedConnection(Response):
    """Closes the connection without a byte of response. With uvicorn the transport is
    reached through ``receive`` (the server's own bound method); with another server the
    response is started and left unfinished, which makes the server close it."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        if isinstance(transport, asyncio.BaseTransport):
            transport.close()
            # Let the server see the connection lost before the app returns, so it does
            # not try to answer a request that has no connection left.
            for _ in range(3):
                await asyncio.sleep(0)
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]}
        )


def root_fields(query: str, operation_name: str | None) -> frozenset[str]:
    """Names of the root fields the request selects (fragments at the root followed);
    empty when the document does not parse or names no single operation."""
    if len(query) <= CACHED_QUERY:
        return _cached_root_fields(query, operation_name)
    return _root_fields(query, operation_name)


@lru_cache(maxsize=256)
def _cached_root_fields(query: str, operation_name: str | None) -> frozenset[str]:
    return _root_fields(query, operation_name)


def _root_fields(query: str, operation_name: str | None) -> frozenset[str]:
    try:
        document = parse(query, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return frozenset()
    operation = _operation(document, operation_name)
    if operation is None:
        return frozenset()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names: set[str] = set()
    _collect(operation.selection_set, fragments, names, set())
    return frozenset(names)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        named = [op for op in operations if op.name is not None and op.name.value == name]
        return named[0] if named else None
    return operations[0] if len(operations) == 1 else None


def _collect(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    names: set[str],
    visited: set[str],
) -> None:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            _collect(selection.selection_set, fragments, names, visited)
        elif isinstance(selection, FragmentSpreadNode):
            spread = selection.name.value
            if spread not in visited and spread in fragments:
                visited.add(spread)
                _collect(fragments[spread].selection_set, fragments, names, visited)
