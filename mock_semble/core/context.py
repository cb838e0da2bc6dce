"""Per-request GraphQL context (who is calling, the payload errors collected) and the
two helpers every domain uses: :func:`authorise` and :func:`payload_error`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from .errors import RuleError
from .tenancy import Permission, Practice, Token, refusal

if TYPE_CHECKING:
    from strawberry.types import Info

    from .runtime import Runtime


@dataclass(slots=True)
class RequestContext:
    runtime: Runtime
    token: Token
    practice: Practice
    payload_errors: list[dict[str, Any]] = field(default_factory=list)
    validated: bool = False  # set by api.errors.ExecutionTracker
    operation_name: str | None = None  # as the client sent it


def forbidden(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def authorise(ctx: RequestContext, permission: Permission) -> None:
    """A FORBIDDEN error naming the missing permission, checked before any lookup."""
    reason = refusal(ctx.token, permission)
    if reason is not None:
        raise forbidden(reason)


def payload_error(info: Info[RequestContext, None], error: RuleError) -> str:
    """Record a payload error for ``extensions.payloadErrors``; return its message."""
    info.context.payload_errors.append(
        {
            "path": [info.path.key],
            "status": error.status,
            "code": error.code,
            "message": error.message,
        }
    )
    return error.message
