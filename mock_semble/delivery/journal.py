"""The delivery journal (``/__mock/deliveries``): bounded, filterable, never a secret.

A :class:`Delivery` is one event sent to one subscription: one body, one ``eventId``,
and the attempt series that carried it. A redelivery is a new entry with the same
``eventId`` and body, so each entry's ``status`` describes exactly one series.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core.clock import format_datetime
from .sizes import DEFAULT_MAX_BYTES, PAGE_BYTES, Ledger, entry_bytes

if TYPE_CHECKING:
    from .faults import DeliveryFault

PENDING = "pending"
RETRYING = "retrying"
SUCCEEDED = "succeeded"
FAILED = "failed"
SKIPPED_PAUSED = "skipped_paused"
RECORDED = "recorded"
STATUSES = (PENDING, RETRYING, SUCCEEDED, FAILED, SKIPPED_PAUSED, RECORDED)
FINAL_STATUSES = frozenset({SUCCEEDED, FAILED, SKIPPED_PAUSED, RECORDED})


@dataclass(slots=True)
class Attempt:
    """One HTTP request (or, with empty ``request_headers``, one that was never sent)."""

    number: int
    at: datetime
    request_headers: dict[str, str]
    response_status: int | None = None
    response_body: str | None = None
    duration_ms: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": format_datetime(self.at),
            "requestHeaders": dict(self.request_headers),
            "responseStatus": self.response_status,
            "responseBody": self.response_body,
            "durationMs": self.duration_ms,
            "error": self.error,
        }


@dataclass(slots=True)
class Delivery:
    """One event-to-subscription delivery. The secret is looked up per attempt, never kept."""

    id: str
    event_id: str
    event_type: str  # dotted
    subscription_id: str
    practice_id: str
    url: str
    target_url: str
    body_head: str  # the text sent is body_head + body_tail (see ``body``)
    created_at: datetime
    # Custom headers as they were when the event fired; retries and redeliveries reuse them.
    custom_headers: tuple[tuple[str, str], ...] = ()
    status: str = PENDING
    attempts: list[Attempt] = field(default_factory=list)
    fault: DeliveryFault | None = None  # SPEC §4.1: the journal names it
    paused_subscription: bool = False  # this failure made the circuit breaker pause it
    body_tail: str = ""  # one text shared by every delivery of an event (SPEC §7)

    @property
    def body(self) -> str:
        """The exact text sent."""
        return self.body_head + self.body_tail

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "eventId": self.event_id,
            "eventType": self.event_type,
            "subscriptionId": self.subscription_id,
            "practiceId": self.practice_id,
            "url": self.url,
            "targetUrl": self.target_url,
            "status": self.status,
            "body": self.body,
            "createdAt": format_datetime(self.created_at),
            "attempts": [attempt.to_json() for attempt in self.attempts],
            **({"fault": self.fault.to_json()} if self.fault is not None else {}),
        }
        if self.paused_subscription:  # only on the delivery that paused its subscription
            data["pausedSubscription"] = True
        return data


@dataclass(frozen=True, slots=True)
class Filter:
    """Query filters of ``GET /__mock/deliveries``; ``None`` matches anything."""

    subscription_id: str | None = None
    event_type: str | None = None
    status: str | None = None
    practice_id: str | None = None

    def matches(self, d: Delivery) -> bool:
        return (
            (self.subscription_id is None or d.subscription_id == self.subscription_id)
            and (self.event_type is None or d.event_type == self.event_type)
            and (self.status is None or d.status == self.status)
            and (self.practice_id is None or d.practice_id == self.practice_id)
        )


class Journal:
    """Deliveries in creation order, at most ``size`` of them and ``max_bytes`` of them
    (:mod:`.sizes`) once they are final.

    Entries still in progress are never dropped (their task still writes to them); when
    the journal is over a bound, the entries that became final longest ago go first.
    """

    def __init__(self, size: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.size = max(1, size)
        self.max_bytes = max_bytes
        self._final_bytes = Ledger()  # what the final entries hold
        self._entries: dict[str, Delivery] = {}
        self._seq: dict[str, int] = {}  # id -> position, the paging cursor
        self._next_seq = 0
        self._finished: deque[str] = deque()  # ids in the order they became final
        self.evicted = 0  # deliveries dropped by the bound since the last clear

    def add(self, delivery: Delivery) -> None:
        self._next_seq += 1
        self._seq[delivery.id] = self._next_seq
        self._entries[delivery.id] = delivery
        if delivery.final:
            self._finished.append(delivery.id)
            self._final_bytes.add(delivery)
        self._trim()

    def finished(self, delivery: Delivery) -> None:
        """Called once when ``delivery`` reaches a final status."""
        if delivery.id in self._entries:
            self._finished.append(delivery.id)
            self._final_bytes.add(delivery)
            self._trim()

    @property
    def bytes(self) -> int:
        """What the final entries hold (:mod:`.sizes`)."""
        return self._final_bytes.total

    def _trim(self) -> None:
        while self._finished and (
            len(self._entries) > self.size or self._final_bytes.total > self.max_bytes
        ):
            gone = self._finished.popleft()
            dropped = self._entries.pop(gone, None)
            if dropped is not None:
                self._seq.pop(gone, None)
                self._final_bytes.remove(dropped)
                self.evicted += 1

    def get(self, delivery_id: str) -> Delivery | None:
        return self._entries.get(delivery_id)

    def select(self, query: Filter | None = None) -> list[Delivery]:
        if query is None:
            return list(self._entries.values())
        return [d for d in self._entries.values() if query.matches(d)]

    def page(
        self, query: Filter | None, limit: int, after: int | None
    ) -> tuple[list[Delivery], str | None]:
        """Up to ``limit`` matching entries after cursor ``after``, and the next cursor."""
        result: list[Delivery] = []
        size = 0  # a page also stops at PAGE_BYTES: entries can be large (custom headers)
        for delivery in self._entries.values():
            seq = self._seq[delivery.id]
            if (after is not None and seq <= after) or (query and not query.matches(delivery)):
                continue
            if len(result) == limit or size > PAGE_BYTES:
                return result, str(self._seq[result[-1].id])
            result.append(delivery)
            size += entry_bytes(delivery)
        return result, None

    @property
    def position(self) -> int:
        """How many entries were ever added: a cursor for :meth:`added_after`."""
        return self._next_seq

    def added_after(self, position: int, limit: int | None = None) -> list[Delivery]:
        """Entries added after ``position`` and still held, oldest first (with ``limit``,
        the newest ``limit`` of them). Walks from the newest end: O(result), not O(journal),
        so a live view can poll it."""
        newer: list[Delivery] = []
        for delivery in reversed(self._entries.values()):
            if self._seq[delivery.id] <= position or len(newer) == limit:
                break
            newer.append(delivery)
        newer.reverse()
        return newer

    def remove_where(self, practice_id: str | None = None) -> list[Delivery]:
        """Drop every entry (or one practice's); return what was dropped."""
        if practice_id is None:
            dropped = list(self._entries.values())
            self._entries.clear()
            self._seq.clear()
            self._finished.clear()
            self._final_bytes.clear()
            self.evicted = 0
            return dropped
        dropped = [d for d in self._entries.values() if d.practice_id == practice_id]
        for d in dropped:
            del self._entries[d.id]
            del self._seq[d.id]
            self._final_bytes.remove(d)
        self._finished = deque(i for i in self._finished if i in self._entries)
        return dropped

    def __len__(self) -> int:
        return len(self._entries)
