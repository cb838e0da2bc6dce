"""Semble's webhook types (SPEC §1.1) and their thin resolvers.

Both API versions (SPEC §1.5) come from :func:`build_types`: ``enum`` has the
``WebhookEventType`` enum of the "How To: Webhooks" guide, ``strings`` the dotted
strings Semble uses since 2026-06-08. Resolvers call :mod:`.operations` and map a
:class:`RuleError` to the payload's ``error``; records are returned as they are stored.
"""

from datetime import datetime
from enum import Enum
from functools import cache
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.unset import UNSET

from ..core.context import RequestContext, payload_error
from ..core.errors import RuleError
from ..core.events import ENUM_NAMES
from . import operations as ops
from .models import Revealed

T = TypeVar("T")
Ctx = Info[RequestContext, None]

WebhookEventType = Enum("WebhookEventType", {name: dotted for name, dotted in ENUM_NAMES.items()})
WebhookEventType = strawberry.enum(
    WebhookEventType, description="The kinds of event a webhook can receive."
)


def _given(value: T | None) -> T | None:
    """An omitted input field (UNSET) and an explicit null both mean "not given"."""
    return None if value is UNSET else value


def _dotted(items: list[Any] | None) -> list[str] | None:
    """Event types as the operations take them: dotted strings (enum values are)."""
    items = _given(items)
    return None if items is None else [getattr(e, "value", e) for e in items]


@strawberry.type(description="An HTTP header sent with every delivery of a webhook.")
class WebhookHeader:
    key: str = strawberry.field(description="The header name.")
    value: str = strawberry.field(description="The header value.")


@strawberry.input(description="An HTTP header to send with every delivery of a webhook.")
class WebhookHeaderInput:
    key: str = strawberry.field(description="The header name (an HTTP token).")
    value: str = strawberry.field(description="The header value (visible ASCII).")


def _headers(items: list[WebhookHeaderInput] | None) -> list[tuple[str, str]] | None:
    items = _given(items)
    return None if items is None else [(h.key, h.value) for h in items]


