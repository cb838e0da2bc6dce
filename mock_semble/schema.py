"""The GraphQL wire layer: Semble's webhook types and their resolvers (SPEC §1.1).

Only Semble's types live here; mock-only features belong to the control plane.
Resolvers are thin: authorise, call :mod:`mock_semble.webhooks`, map the result.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info
from strawberry.types.unset import UNSET

from . import webhooks
from .clock import format_datetime, parse_datetime
from .context import RequestContext, payload_error, require
from .errors import ExecutionTracker
from .limits import LIMIT_RULES, MAX_CACHED_QUERY, MAX_TOKENS
from .model import EventType, Permission, Subscription
from .rules import RuleError

T = TypeVar("T")

WebhookEventType = strawberry.enum(
    EventType, name="WebhookEventType", description="The kinds of event a webhook can receive."
)


@strawberry.type(description="An HTTP header sent with every delivery of a webhook.")
class WebhookHeader:
    key: str = strawberry.field(description="The header name.")
    value: str = strawberry.field(description="The header value.")


@strawberry.input(description="An HTTP header to send with every delivery of a webhook.")
class WebhookHeaderInput:
    key: str = strawberry.field(description="The header name (an HTTP token).")
    value: str = strawberry.field(description="The header value (no CR, LF or NUL).")


@strawberry.type(description="A subscription that delivers practice events to a URL.")
class WebhookSubscription:
    id: strawberry.ID = strawberry.field(description="The subscription's unique id.")
    secret: str | None = strawberry.field(
        description="The signing secret; only returned by createWebhook and updateWebhook."
    )
    url: str = strawberry.field(description="The HTTPS URL that receives deliveries.")
    label: str = strawberry.field(description="A human-readable name for the subscription.")
    event_types: list[WebhookEventType] = strawberry.field(  # type: ignore[valid-type]
        description="The event types delivered to this subscription."
    )
    headers: list[WebhookHeader] | None = strawberry.field(
        description="Extra HTTP headers sent with every delivery, in order."
    )
    version: str = strawberry.field(description="The delivery payload format version.")
    created_at: datetime | None = strawberry.field(description="When it was created.")
    updated_at: datetime | None = strawberry.field(description="When it was last changed.")
    deleted: bool | None = strawberry.field(description="Whether it has been deleted.")
    delivery_paused: bool | None = strawberry.field(description="Whether deliveries are paused.")

    @classmethod
    def of(cls, sub: Subscription, *, with_secret: bool = False) -> WebhookSubscription:
        return cls(
            id=strawberry.ID(sub.id),
            secret=sub.secret if with_secret else None,
            url=sub.url,
            label=sub.label,
            event_types=list(sub.event_types),
            headers=None
            if sub.headers is None
            else [WebhookHeader(key=k, value=v) for k, v in sub.headers],
            version=sub.version,
            created_at=sub.created_at,
            updated_at=sub.updated_at,
            deleted=sub.deleted,
            delivery_paused=sub.delivery_paused,
        )


@strawberry.input(description="The fields of a new webhook subscription.")
class CreateWebhookInput:
    url: str = strawberry.field(description="The HTTPS URL that will receive deliveries.")
    event_types: list[WebhookEventType] = strawberry.field(  # type: ignore[valid-type]
        description="The event types to deliver (1 to 10, no repeats)."
    )
    label: str = strawberry.field(description="A human-readable name (1 to 256 characters).")
    headers: list[WebhookHeaderInput] | None = strawberry.field(
        default=UNSET, description="Extra HTTP headers to send with every delivery."
    )


@strawberry.input(description="The fields to change on a webhook subscription; omitted ones stay.")
class UpdateWebhookInput:
    url: str | None = strawberry.field(default=UNSET, description="A new delivery URL.")
    event_types: list[WebhookEventType] | None = strawberry.field(  # type: ignore[valid-type]
        default=UNSET, description="A new list of event types (replaces the old one)."
    )
    label: str | None = strawberry.field(default=UNSET, description="A new label.")
    headers: list[WebhookHeaderInput] | None = strawberry.field(
        default=UNSET, description="A new list of headers (an empty list clears them)."
    )
    delivery_paused: bool | None = strawberry.field(
        default=UNSET, description="Pause or resume deliveries."
    )


@strawberry.type(description="The result of createWebhook.")
class CreateWebhookPayload:
    data: WebhookSubscription | None = strawberry.field(
        description="The new subscription, with its secret; null on error."
    )
    error: str | None = strawberry.field(description="Why nothing was created; null on success.")


@strawberry.type(description="The result of updateWebhook.")
class UpdateWebhookPayload:
    data: WebhookSubscription | None = strawberry.field(
        description="The updated subscription, with its secret; null on error."
    )
    error: str | None = strawberry.field(description="Why nothing was changed; null on success.")


@strawberry.type(description="The result of deleteWebhook.")
class DeleteWebhookPayload:
    data: WebhookSubscription | None = strawberry.field(
        description="The deleted subscription (secret is null); null on error."
    )
    error: str | None = strawberry.field(description="Why nothing was deleted; null on success.")


def _given(value: T | None) -> T | None:
    """An omitted input field (UNSET) and an explicit null both mean "not given"."""
    return None if value is UNSET else value


def _headers(items: list[WebhookHeaderInput] | None) -> list[tuple[str, str]] | None:
    items = _given(items)
    return None if items is None else [(h.key, h.value) for h in items]


@strawberry.type(description="Read operations.")
class Query:
    @strawberry.field(description="The practice's webhook subscriptions, in creation order.")
    async def webhooks(
        self,
        info: Info[RequestContext, None],
        include_deleted: Annotated[
            bool | None, strawberry.argument(description="Also list deleted subscriptions.")
        ] = UNSET,
    ) -> list[WebhookSubscription]:
        ctx = require(info, Permission.SEE_WEBHOOKS)
        subs = ctx.runtime.store.list(
            ctx.practice.id, include_deleted=_given(include_deleted) is True
        )
        return [WebhookSubscription.of(sub) for sub in subs]

    @strawberry.field(description="One of the practice's webhook subscriptions, or null.")
    async def webhook(
        self,
        info: Info[RequestContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The subscription's id.")],
    ) -> WebhookSubscription | None:
        ctx = require(info, Permission.SEE_WEBHOOKS)
        sub = ctx.runtime.store.get(ctx.practice.id, str(id))
        return None if sub is None else WebhookSubscription.of(sub)


@strawberry.type(description="Write operations.")
class Mutation:
    @strawberry.mutation(description="Create a webhook subscription.")
    async def create_webhook(
        self,
        info: Info[RequestContext, None],
        input: Annotated[
            CreateWebhookInput, strawberry.argument(description="The new subscription.")
        ],
    ) -> CreateWebhookPayload | None:
        ctx = require(info, Permission.CREATE_WEBHOOKS)
        try:
            sub = webhooks.create_webhook(
                ctx.runtime.store,
                ctx.practice.id,
                url=input.url,
                event_types=input.event_types,
                label=input.label,
                headers=_headers(input.headers),
                now=ctx.runtime.clock.now(),
                allow_http_localhost=ctx.runtime.settings.allow_http_localhost,
            )
        except RuleError as exc:
            return CreateWebhookPayload(data=None, error=payload_error(info, exc))
        return CreateWebhookPayload(data=WebhookSubscription.of(sub, with_secret=True), error=None)

    @strawberry.mutation(description="Change a webhook subscription; omitted fields stay.")
    async def update_webhook(
        self,
        info: Info[RequestContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The subscription's id.")],
        input: Annotated[
            UpdateWebhookInput, strawberry.argument(description="The fields to change.")
        ],
    ) -> UpdateWebhookPayload | None:
        ctx = require(info, Permission.EDIT_WEBHOOKS)
        try:
            sub = webhooks.update_webhook(
                ctx.runtime.store,
                ctx.practice.id,
                str(id),
                url=_given(input.url),
                event_types=_given(input.event_types),
                label=_given(input.label),
                headers=_headers(input.headers),
                delivery_paused=_given(input.delivery_paused),
                now=ctx.runtime.clock.now(),
                allow_http_localhost=ctx.runtime.settings.allow_http_localhost,
            )
        except RuleError as exc:
            return UpdateWebhookPayload(data=None, error=payload_error(info, exc))
        return UpdateWebhookPayload(data=WebhookSubscription.of(sub, with_secret=True), error=None)

    @strawberry.mutation(description="Delete a webhook subscription (a soft delete).")
    async def delete_webhook(
        self,
        info: Info[RequestContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The subscription's id.")],
    ) -> DeleteWebhookPayload | None:
        ctx = require(info, Permission.DELETE_WEBHOOKS)
        try:
            sub = webhooks.delete_webhook(
                ctx.runtime.store, ctx.practice.id, str(id), now=ctx.runtime.clock.now()
            )
        except RuleError as exc:
            return DeleteWebhookPayload(data=None, error=payload_error(info, exc))
        return DeleteWebhookPayload(data=WebhookSubscription.of(sub), error=None)


DATETIME = strawberry.scalar(
    name="DateTime",
    description='ISO-8601 UTC instant with milliseconds: "2026-11-28T15:02:26.123Z".',
    serialize=format_datetime,
    parse_value=parse_datetime,
)


class SmallDocumentParserCache(ParserCache):
    """strawberry's ParserCache for documents up to MAX_CACHED_QUERY characters; larger
    ones are parsed by strawberry itself (128 cached near-1 MiB documents hold ~250 MiB)."""

    def on_parse(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > MAX_CACHED_QUERY:
            yield
        else:
            yield from super().on_parse()


class SmallDocumentValidationCache(ValidationCache):
    """strawberry's ValidationCache (keyed by the parsed document) for small documents."""

    def on_validate(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > MAX_CACHED_QUERY:
            yield
        else:
            yield from super().on_validate()


class MockSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Client errors are answers, not faults: errors.format_error logs real faults.
        return None


def build_schema() -> strawberry.Schema:
    return MockSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map={datetime: DATETIME}),
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            SmallDocumentParserCache,
            SmallDocumentValidationCache,
            lambda: AddValidationRules(LIMIT_RULES),
            ExecutionTracker,
        ],
    )


schema = build_schema()
SDL = schema.as_str() + "\n"
