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
from ..core.jsonbody import BodyError, TooComplex, parse_json, read_body
from ..core.logs import printable
from ..core.runtime import Runtime
from ..core.server import is_loopback
from .errors import VALIDATION_FAILED, format_error, request_error
from .fastpath import FastPath
from .faults import NO_FAULT, apply_api_faults
from .graphiql import render_graphiql
from .response import JSONParts, ResponseBudget, ResponseTooLarge, encode_content, too_large
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


def document_operation_name(query: str) -> str | None:
    """The name of the document's first operation (``query Name { … }``), read from
    its first tokens only: many clients name operations in the text alone."""
    return _first_operation_name(query[:4096])  # the cache holds no whole documents


@lru_cache(maxsize=1024)
def _first_operation_name(head: str) -> str | None:
    try:
        lexer = Lexer(Source(head))
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
    except TooComplex as exc:
        raise Refusal(400, str(exc)) from None
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


ALLOW = {"Allow": "GET, POST"}
# Routed to the endpoint so that each gets the errors[] shape, not the router's 405.
GRAPHQL_METHODS = ["GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]


def method_not_allowed(method: str) -> Response:
    """405 for every method but POST (and GET, for GraphiQL): nothing runs, nothing is
    journaled. HEAD has no body; the others answer in the ``errors[]`` shape."""
    if method == "HEAD":
        return Response(status_code=405, headers=ALLOW)
    message = f"{printable(method, 16)} is not supported: send GraphQL operations with POST."
    return JSONResponse(request_error(message), status_code=405, headers=ALLOW)


def graphiql_token(runtime: Runtime) -> str | None:
    """The token GraphiQL pre-fills: the default one, only when the server listens on
    loopback (anyone who can open the page elsewhere would be handed it)."""
    return runtime.default_token if is_loopback(runtime.settings.host) else None


async def graphql_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    api: GraphQLApi = request.app.state.api
    if request.method != "POST":
        if request.method == "GET" and wants_html(request):
            return HTMLResponse(render_graphiql(graphiql_token(runtime)))
        if request.method == "GET":
            return JSONResponse(
                request_error("Send GraphQL operations with POST and a JSON body."),
                status_code=405,
                headers=ALLOW,
            )
        return method_not_allowed(request.method)
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    practice_id: str | None = None
    fault = NO_FAULT  # the rate limit's or a fault rule's answer (SPEC §4.1)
    body_size = 0
    encoded: list[bytes] | None = None  # the answer's body, built within the budget
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
            budget = ResponseBudget()
            try:
                status, content = await execute(api, query, variables, context, budget=budget)
                encoded = await encode_content(content, budget)
            except ResponseTooLarge:  # replaced whole: nothing partial is sent
                status, content = 200, too_large()
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
    if encoded is None:
        return JSONResponse(content, status_code=status)
    return JSONParts(encoded, status_code=status)


async def execute(
    api: GraphQLApi,
    query: str,
    variables: dict[str, Any] | None,
    context: RequestContext,
    *,
    fast_path: bool = True,
    budget: ResponseBudget | None = None,
) -> tuple[int, dict[str, Any]]:
    """Run a document for ``context`` (the operation it names, as the client sent it).
    With a ``budget``, values may come encoded (:class:`RawJSON`, for
    :func:`encode_content`); ResponseTooLarge when the answer passes it."""
    operation_name = context.operation_name
    if fast_path:  # plain documents answered from a compiled plan (see fastpath.py)
        compiled = api.fast_path.compile(query, operation_name)
        if compiled is not None:
            answer = await compiled.run(variables, context, budget)
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
    if any(isinstance(e.original_error, ResponseTooLarge) for e in result.errors or ()):
        raise ResponseTooLarge  # the executor stopped at the limit (see executor.py)
    content: dict[str, Any] = {"data": result.data}
    if result.errors:
        content["errors"] = [format_error(e, validated=context.validated) for e in result.errors]
    if context.payload_errors:
        content["extensions"] = {"payloadErrors": context.payload_errors}
    return 200, content
