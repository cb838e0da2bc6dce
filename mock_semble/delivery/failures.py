"""What a delivery that fails for good causes (SPEC §2.5): the ``webhook.event.deliveryFailed``
event, and the circuit breaker that pauses a subscription after N such failures in a row.

The breaker's count lives on the subscription record (``failed_deliveries``), so whatever
replaces the records — a reset, a state import — clears it, and the store clears it when
updateWebhook resumes the subscription.
"""

from __future__ import annotations

from datetime import datetime

from ..core.events import DELIVERY_FAILED, Event
from ..webhooks.models import Subscription
from ..webhooks.store import SubscriptionStore
from .journal import Delivery


def last_response_status(delivery: Delivery) -> int | None:
    """The status of the last response the receiver gave, if it ever answered."""
    for attempt in reversed(delivery.attempts):
        if attempt.response_status is not None:
            return attempt.response_status
    return None


def delivery_failed(delivery: Delivery) -> Event | None:
    """The ``webhook.event.deliveryFailed`` event for ``delivery``; None when ``delivery``
    carried a deliveryFailed event itself (a failure never reports its own report)."""
    if delivery.event_type == DELIVERY_FAILED:
        return None
    metadata: dict[str, object] = {"failedEventType": delivery.event_type}
    status = last_response_status(delivery)
    if status is not None:
        metadata["httpStatusCode"] = status
    identifiers = {"subscriptionId": delivery.subscription_id, "outboxId": delivery.id}
    return Event(delivery.practice_id, DELIVERY_FAILED, identifiers, metadata)


def count_success(store: SubscriptionStore, sub: Subscription) -> None:
    """A delivery succeeded: the run of failures is over."""
    with store.lock:
        sub.failed_deliveries = 0


def count_failure(
    store: SubscriptionStore, sub: Subscription, *, threshold: int, now: datetime
) -> bool:
    """One more delivery failed for good after a sent attempt. True when this failure is
    the ``threshold``-th in a row and paused ``sub`` (0 = the breaker is off)."""
    with store.lock:
        sub.failed_deliveries += 1
        if (
            threshold <= 0
            or sub.failed_deliveries < threshold
            or sub.delivery_paused
            or sub.deleted
            or store.find(sub.id) is not sub  # replaced by a reset or an import meanwhile
        ):
            return False
        store.set_paused(sub, now=now)
        return True
