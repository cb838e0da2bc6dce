"""Webhook operations: the rules of SPEC §1.4 applied to the store.

The GraphQL resolvers call these; each either returns the changed subscription or
raises :class:`~mock_semble.rules.RuleError` having changed nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .ids import is_object_id
from .model import EventType, Header, Subscription
from .rules import check_event_types, check_headers, check_label, check_url, not_found
from .store import Changes, Store


def create_webhook(
    store: Store,
    practice_id: str,
    *,
    url: str,
    event_types: Sequence[EventType],
    label: str,
    headers: Sequence[Header] | None,
    now: datetime,
    allow_http_localhost: bool = False,
) -> Subscription:
    return store.create(
        practice_id,
        url=check_url(url, allow_http_localhost=allow_http_localhost),
        event_types=check_event_types(event_types),
        label=check_label(label),
        headers=check_headers(headers),
        now=now,
    )


def update_webhook(
    store: Store,
    practice_id: str,
    subscription_id: str,
    *,
    url: str | None = None,
    event_types: Sequence[EventType] | None = None,
    label: str | None = None,
    headers: Sequence[Header] | None = None,
    delivery_paused: bool | None = None,
    now: datetime,
    allow_http_localhost: bool = False,
) -> Subscription:
    # The lookup comes before input validation: an unknown id is "not found" whatever
    # the input says (the store looks again, atomically, when it applies the change).
    existing = store.get(practice_id, subscription_id) if is_object_id(subscription_id) else None
    if existing is None or existing.deleted:
        raise not_found()
    changes = Changes(
        url=None if url is None else check_url(url, allow_http_localhost=allow_http_localhost),
        event_types=None if event_types is None else check_event_types(event_types),
        label=None if label is None else check_label(label),
        headers=None if headers is None else check_headers(headers),
        delivery_paused=delivery_paused,
    )
    if changes == Changes():
        return existing  # an empty input is a successful no-op, updatedAt included
    return store.update(practice_id, subscription_id, changes, now=now)


def delete_webhook(
    store: Store, practice_id: str, subscription_id: str, *, now: datetime
) -> Subscription:
    if not is_object_id(subscription_id):
        raise not_found()
    return store.delete(practice_id, subscription_id, now=now)
