"""``/graphql`` over HTTP: body limits, authentication, execution and the response.

Order of checks: method, body (size, content type, JSON shape), token; then the
GraphQL pipeline. HTTP-level refusals are 4xx in GraphQL's error shape; everything
after authentication is a 200 with ``errors``/``extensions`` (SPEC §1.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import GraphQLError, Source, TokenKind
from graphql.language.lexer import Lexer
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from ..core.clock import format_datetime
from ..core.context import RequestContext
from ..core.jsonbody import BodyError, parse_json, read_body
from ..core.runtime import Runtime
from .errors import VALIDATION_FAILED, format_error, request_error
from .fastpath import FastPath
from .faults import NO_FAULT, apply_api_faults
from .graphiql import render_graphiql
from .schema import MockSchema

MSG_MISSING_TOKEN = "Missing token."
# A client that sends its token the OAuth way learns where Semble expects it.
MSG_MISSING_TOKEN_BEARER = "Missing token. Send it in the x-token header."
MSG_INVALID_TOKEN = "Invalid token."


@dataclass(slots=True)
class GraphQLApi:
    """What ``/graphql`` serves: the schema of the chosen API version and its fast path."""

    schema: MockSchema
    fast_path: FastPath = field(init=False)

    def __post_init__(self) -> None:
        self.fast_path = FastPath(self.schema)


@lru_cache(maxsize=1024)
def document_operation_name(query: str) -> str | None:
    """The name of the document's first operation (``query Name { … }``), read from
    its first tokens only: many clients name operations in the text alone."""
    try:
        lexer = Lexer(Source(query[:4096]))
        first = lexer.advance()
        if first.kind is not TokenKind.NAME or first.value not in OPERATION_KEYWORDS:
            return None
        second = lexer.advance()
    except GraphQLError:
        return None
    return second.value if second.kind is TokenKind.NAME else None


OPERATION_KEYWORDS = ("query", "mutation", "subscription")


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


async def root_redirect(request: Request) -> Response:
    """``GET /``: to ``/graphql``, where a browser opens GraphiQL."""
    return RedirectResponse("/graphql", status_code=307)


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


async def graphql_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    api: GraphQLApi = request.app.state.api
    if request.method == "GET":
        if wants_html(request):
            return HTMLResponse(render_graphiql(runtime.default_token))
        return JSONResponse(
            request_error("Send GraphQL operations with POST and a JSON body."),
            status_code=405,
            headers={"Allow": "GET, POST"},
        )
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    practice_id: str | None = None
    fault = NO_FAULT  # the rate limit's or a fault rule's answer (SPEC §4.1)
    body_size = 0
    try:
        try:
            body = await read_body(request)
        except BodyError as exc:
            code = {413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}.get(exc.status)
            raise Refusal(exc.status, exc.message, code or "BAD_REQUEST") from None
        body_size = len(body)
        query, variables, operation_name = parse_request(
            body, request.headers.get("content-type", "")
        )
        request.state.operation_name = operation_name
        token_text = read_token(request)
        if token_text is None:
            bearer = request.headers.get("authorization", "")[:7].lower() == "bearer "
            message = MSG_MISSING_TOKEN_BEARER if bearer else MSG_MISSING_TOKEN
            raise Refusal(401, message, "UNAUTHENTICATED")
        token = runtime.tenancy.token(token_text)
        if token is None:
            raise Refusal(401, MSG_INVALID_TOKEN, "UNAUTHENTICATED")
        practice = runtime.tenancy.practices[token.practice_id]
        practice_id = practice.id
        context = RequestContext(runtime, token, practice, operation_name=operation_name)
        if operation_name is None:
            operation_name = document_operation_name(query)
        fault = await apply_api_faults(runtime, token_text, practice_id, operation_name, query)
        if fault.response is None:  # no fault, or a delay that has waited
            status, content = await execute(api, query, variables, context)
        else:
            status, content = fault.status, fault.content
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
        fault=fault.rule_id,
    )
    if fault.response is not None:
        return fault.response
    return JSONResponse(content, status_code=status)


async def execute(
    api: GraphQLApi,
    query: str,
    variables: dict[str, Any] | None,
    context: RequestContext,
    *,
    fast_path: bool = True,
) -> tuple[int, dict[str, Any]]:
    """Run a document for ``context`` (the operation it names, as the client sent it)."""
    operation_name = context.operation_name
    if fast_path:  # plain documents answered from a compiled plan (see fastpath.py)
        compiled = api.fast_path.compile(query, operation_name)
        if compiled is not None:
            answer = await compiled.run(variables, context)
            if answer is not None:
                if context.payload_errors:
                    answer["extensions"] = {"payloadErrors": context.payload_errors}
                return 200, answer
    try:
        result = await api.schema.execute(
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
