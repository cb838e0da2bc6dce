"""Turns the delivery journal into a sequence of changes for one live stream.

A stream polls :meth:`DeliveryWatch.poll` a few times a second. It sees entries added
since its last look (O(new), via :meth:`Journal.added_after`) and re-reads the entries
it tracks: the newest ``window`` ones and every one still in progress. So a poll costs
O(window + in progress + new), whatever the journal's size.

Phases, per delivery:

- ``replay``: shown because the stream asked for the newest entries at connect;
- ``created``: new and not final yet;
- ``retry_scheduled``: an attempt failed and another one will follow (one change per
  such attempt, even when several happened between two polls);
- ``final``: reached ``succeeded``, ``failed``, ``skipped_paused`` or ``recorded``;
- ``updated``: anything else that changed (e.g. a new attempt in flight);
- ``removed``: dropped from the journal (clear, reset, bound).

Entries that were already final when the stream connected are never reported (past
deliveries are not replayed), unless asked for with ``replay``; entries in progress
at connect are reported when they retry or end.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..delivery.journal import RETRYING, Delivery, Journal

REPLAY = "replay"
CREATED = "created"
RETRY_SCHEDULED = "retry_scheduled"
FINAL = "final"
UPDATED = "updated"
REMOVED = "removed"

WINDOW = 500  # entries a stream keeps watching once final (what a page lists)


@dataclass(frozen=True, slots=True)
class Change:
    phase: str
    delivery_id: str
    delivery: Delivery | None = None  # None when removed
    attempt: int | None = None  # the attempt the change is about (retry_scheduled, final)


def transitions(delivery: Delivery, seen_attempts: int) -> list[Change]:
    """What happened to ``delivery`` since it had ``seen_attempts`` attempts."""
    count = len(delivery.attempts)
    final = delivery.final
    changes: list[Change] = []
    # every attempt before the last of a finished series was followed by a retry
    last_retried = count - 1 if final else count
    if final or delivery.status == RETRYING:
        changes.extend(
            Change(RETRY_SCHEDULED, delivery.id, delivery, number)
            for number in range(seen_attempts + 1, last_retried + 1)
        )
    if final:
        changes.append(Change(FINAL, delivery.id, delivery, count or None))
    return changes


class DeliveryWatch:
    """One stream's view of the journal: what it has reported, and what changed since."""

    def __init__(self, journal: Journal, window: int = WINDOW) -> None:
        self.journal = journal
        self.window = max(1, window)
        self._position = journal.position
        # id -> (status, attempt count) as last reported; oldest first
        self._seen: dict[str, tuple[str, int]] = {}
        for delivery in journal.select():  # once, at connect: what is still in progress
            if not delivery.final:
                self._remember(delivery)

    def _remember(self, delivery: Delivery) -> None:
        self._seen[delivery.id] = (delivery.status, len(delivery.attempts))

    def replay(self, limit: int) -> list[Change]:
        """The newest ``limit`` entries (capped at the window), oldest first."""
        if limit <= 0:
            return []
        shown = self.journal.added_after(0, min(limit, self.window))
        for delivery in shown:
            self._remember(delivery)
        self._trim()
        return [Change(REPLAY, d.id, d) for d in shown]

    def poll(self) -> list[Change]:
        """Every change since the previous poll: tracked entries first, then new ones."""
        changes: list[Change] = []
        for delivery_id, (status, attempts) in list(self._seen.items()):
            current = self.journal.get(delivery_id)
            if current is None:
                del self._seen[delivery_id]
                changes.append(Change(REMOVED, delivery_id))
            elif (current.status, len(current.attempts)) != (status, attempts):
                moved = transitions(current, attempts)
                changes.extend(moved or [Change(UPDATED, delivery_id, current)])
                self._remember(current)
        for delivery in self.journal.added_after(self._position):
            changes.extend(transitions(delivery, 0) or [Change(CREATED, delivery.id, delivery)])
            self._remember(delivery)
        self._position = self.journal.position
        self._trim()
        return changes

    def _trim(self) -> None:
        """Forget the oldest final entries beyond the window (never one in progress)."""
        excess = len(self._seen) - self.window
        if excess <= 0:
            return
        for delivery_id in list(self._seen):
            if excess <= 0:
                break
            current = self.journal.get(delivery_id)
            if current is None or current.final:
                del self._seen[delivery_id]
                excess -= 1
