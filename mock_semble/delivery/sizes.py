"""What the delivery journal holds, in bytes (SPEC §7: journals are bounded in bytes as
well as in entries).

A size is an estimate of the entry's JSON text plus a fixed allowance for the Python
objects around it; a body tail shared by an event's deliveries is counted once, however
many entries hold it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .journal import Attempt, Delivery

ENTRY_OVERHEAD = 1024  # the record, its ids, its place in the journal's indexes
ATTEMPT_OVERHEAD = 512  # the attempt record and its headers dict
DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # of final entries; GET /__mock/deliveries pages
PAGE_BYTES = 8 * 1024 * 1024  # one page of GET /__mock/deliveries stops growing here


def attempt_bytes(attempt: Attempt) -> int:
    headers = sum(len(key) + len(value) for key, value in attempt.request_headers.items())
    return ATTEMPT_OVERHEAD + headers + len(attempt.response_body or "") + len(attempt.error or "")


def entry_bytes(delivery: Delivery, *, with_tail: bool = True) -> int:
    """The entry's size; ``with_tail=False`` leaves out its shared body tail."""
    size = ENTRY_OVERHEAD + len(delivery.body_head) + len(delivery.url)
    size += len(delivery.target_url) + sum(attempt_bytes(a) for a in delivery.attempts)
    return size + (len(delivery.body_tail) if with_tail else 0)


class Ledger:
    """Bytes held by a set of entries; a shared body tail counts once."""

    def __init__(self) -> None:
        self.total = 0
        self._sizes: dict[str, int] = {}  # entry id -> its own bytes
        self._tails: dict[int, list[int]] = {}  # id(tail) -> [entries holding it, bytes]

    def add(self, delivery: Delivery) -> None:
        if delivery.id in self._sizes:
            return
        size = entry_bytes(delivery, with_tail=False)
        self._sizes[delivery.id] = size
        self.total += size
        tail = delivery.body_tail
        if tail:  # the entry keeps ``tail`` alive, so its id() is stable while counted
            held = self._tails.get(id(tail))
            if held is None:
                self._tails[id(tail)] = [1, len(tail)]
                self.total += len(tail)
            else:
                held[0] += 1

    def remove(self, delivery: Delivery) -> None:
        size = self._sizes.pop(delivery.id, None)
        if size is None:
            return
        self.total -= size
        held = self._tails.get(id(delivery.body_tail)) if delivery.body_tail else None
        if held is not None:
            held[0] -= 1
            if not held[0]:
                del self._tails[id(delivery.body_tail)]
                self.total -= held[1]

    def clear(self) -> None:
        self.total = 0
        self._sizes.clear()
        self._tails.clear()