@cache
def build_types(mode: str) -> tuple[type, type]:
    """The webhook slice's ``Query`` and ``Mutation`` for one API version."""
    event_type: Any = WebhookEventType if mode == "enum" else str
    optional_events: Any = list[event_type] | None

    @strawberry.type(description="A subscription that delivers practice events to a URL.")
    class WebhookSubscription:
        id: strawberry.ID = strawberry.field(description="The subscription's unique id.")
        secret: str | None = strawberry.field(
            description="The signing secret; only returned by createWebhook and updateWebhook."
        )
        url: str = strawberry.field(description="The HTTPS URL that receives deliveries.")
        label: str = strawberry.field(description="A human-readable name for the subscription.")
        event_types: list[event_type] = strawberry.field(
            description="The event types delivered to this subscription."
        )
        headers: list[WebhookHeader] | None = strawberry.field(
            description="Extra HTTP headers sent with every delivery, in order."
        )
        version: str = strawberry.field(description="The delivery payload format version.")
        created_at: datetime | None = strawberry.field(description="When it was created.")
        updated_at: datetime | None = strawberry.field(description="When it was last changed.")
        deleted: bool | None = strawberry.field(description="Whether it has been deleted.")
        delivery_paused: bool | None = strawberry.field(
            description="Whether deliveries are paused."
        )

    @strawberry.input(description="The fields of a new webhook subscription.")
    class CreateWebhookInput:
        url: str = strawberry.field(description="The HTTPS URL that will receive deliveries.")
        event_types: list[event_type] = strawberry.field(
            description="The event types to deliver (1 to 10, no repeats)."
        )
        label: str = strawberry.field(description="A human-readable name (1 to 256 characters).")
        headers: list[WebhookHeaderInput] | None = strawberry.field(
            default=UNSET, description="Extra HTTP headers to send with every delivery."
        )

    @strawberry.input(
        description="The fields to change on a webhook subscription; omitted ones stay."
    )
    class UpdateWebhookInput:
        url: str | None = strawberry.field(default=UNSET, description="A new delivery URL.")
        event_types: optional_events = strawberry.field(
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
        error: str | None = strawberry.field(
            description="Why nothing was created; null on success."
        )

    @strawberry.type(description="The result of updateWebhook.")
    class UpdateWebhookPayload:
        data: WebhookSubscription | None = strawberry.field(
            description="The updated subscription, with its secret; null on error."
        )
        error: str | None = strawberry.field(
            description="Why nothing was changed; null on success."
        )

    @strawberry.type(description="The result of deleteWebhook.")
    class DeleteWebhookPayload:
        data: WebhookSubscription | None = strawberry.field(
            description="The deleted subscription (secret is null); null on error."
        )
        error: str | None = strawberry.field(
            description="Why nothing was deleted; null on success."
        )

    @strawberry.type(description="Read operations.")
    class Query:
        @strawberry.field(description="The practice's webhook subscriptions, in creation order.")
        async def webhooks(
            self,
            info: Ctx,
            include_deleted: Annotated[
                bool | None, strawberry.argument(description="Also list deleted subscriptions.")
            ] = UNSET,
        ) -> list[WebhookSubscription]:
            subs = ops.list_webhooks(info.context, include_deleted=_given(include_deleted) is True)
            return subs  # type: ignore[return-value]

        @strawberry.field(description="One of the practice's webhook subscriptions, or null.")
        async def webhook(
            self,
            info: Ctx,
            id: Annotated[strawberry.ID, strawberry.argument(description="The subscription's id.")],
        ) -> WebhookSubscription | None:
            return ops.get_webhook(info.context, str(id))  # type: ignore[return-value]

    @strawberry.type(description="Write operations.")
    class Mutation:
        @strawberry.mutation(description="Create a webhook subscription.")
        async def create_webhook(
            self,
            info: Ctx,
            input: Annotated[
                CreateWebhookInput, strawberry.argument(description="The new subscription.")
            ],
        ) -> CreateWebhookPayload | None:
            try:
                sub = ops.create_webhook(
                    info.context,
                    url=input.url,
                    event_types=_dotted(input.event_types) or [],
                    label=input.label,
                    headers=_headers(input.headers),
                )
            except RuleError as exc:
                return CreateWebhookPayload(data=None, error=payload_error(info, exc))
            return CreateWebhookPayload(data=Revealed(sub), error=None)  # type: ignore[arg-type]

        @strawberry.mutation(description="Change a webhook subscription; omitted fields stay.")
        async def update_webhook(
            self,
            info: Ctx,
            id: Annotated[strawberry.ID, strawberry.argument(description="The subscription's id.")],
            input: Annotated[
                UpdateWebhookInput, strawberry.argument(description="The fields to change.")
            ],
        ) -> UpdateWebhookPayload | None:
            try:
                sub = ops.update_webhook(
                    info.context,
                    str(id),
                    url=_given(input.url),
                    event_types=_dotted(input.event_types),
                    label=_given(input.label),
                    headers=_headers(input.headers),
                    delivery_paused=_given(input.delivery_paused),
                )
            except RuleError as exc:
                return UpdateWebhookPayload(data=None, error=payload_error(info, exc))
            return UpdateWebhookPayload(data=Revealed(sub), error=None)  # type: ignore[arg-type]

        @strawberry.mutation(description="Delete a webhook subscription (a soft delete).")
        async def delete_webhook(
            self,
            info: Ctx,
            id: Annotated[strawberry.ID, strawberry.argument(description="The subscription's id.")],
        ) -> DeleteWebhookPayload | None:
            try:
                sub = ops.delete_webhook(info.context, str(id))
            except RuleError as exc:
                return DeleteWebhookPayload(data=None, error=payload_error(info, exc))
            return DeleteWebhookPayload(data=sub, error=None)  # type: ignore[arg-type]

    return Query, Mutation
