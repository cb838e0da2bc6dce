"""Webhook operations (SPEC §1.4): one function per root field.

Each checks the permission (and the practice's webhooks switch), applies the rules,
changes the store and publishes the events it causes — once, for the strawberry
resolvers and the fast path alike. A refusal raises (``GraphQLError`` FORBIDDEN or
:class:`RuleError`) having changed nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.context import RequestContext, forbidden
from ..core.context import authorise as require
from ..core.events import SUBSCRIPTION_UPDATED, Event
from ..core.ids import is_object_id
from ..core.tenancy import Permission
from .models import Subscription
from .rules import check_event_types, check_headers, check_label, check_url, not_found
from .store import Changes, SubscriptionStore

MSG_WEBHOOKS_DISABLED = "Webhooks are not enabled for this practice."
STORE = "webhooks"


def subscriptions(ctx: RequestContext) -> SubscriptionStore:
    return ctx.runtime.store(STORE, SubscriptionStore)


def authorise(ctx: RequestContext, permission: Permission) -> None:
    """The permission first, then the practice's webhooks switch (before any lookup)."""
    require(ctx, permission)
    if not ctx.practice.webhooks_enabled:
        raise forbidden(MSG_WEBHOOKS_DISABLED)


def list_webhooks(ctx: RequestContext, *, include_deleted: bool) -> list[Subscription]:
    authorise(ctx, Permission.SEE_WEBHOOKS)
    return subscriptions(ctx).list(ctx.practice.id, include_deleted=include_deleted)


def get_webhook(ctx: RequestContext, subscription_id: str) -> Subscription | None:
    authorise(ctx, Permission.SEE_WEBHOOKS)
    return subscriptions(ctx).get(ctx.practice.id, subscription_id)


def create_webhook(
    ctx: RequestContext,
    *,
    url: str,
    event_types: Sequence[str],
    label: str,
    headers: Sequence[tuple[str, str]] | None,
) -> Subscription:
    authorise(ctx, Permission.CREATE_WEBHOOKS)
    runtime = ctx.runtime
    allow_local = runtime.settings.allow_http_localhost
    http_hosts = runtime.settings.allow_http_hosts
    return subscriptions(ctx).create(
        ctx.practice.id,
        url=check_url(url, allow_http_localhost=allow_local, allow_http_hosts=http_hosts),
        event_types=check_event_types(event_types),
        label=check_label(label),
        headers=check_headers(headers),
        now=runtime.clock.now(),
    )


def update_webhook(
    ctx: RequestContext,
    subscription_id: str,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    label: str | None = None,
    headers: Sequence[tuple[str, str]] | None = None,
    delivery_paused: bool | None = None,
) -> Subscription:
    authorise(ctx, Permission.EDIT_WEBHOOKS)
    store = subscriptions(ctx)
    runtime = ctx.runtime
    # The lookup comes before input validation: an unknown id is "not found" whatever
    # the input says (the store looks again, atomically, when it applies the change).
    existing = (
        store.get(ctx.practice.id, subscription_id) if is_object_id(subscription_id) else None
    )
    if existing is None or existing.deleted:
        raise not_found()
    allow_local = runtime.settings.allow_http_localhost
    http_hosts = runtime.settings.allow_http_hosts
    changes = Changes(
        url=None
        if url is None
        else check_url(url, allow_http_localhost=allow_local, allow_http_hosts=http_hosts),
        event_types=None if event_types is None else check_event_types(event_types),
        label=None if label is None else check_label(label),
        headers=None if headers is None else check_headers(headers),
        delivery_paused=delivery_paused,
    )
    if changes == Changes():
        return existing  # an empty input is a successful no-op, updatedAt included
    with store.lock:
        before = _snapshot(existing)
        sub = store.update(ctx.practice.id, subscription_id, changes, now=runtime.clock.now())
        changed = _snapshot(sub) != before
    if changed:
        runtime.publish(subscription_updated(sub))
    return sub


def delete_webhook(ctx: RequestContext, subscription_id: str) -> Subscription:
    authorise(ctx, Permission.DELETE_WEBHOOKS)
    if not is_object_id(subscription_id):
        raise not_found()
    return subscriptions(ctx).delete(ctx.practice.id, subscription_id, now=ctx.runtime.clock.now())


def subscription_updated(sub: Subscription) -> Event:
    """``webhook.subscription.updated`` for a changed (or breaker-paused) subscription."""
    return Event(
        sub.practice_id,
        SUBSCRIPTION_UPDATED,
        {"subscriptionId": sub.id},
        {"deliveryPaused": sub.delivery_paused},
    )


def _snapshot(sub: Subscription) -> tuple[object, ...]:
    return (sub.url, sub.event_types, sub.label, sub.headers, sub.delivery_paused)
