"""One event's deliveries, made a slice at a time (SPEC §2.1, §7).

The subscriptions an event reaches are listed when it fires; each slice then checks them
as they are now (one deleted or changed meanwhile is left out) and makes their journal
entries. Every delivery of the event shares one body tail (SPEC §7).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..core.events import Event
from ..core.runtime import Runtime
from ..webhooks import subscriptions_of
from ..webhooks.models import Subscription
from .body import body_head, body_tail
from .faults import DeliveryFault, with_fault
from .journal import Delivery
from .sender import forward_target

FAN_OUT_SLICE = 256  # deliveries made between two turns of the event loop


class FanOut:
    """The deliveries still to make for one event."""

    def __init__(self, runtime: Runtime, event: Event, fault: DeliveryFault | None) -> None:
        self.runtime = runtime
        self.event = event
        self.fault = fault
        self._store = store = subscriptions_of(runtime)
        if event.subscription_id is not None:
            only = store.get(event.practice_id, event.subscription_id)
            self._targets = [] if only is None else [only]
        else:
            self._targets = store.list(event.practice_id)
        self._next = 0
        self._tail = body_tail(event)

    @property
    def done(self) -> bool:
        return self._next >= len(self._targets)

    def next_slice(self, size: int) -> Iterator[tuple[Delivery, Subscription]]:
        """The deliveries of the next ``size`` subscriptions that still take the event
        (two for one with a ``duplicate`` fault)."""
        targets = self._targets[self._next : self._next + size]
        self._next += len(targets)
        for sub in targets:
            if (
                sub.deleted
                or self.event.event_type not in sub.event_types
                or self._store.find(sub.id) is not sub  # gone with a reset or an import
            ):
                continue
            for delivery in with_fault(self.runtime, self._new(sub), self.fault):
                yield delivery, sub

    def _new(self, sub: Subscription) -> Delivery:
        ids, event = self.runtime.ids, self.event
        event_id = ids.new_id()
        return Delivery(
            id=ids.new_id(),
            event_id=event_id,
            event_type=event.event_type,
            subscription_id=sub.id,
            practice_id=sub.practice_id,
            url=sub.url,
            target_url=forward_target(sub.url, self.runtime.settings.forwards),
            body_head=body_head(sub.id, event_id, event.event_type),
            body_tail=self._tail,
            created_at=self.runtime.clock.now(),
            custom_headers=tuple(sub.headers or ()),
        )
