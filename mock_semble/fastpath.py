"""A compiled fast path for plain webhook operations (an optimisation, never a contract).

graphql-core's executor costs ~400 µs for a 10-item ``webhooks`` list (10 objects x 8
fields through complete_value/execute_field, plus strawberry's extension hooks): more
than the whole of a bare Starlette request. Most documents clients send are plain: one
operation, fields with no fragments, directives or duplicate response keys. Such a
document is parsed and validated once, compiled into a small plan, and later requests
with it build their answer straight from the store.

Only the success path is compiled. Anything else — a document that is not plain or
not valid, variables that do not coerce, a missing permission, disabled webhooks, a
rule broken — returns ``None`` and the request runs through the full strawberry
pipeline, which produces the error exactly as before. A mutation plan has exactly one
root field and gives up before changing anything, so running the full path after it
is safe (a rule error changes nothing and consumes no id).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values

from . import webhooks
from .clock import format_datetime
from .context import refusal
from .limits import LIMIT_RULES, MAX_CACHED_QUERY, MAX_TOKENS
from .model import Permission, Subscription
from .rules import RuleError
from .schema import schema

if TYPE_CHECKING:
    from .context import RequestContext

Plan = list[tuple[str, str, Any]]  # (response key, field name, sub-plan or None)
Answer = dict[str, Any]

SUBSCRIPTION_FIELDS: dict[str, Callable[[Subscription, bool], Any]] = {
    "id": lambda s, _: s.id,
    "secret": lambda s, secret: s.secret if secret else None,
    "url": lambda s, _: s.url,
    "label": lambda s, _: s.label,
    "eventTypes": lambda s, _: [e.value for e in s.event_types],
    "version": lambda s, _: s.version,
    "createdAt": lambda s, _: format_datetime(s.created_at),
    "updatedAt": lambda s, _: format_datetime(s.updated_at),
    "deleted": lambda s, _: s.deleted,
    "deliveryPaused": lambda s, _: s.delivery_paused,
}
ROOT_FIELDS = {
    OperationType.QUERY: {"webhooks", "webhook"},
    OperationType.MUTATION: {"createWebhook", "updateWebhook", "deleteWebhook"},
}
PAYLOAD_TYPES = {
    "createWebhook": "CreateWebhookPayload",
    "updateWebhook": "UpdateWebhookPayload",
    "deleteWebhook": "DeleteWebhookPayload",
}


class NotPlain(Exception):
    """The document uses something the fast path does not compile."""


def _selections(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    if selection_set is None:
        raise NotPlain
    fields = []
    keys = set()
    for node in selection_set.selections:
        if not isinstance(node, FieldNode) or node.directives:
            raise NotPlain
        key = node.alias.value if node.alias else node.name.value
        if key in keys:
            raise NotPlain  # graphql merges same-key fields: leave that to it
        keys.add(key)
        fields.append(node)
    return fields


def _plan(selection_set: SelectionSetNode | None, type_name: str) -> Plan:
    plan: Plan = []
    for node in _selections(selection_set):
        name = node.name.value
        key = node.alias.value if node.alias else name
        if node.arguments:
            raise NotPlain
        sub: Any = None
        if name == "__typename":
            sub = type_name
        elif type_name == "WebhookSubscription" and name == "headers":
            sub = _plan(node.selection_set, "WebhookHeader")
        elif type_name.endswith("Payload") and name == "data":
            sub = _plan(node.selection_set, "WebhookSubscription")
        elif node.selection_set is not None:
            raise NotPlain
        plan.append((key, name, sub))
    return plan


def _project(sub: Subscription, plan: Plan, secret: bool) -> Answer:
    out: Answer = {}
    for key, name, inner in plan:
        if name == "__typename":
            out[key] = inner
        elif name == "headers":
            out[key] = (
                None if sub.headers is None else [_header(k, v, inner) for k, v in sub.headers]
            )
        else:
            out[key] = SUBSCRIPTION_FIELDS[name](sub, secret)
    return out


def _header(key: str, value: str, plan: Plan) -> Answer:
    fields = {"key": key, "value": value, "__typename": "WebhookHeader"}
    return {k: fields[name] for k, name, _ in plan}


def _payload(sub: Subscription, plan: Plan, secret: bool, type_name: str) -> Answer:
    out: Answer = {}
    for key, name, inner in plan:
        if name == "data":
            out[key] = _project(sub, inner, secret)
        elif name == "error":
            out[key] = None
        else:
            out[key] = type_name
    return out


class Compiled:
    def __init__(self, operation: OperationDefinitionNode) -> None:
        self.operation = operation
        self.kind = operation.operation
        root_type = schema._schema.get_root_type(self.kind)
        assert root_type is not None
        self.roots = []
        for node in _selections(operation.selection_set):
            name = node.name.value
            if name not in ROOT_FIELDS.get(self.kind, ()):
                raise NotPlain
            type_name = PAYLOAD_TYPES.get(name, "WebhookSubscription")
            key = node.alias.value if node.alias else name
            plan = _plan(node.selection_set, type_name)
            self.roots.append((key, name, node, root_type.fields[name], plan))
        if self.kind == OperationType.MUTATION and len(self.roots) != 1:
            raise NotPlain  # one side effect per document, so giving up stays safe

    def run(self, variables: dict[str, Any] | None, ctx: RequestContext) -> Answer | None:
        coerced = get_variable_values(
            schema._schema, self.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return None
        data: Answer = {}
        try:
            for key, name, node, field_def, plan in self.roots:
                args = get_argument_values(field_def, node, coerced)
                value = RESOLVERS[name](ctx, args, plan)
                if value is GIVE_UP:
                    return None
                data[key] = value
        except (GraphQLError, RuleError):
            # The full path answers these. Safe for mutations too: the store validates
            # before it writes, so a refused mutation changed nothing.
            return None
        except Exception:
            if self.kind is OperationType.MUTATION:
                raise  # it may have changed the store: running it again could apply twice
            return None  # the full path answers it (masked, if unexpected)
        return {"data": data}


GIVE_UP = object()


def _allowed(ctx: RequestContext, permission: Permission) -> bool:
    return refusal(ctx, permission) is None  # else the full path raises the FORBIDDEN


def _webhooks(ctx: RequestContext, args: dict[str, Any], plan: Plan) -> Any:
    if not _allowed(ctx, Permission.SEE_WEBHOOKS):
        return GIVE_UP
    subs = ctx.runtime.store.list(
        ctx.practice.id, include_deleted=args.get("includeDeleted") is True
    )
    return [_project(sub, plan, False) for sub in subs]


def _webhook(ctx: RequestContext, args: dict[str, Any], plan: Plan) -> Any:
    if not _allowed(ctx, Permission.SEE_WEBHOOKS):
        return GIVE_UP
    sub = ctx.runtime.store.get(ctx.practice.id, str(args["id"]))
    return None if sub is None else _project(sub, plan, False)


def _headers(items: Any) -> list[tuple[str, str]] | None:
    return None if items is None else [(h["key"], h["value"]) for h in items]


def _create(ctx: RequestContext, args: dict[str, Any], plan: Plan) -> Any:
    if not _allowed(ctx, Permission.CREATE_WEBHOOKS):
        return GIVE_UP
    given = args["input"]
    runtime = ctx.runtime
    sub = webhooks.create_webhook(
        runtime.store,
        ctx.practice.id,
        url=given["url"],
        event_types=given["eventTypes"],
        label=given["label"],
        headers=_headers(given.get("headers")),
        now=runtime.clock.now(),
        allow_http_localhost=runtime.settings.allow_http_localhost,
    )
    return _payload(sub, plan, True, "CreateWebhookPayload")


def _update(ctx: RequestContext, args: dict[str, Any], plan: Plan) -> Any:
    if not _allowed(ctx, Permission.EDIT_WEBHOOKS):
        return GIVE_UP
    given = args["input"]
    runtime = ctx.runtime
    sub = webhooks.update_webhook(
        runtime.store,
        ctx.practice.id,
        str(args["id"]),
        url=given.get("url"),
        event_types=given.get("eventTypes"),
        label=given.get("label"),
        headers=_headers(given.get("headers")),
        delivery_paused=given.get("deliveryPaused"),
        now=runtime.clock.now(),
        allow_http_localhost=runtime.settings.allow_http_localhost,
    )
    return _payload(sub, plan, True, "UpdateWebhookPayload")


def _delete(ctx: RequestContext, args: dict[str, Any], plan: Plan) -> Any:
    if not _allowed(ctx, Permission.DELETE_WEBHOOKS):
        return GIVE_UP
    sub = webhooks.delete_webhook(
        ctx.runtime.store, ctx.practice.id, str(args["id"]), now=ctx.runtime.clock.now()
    )
    return _payload(sub, plan, False, "DeleteWebhookPayload")


RESOLVERS: dict[str, Callable[[RequestContext, dict[str, Any], Plan], Any]] = {
    "webhooks": _webhooks,
    "webhook": _webhook,
    "createWebhook": _create,
    "updateWebhook": _update,
    "deleteWebhook": _delete,
}


def compile_document(query: str, operation_name: str | None) -> Compiled | None:
    """The plan for a plain, valid document; ``None`` sends it down the full path.
    Large documents are not compiled: the cache is keyed by the whole text, and 512
    distinct documents near the 1 MiB body limit would hold half a gigabyte."""
    if len(query) > MAX_CACHED_QUERY:
        return None
    return _compile_document(query, operation_name)


@lru_cache(maxsize=512)
def _compile_document(query: str, operation_name: str | None) -> Compiled | None:
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return None
    if validate(schema._schema, document, [*specified_rules, *LIMIT_RULES]):
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or len(document.definitions) != 1:
        return None  # fragments or several operations: the full path
    try:
        return Compiled(operation)
    except NotPlain:
        return None
