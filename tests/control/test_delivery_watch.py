"""The live stream's reading of the delivery journal (``control/delivery_watch.py``):
whenever it polls, each retry is announced once, the end once, and deliveries that were
final before it started never (SPEC §4.2: "past deliveries are not replayed")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from mock_semble.control.delivery_watch import DeliveryWatch
from mock_semble.delivery.journal import Journal

FINAL = ("succeeded", "failed", "skipped_paused", "recorded")


@dataclass
class FakeDelivery:
    id: str
    status: str = "pending"
    attempts: list[int] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.status in FINAL


class FakeJournal:
    """What the watch reads of a journal: insertion order, positions, lookups."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[int, FakeDelivery]] = {}
        self.position = 0

    def add(self, delivery: FakeDelivery) -> None:
        self.position += 1
        self.entries[delivery.id] = (self.position, delivery)

    def remove(self, delivery_id: str) -> None:
        del self.entries[delivery_id]

    def get(self, delivery_id: str) -> FakeDelivery | None:
        found = self.entries.get(delivery_id)
        return None if found is None else found[1]

    def select(self) -> list[FakeDelivery]:
        return [d for _, d in self.entries.values()]

    def added_after(self, position: int, limit: int | None = None) -> list[FakeDelivery]:
        newer = [d for seq, d in self.entries.values() if seq > position]
        return newer if limit is None else newer[-limit:]


def watch_of(journal: FakeJournal, window: int = 500) -> DeliveryWatch:
    return DeliveryWatch(cast(Journal, journal), window)


def states(attempts: int, end: str) -> list[tuple[str, int]]:
    """A delivery's life: pending, retrying after each failed attempt, then final."""
    return [("pending", 0)] + [("retrying", n) for n in range(1, attempts)] + [(end, attempts)]


def announced(changes: list[Any]) -> list[tuple[str, int | None]]:
    return [(c.phase, c.attempt) for c in changes]


@given(
    attempts=st.integers(min_value=1, max_value=6),
    end=st.sampled_from(["succeeded", "failed"]),
    looks=st.lists(st.booleans(), min_size=7, max_size=7),
    started_before=st.booleans(),
)
def test_each_retry_and_the_end_are_announced_once_whenever_it_polls(
    attempts: int, end: str, looks: list[bool], started_before: bool
) -> None:
    journal = FakeJournal()
    delivery = FakeDelivery("d1")
    if started_before:  # in progress when the stream connects
        journal.add(delivery)
    watch = watch_of(journal)
    if not started_before:
        journal.add(delivery)
    seen: list[tuple[str, int | None]] = []
    life = states(attempts, end)
    for (status, count), look in zip(life, looks, strict=False):
        delivery.status, delivery.attempts = status, list(range(count))
        if look or status == end:
            seen += announced(watch.poll())
    retries = [(phase, n) for phase, n in seen if phase == "retry_scheduled"]
    assert retries == [("retry_scheduled", n) for n in range(1, attempts)]
    assert seen[-1] == ("final", attempts)
    assert [phase for phase, _ in seen].count("final") == 1
    assert set(p for p, _ in seen) <= {"created", "retry_scheduled", "final"}
    assert watch.poll() == []  # nothing more to say


@given(done=st.integers(min_value=0, max_value=20), replay=st.integers(min_value=0, max_value=30))
def test_finished_deliveries_are_only_shown_when_replay_asks(done: int, replay: int) -> None:
    journal = FakeJournal()
    for n in range(done):
        journal.add(FakeDelivery(f"old{n}", "succeeded", [0]))
    watch = watch_of(journal, window=10)
    shown = watch.replay(replay)
    newest = min(replay, 10, done)  # never more than the window
    assert [c.delivery_id for c in shown] == [f"old{n}" for n in range(done - newest, done)]
    assert all(c.phase == "replay" for c in shown)
    assert watch.poll() == []
    journal.add(FakeDelivery("new", "pending"))
    assert announced(watch.poll()) == [("created", None)]


def test_removed_entries_are_announced_and_forgotten() -> None:
    journal = FakeJournal()
    watch = watch_of(journal)
    journal.add(FakeDelivery("a", "succeeded", [0]))
    journal.add(FakeDelivery("b", "pending"))
    assert announced(watch.poll()) == [("final", 1), ("created", None)]
    journal.remove("a")
    journal.remove("b")
    changes = watch.poll()
    assert [(c.phase, c.delivery_id, c.delivery) for c in changes] == [
        ("removed", "a", None),
        ("removed", "b", None),
    ]
    assert watch.poll() == []


def test_the_window_keeps_what_is_in_progress() -> None:
    journal = FakeJournal()
    watch = watch_of(journal, window=2)
    slow = FakeDelivery("slow", "pending")
    journal.add(slow)
    for n in range(5):
        journal.add(FakeDelivery(f"done{n}", "succeeded", [0]))
    watch.poll()
    slow.status, slow.attempts = "failed", [0]
    assert announced(watch.poll()) == [("final", 1)]  # still watched beyond the window
