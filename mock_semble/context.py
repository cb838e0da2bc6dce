"""Per-request GraphQL context: who is calling, and the payload errors collected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from .model import Permission, Practice, Token

if TYPE_CHECKING:
    from strawberry.types import Info

    from .rules import RuleError
    from .runtime import Runtime

MSG_WEBHOOKS_DISABLED = "Webhooks are not enabled for this practice."


@dataclass(slots=True)
class RequestContext:
    runtime: Runtime
    token: Token
    practice: Practice
    payload_errors: list[dict[str, Any]] = field(default_factory=list)
    validated: bool = False  # set by errors.ExecutionTracker
    operation_name: str | None = None  # as the client sent it


def forbidden(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def refusal(ctx: RequestContext, permission: Permission) -> str | None:
    """Why ``ctx`` may not use ``permission`` (checked before any lookup: the permission,
    then the practice's webhooks switch), or None when it may."""
    if permission not in ctx.token.permissions:
        return f"Missing permission: {permission.value}"
    if not ctx.practice.webhooks_enabled:
        return MSG_WEBHOOKS_DISABLED
    return None


def require(info: Info[RequestContext, None], permission: Permission) -> RequestContext:
    """The request's context, or a FORBIDDEN error naming what is missing."""
    ctx = info.context
    reason = refusal(ctx, permission)
    if reason is not None:
        raise forbidden(reason)
    return ctx


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
