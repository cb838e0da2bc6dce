"""GraphQL error mapping (SPEC §1.3): every error leaves with an ``extensions.code``.

Parse failures, validation failures and bad variable values keep their standard
messages; errors raised on purpose (FORBIDDEN) keep their code; anything else is an
unexpected fault and is masked so no internals or stack traces reach a client.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

log = logging.getLogger("mock_semble.graphql")

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"
MASKED_MESSAGE = "Internal server error."


def error_code(error: GraphQLError, *, validated: bool) -> str:
    """The code a client sees; ``validated`` says the document passed validation."""
    if isinstance(error, GraphQLSyntaxError) or isinstance(
        error.original_error, GraphQLSyntaxError
    ):
        return PARSE_FAILED
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if not validated:
        return VALIDATION_FAILED
    if error.path is None:
        return BAD_USER_INPUT  # variable coercion: wrong type, bad enum, missing non-null
    if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
        return INTERNAL
    return BAD_USER_INPUT


def format_error(error: GraphQLError, *, validated: bool) -> dict[str, Any]:
    code = error_code(error, validated=validated)
    if code == INTERNAL:
        log.error("unexpected error in %s", error.path, exc_info=error.original_error)
        formatted: dict[str, Any] = {"message": MASKED_MESSAGE}
        if error.path:
            formatted["path"] = error.path
        formatted["extensions"] = {"code": INTERNAL}
        return formatted
    result: dict[str, Any] = dict(error.formatted)
    result["message"] = without_found_value(result["message"])
    result["extensions"] = {**(result.get("extensions") or {}), "code": code}
    return result


# graphql-core ends input-value errors with "found: <the value as Python prints it>"
# ({'url': …}, ['A'], 'x'): Python's notation, and an echo of the whole input. Scalars
# and enums end theirs with "value: <Python repr>".
_FOUND = re.compile(r"(?:[,;]|(?<=[.?!]))\s*[Ff]ound: .*\Z", re.DOTALL)
_VALUE = re.compile(r"value: (?P<value>[\[{'\"].*|-?\d.*|None|True|False)\.\Z", re.DOTALL)


def without_found_value(message: str) -> str:
    """The message without graphql-core's trailing echo of the input value, and a
    scalar's value in JSON notation (``{"a":1}``, not Python's ``{'a': 1}``)."""
    cut = _FOUND.search(message)
    if cut is not None:
        head = message[: cut.start()]
        message = head if head.endswith((".", "?", "!")) else head + "."
    value = _VALUE.search(message)
    if value is None:
        return message
    try:  # graphql-core's inspect() output is a short Python literal, or cut ("…")
        text = json.dumps(ast.literal_eval(value["value"]), ensure_ascii=False)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return message[: value.start()].rstrip() + " value."
    return message[: value.start("value")] + text + "."


def request_error(message: str, code: str = "BAD_REQUEST") -> dict[str, Any]:
    """The body of an HTTP-level refusal (4xx) in GraphQL's error shape."""
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


MSG_OPERATION_NAME = "Must provide operation name if query contains multiple operations."


class ExecutionTracker(SchemaExtension):
    """Marks the request context once execution starts, i.e. the document parsed and
    validated; errors after that point are about input values or resolvers.

    It also refuses a document of several operations without ``operationName``, which
    the GraphQL spec makes an error (strawberry would run the first one)."""

    def on_parse(self) -> Iterator[None]:
        yield
        document = self.execution_context.graphql_document
        request = self.execution_context.context  # ours: strawberry's operation_name
        # property falls back to the document's first operation
        if document is not None and request is not None and request.operation_name is None:
            operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if operations > 1:
                raise GraphQLError(MSG_OPERATION_NAME)

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if context is not None:
            context.validated = True
        yield
