"""``/graphql`` over HTTP: body limits, authentication, execution and the response.

Order of checks: method, body (size, content type, JSON shape), token; then the
GraphQL pipeline. HTTP-level refusals are 4xx in GraphQL's error shape; everything
after authentication is a 200 with ``errors``/``extensions`` (SPEC §1.3).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from .clock import format_datetime
from .context import RequestContext
from .errors import VALIDATION_FAILED, format_error, request_error
from .fastpath import compile_document
from .limits import parse_json
from .runtime import Runtime
from .schema import schema

MAX_BODY_BYTES = 1024 * 1024
MSG_MISSING_TOKEN = "Missing token."
MSG_INVALID_TOKEN = "Invalid token."


class Refusal(Exception):
    """An HTTP-level refusal of a GraphQL request."""

    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def read_token(request: Request) -> str | None:
    """The raw ``x-token``; a leading ``Bearer `` is tolerated and stripped."""
    token = request.headers.get("x-token")
    if token is None:
        return None
    token = token.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token or None


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Refusal(400, "Invalid Content-Length header.")
        if int(declared) > MAX_BODY_BYTES:
            raise Refusal(413, "Request body is larger than 1 MiB.", "PAYLOAD_TOO_LARGE")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise Refusal(413, "Request body is larger than 1 MiB.", "PAYLOAD_TOO_LARGE")
            chunks.append(chunk)
    except ClientDisconnect:  # nobody reads the answer, but it is not a server fault
        raise Refusal(400, "The client closed the connection during the body.") from None
    return b"".join(chunks)


def parse_request(body: bytes, content_type: str) -> tuple[str, dict[str, Any] | None, str | None]:
    """``{query, variables?, operationName?}`` from a JSON body, or a Refusal."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in ("application/json", "application/graphql-response+json"):
        raise Refusal(415, "Content-Type must be application/json.", "UNSUPPORTED_MEDIA_TYPE")
    try:
        payload = parse_json(body)
    except ValueError:
        raise Refusal(400, "Request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise Refusal(400, "Request body must be a JSON object.")
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        raise Refusal(400, "Request body must contain a non-empty 'query' string.")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise Refusal(400, "'variables' must be a JSON object.")
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise Refusal(400, "'operationName' must be a string.")
    return query, variables, operation_name


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def graphql_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    if request.method == "GET":
        if wants_html(request):
            from .graphiql import render_graphiql

            return HTMLResponse(render_graphiql(runtime.settings.default_token))
        return JSONResponse(
            request_error("Send GraphQL operations with POST and a JSON body."),
            status_code=405,
            headers={"Allow": "GET, POST"},
        )
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    practice_id: str | None = None
    body_size = 0
    try:
        body = await read_body(request)
        body_size = len(body)
        query, variables, operation_name = parse_request(
            body, request.headers.get("content-type", "")
        )
        request.state.operation_name = operation_name
        token_text = read_token(request)
        if token_text is None:
            raise Refusal(401, MSG_MISSING_TOKEN, "UNAUTHENTICATED")
        token = runtime.store.token(token_text)
        if token is None:
            raise Refusal(401, MSG_INVALID_TOKEN, "UNAUTHENTICATED")
        practice = runtime.store.practices[token.practice_id]
        practice_id = practice.id
        context = RequestContext(runtime, token, practice, operation_name=operation_name)
        status, content = await execute(query, variables, operation_name, context)
    except Refusal as refusal:
        status, content = refusal.status, request_error(refusal.message, refusal.code)
    runtime.requests.record(
        at=format_datetime(runtime.clock.now()),
        operation_name=operation_name,
        variables=variables,
        practice_id=practice_id,
        status=status,
        error_codes=[e["extensions"]["code"] for e in content.get("errors", ())]
        + [e["code"] for e in content.get("extensions", {}).get("payloadErrors", ())],
        body_size=body_size,
    )
    return JSONResponse(content, status_code=status)


async def execute(
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: RequestContext,
    *,
    fast_path: bool = True,
) -> tuple[int, dict[str, Any]]:
    if fast_path:  # plain documents answered from a compiled plan (see fastpath.py)
        compiled = compile_document(query, operation_name)
        if compiled is not None:
            content = compiled.run(variables, context)
            if content is not None:
                return 200, content
    try:
        result = await schema.execute(
            query, variable_values=variables, context_value=context, operation_name=operation_name
        )
    except MissingQueryError:
        raise Refusal(400, "Request body must contain a non-empty 'query' string.") from None
    except (CannotGetOperationTypeError, InvalidOperationTypeError) as exc:
        message = (
            exc.as_http_error_reason()
            if isinstance(exc, CannotGetOperationTypeError)
            else "Only queries and mutations are supported."
        )
        return 200, request_error(message, VALIDATION_FAILED) | {"data": None}
    content: dict[str, Any] = {"data": result.data}
    if result.errors:
        content["errors"] = [format_error(e, validated=context.validated) for e in result.errors]
    if context.payload_errors:
        content["extensions"] = {"payloadErrors": context.payload_errors}
    return 200, content
