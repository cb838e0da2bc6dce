"""The webhook subscriptions of every practice, with their indexes.

Every method that changes state runs under one lock and validates before it
writes, so each mutation is atomic and a refused one changes nothing. Indexes keep
get/create/update/delete independent of how many subscriptions exist:

- ``_subs``: id -> subscription (all practices, deleted included);
- ``_by_practice``: practice id -> {id: subscription} in creation order;
- ``_claims``: practice id -> {(url key, event type): id} for non-deleted ones,
  which is what the duplicate rule asks about.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ..core.ids import IdFactory
from .models import Header, Subscription
from .rules import conflict, not_found, url_key

Claim = tuple[str, str]  # (url key, dotted event type)


@dataclass(frozen=True, slots=True)
class Changes:
    """A partial update: ``None`` means "leave as it is"."""

    url: str | None = None
    event_types: tuple[str, ...] | None = None
    label: str | None = None
    headers: tuple[Header, ...] | None = None
    delivery_paused: bool | None = None


class SubscriptionStore:
    """All webhook subscriptions of one runtime."""

    def __init__(self, ids: IdFactory, lock: threading.RLock) -> None:
        self.ids = ids
        self.lock = lock
        self._subs: dict[str, Subscription] = {}
        self._by_practice: dict[str, dict[str, Subscription]] = {}
        self._claims: dict[str, dict[Claim, str]] = {}
        self._garbage: list[object] = []
        self.changes = 0  # bumped by every change: a long export notices one made meanwhile

    # -- subscriptions --------------------------------------------------------

    def get(self, practice_id: str, subscription_id: str) -> Subscription | None:
        """The practice's subscription (deleted or not); a foreign one is missing."""
        sub = self._subs.get(subscription_id)
        if sub is None or sub.practice_id != practice_id:
            return None
        return sub

    def find(self, subscription_id: str) -> Subscription | None:
        """Any practice's subscription: for the control plane, never the contract API."""
        return self._subs.get(subscription_id)

    def all(self) -> list[Subscription]:
        """Every subscription of every practice, in creation (or load) order."""
        return list(self._subs.values())

    def list(self, practice_id: str, *, include_deleted: bool = False) -> list[Subscription]:
        subs = self._by_practice.get(practice_id)
        if not subs:
            return []
        if include_deleted:
            return list(subs.values())
        return [sub for sub in subs.values() if not sub.deleted]

    def create(
        self,
        practice_id: str,
        *,
        url: str,
        event_types: tuple[str, ...],
        label: str,
        headers: tuple[Header, ...] | None,
        now: datetime,
    ) -> Subscription:
        key = url_key(url)
        with self.lock:
            claims = self._claims.setdefault(practice_id, {})
            if any((key, event) in claims for event in event_types):
                raise conflict()
            sub = Subscription(
                id=self._fresh_id(self._subs),
                practice_id=practice_id,
                signing_secret=self.ids.new_secret(),
                url=url,
                label=label,
                event_types=event_types,
                headers=headers,
                created_at=now,
                updated_at=now,
                url_key=key,
            )
            self._insert(sub)
            return sub

    def update(
        self, practice_id: str, subscription_id: str, changes: Changes, *, now: datetime
    ) -> Subscription:
        with self.lock:
            sub = self.get(practice_id, subscription_id)
            if sub is None or sub.deleted:
                raise not_found()
            url = sub.url if changes.url is None else changes.url
            events = sub.event_types if changes.event_types is None else changes.event_types
            key = sub.url_key if changes.url is None else url_key(url)
            claims = self._claims.setdefault(practice_id, {})
            if any(claims.get((key, event), sub.id) != sub.id for event in events):
                raise conflict()
            self._release(sub)
            self.changes += 1
            sub.url, sub.url_key, sub.event_types = url, key, events
            if changes.label is not None:
                sub.label = changes.label
            if changes.headers is not None:
                sub.headers = changes.headers
            if changes.delivery_paused is not None:
                if sub.delivery_paused and not changes.delivery_paused:
                    sub.failed_deliveries = 0  # a resume clears the circuit breaker's count
                sub.delivery_paused = changes.delivery_paused
            sub.updated_at = now
            self._claim(sub)
            return sub

    def delete(self, practice_id: str, subscription_id: str, *, now: datetime) -> Subscription:
        with self.lock:
            sub = self.get(practice_id, subscription_id)
            if sub is None or sub.deleted:
                raise not_found()
            self._release(sub)
            self.changes += 1
            sub.deleted = True
            sub.updated_at = now
            return sub

    # -- reset and bulk load ---------------------------------------------------

    def reset_practice(self, practice_id: str) -> None:
        """Drop one practice's subscriptions (the practice and its tokens stay)."""
        with self.lock:
            self.changes += 1
            for sub_id in self._by_practice.pop(practice_id, {}):
                del self._subs[sub_id]
            self._claims.pop(practice_id, None)

    def set_paused(self, sub: Subscription, *, now: datetime) -> None:
        """Pause a subscription (the circuit breaker): ``updatedAt`` moves."""
        with self.lock:
            self.changes += 1
            sub.delivery_paused = True
            sub.updated_at = now

    def insert_loaded(self, sub: Subscription) -> None:
        """Add a subscription from a state document (already validated by the caller)."""
        with self.lock:
            if sub.id in self._subs:
                return
            sub.url_key = url_key(sub.url)
            self._insert(sub)

    def clear(self) -> None:
        """Forget everything, configured data too (before loading a state document).

        The old containers are parked rather than freed: freeing 10^4 records takes
        milliseconds, which a reset request should not wait for (like Redis' lazy free).
        :meth:`collect_garbage` frees them, after the response has gone."""
        with self.lock:
            self.changes += 1
            self._garbage.append((self._subs, self._by_practice, self._claims))
            self._subs, self._by_practice, self._claims = {}, {}, {}

    def collect_garbage(self) -> None:
        """Free what :meth:`clear` parked."""
        with self.lock:
            garbage, self._garbage = self._garbage, []
        garbage.clear()

    # -- internals ---------------------------------------------------------------

    def _fresh_id(self, taken: Mapping[str, object]) -> str:
        new_id = self.ids.new_id()
        while new_id in taken:
            new_id = self.ids.new_id()
        return new_id

    def _insert(self, sub: Subscription) -> None:
        self.changes += 1
        self._subs[sub.id] = sub
        self._by_practice.setdefault(sub.practice_id, {})[sub.id] = sub
        if not sub.deleted:
            self._claim(sub)

    def _claim(self, sub: Subscription) -> None:
        claims = self._claims.setdefault(sub.practice_id, {})
        for event in sub.event_types:
            claims[(sub.url_key, event)] = sub.id

    def _release(self, sub: Subscription) -> None:
        claims = self._claims.get(sub.practice_id, {})
        for event in sub.event_types:
            if claims.get((sub.url_key, event)) == sub.id:
                del claims[(sub.url_key, event)]
