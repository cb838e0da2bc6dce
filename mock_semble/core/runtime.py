"""One server's world: settings, clock, ids, tenancy, domain stores, journals — and how
they reset. Knows no domain by name: domains register through :class:`Domain`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .clock import Clock
from .domain import Domain, DomainStore
from .events import Event
from .ids import IdFactory
from .requestlog import RequestLog
from .settings import Settings
from .tenancy import PracticeSeed, Tenancy, TokenSeed

ResetHook = Callable[[str | None], None]
Subscriber = Callable[[Event], None]
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class State:
    """A validated state document: practices, tokens, and each domain's records."""

    practices: tuple[PracticeSeed, ...]
    tokens: tuple[TokenSeed, ...]
    sections: Mapping[str, Sequence[Any]] = field(default_factory=dict)


class Runtime:
    """The state behind one app; tests and the control plane reach everything here."""

    def __init__(self, settings: Settings, domains: Sequence[Domain]) -> None:
        self.settings = settings
        self.domains = tuple(domains)
        self.clock = Clock()
        self.ids = IdFactory(settings.seed)
        self.lock = threading.RLock()  # one lock: every mutation is atomic across domains
        self.tenancy = Tenancy(self.ids, self.lock)
        self.requests = RequestLog(settings.request_journal_size)
        self.started = time.monotonic()
        self.stores: dict[str, DomainStore] = {d.name: d.new_store(self) for d in self.domains}
        self.extensions: dict[str, Any] = {}  # layers above core keep their parts here
        self._subscribers: list[Subscriber] = []
        self._reset_hooks: list[ResetHook] = []
        self.startup = State(settings.practices, settings.tokens)

    # -- events ---------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> None:
        """Receive every published event (the delivery engine)."""
        self._subscribers.append(subscriber)

    def publish(self, event: Event) -> None:
        """Hand an event to the subscribers; called after the change is stored."""
        for subscriber in self._subscribers:
            subscriber(event)

    # -- stores ---------------------------------------------------------------------------

    def store(self, name: str, kind: type[S]) -> S:
        store = self.stores[name]
        assert isinstance(store, kind)
        return store

    # -- start-up state and reset ---------------------------------------------------------

    def load_startup(self, state: State) -> None:
        """Make ``state`` the start-up state (what a whole reset returns to) and load it.
        Ids generated for id-less practices are fixed here, once."""
        with self.lock:
            self._clear()
            self._load(state, configured=True)
            practices, tokens = self.tenancy.seeds()
            self.startup = State(practices, tokens, state.sections)
        self.ids.mark()

    def import_state(self, state: State) -> None:
        """``PUT /__mock/state``: the document replaces everything, as runtime data (a
        whole reset returns to the start-up state); journals are cleared, since their
        entries would name records that may no longer exist."""
        with self.lock:
            self._clear()
            self._load(state, configured=False)
        for hook in self._reset_hooks:
            hook(None)

    def collect_garbage(self) -> None:
        """Free what a clear parked (after the response has gone: a lazy free)."""
        for store in self.stores.values():
            store.collect_garbage()

    def _clear(self) -> None:
        self.tenancy.clear()
        for store in self.stores.values():
            store.clear()

    def _load(self, state: State, *, configured: bool) -> None:
        self.tenancy.load(state.practices, state.tokens, configured=configured)
        for domain in self.domains:
            records = state.sections.get(domain.state.key, ())
            domain.state.load(self.stores[domain.name], records)

    def on_reset(self, hook: ResetHook) -> None:
        """Register a journal (deliveries, …) to be cleared with the store."""
        self._reset_hooks.append(hook)

    def reset(self, practice_id: str | None = None) -> None:
        """Whole reset: back to the start-up state, real time, and the seeded id sequence
        restarted. Per practice: that practice's domain data only (its start-up records
        come back); the practice and its tokens stay."""
        with self.lock:
            if practice_id is None:
                self._clear()
                self._load(self.startup, configured=True)
            else:
                for domain in self.domains:
                    store = self.stores[domain.name]
                    store.reset_practice(practice_id)
                    records = self.startup.sections.get(domain.state.key, ())
                    domain.state.load(store, records, practice_id)
        for hook in self._reset_hooks:
            hook(practice_id)
        if practice_id is None:
            self.requests.clear()
            self.clock.reset()
            self.ids.rewind()

    def clear_journals(self) -> None:
        """Clear what the reset hooks hold (deliveries, …) without touching the stores."""
        for hook in self._reset_hooks:
            hook(None)

    @property
    def default_practice_id(self) -> str | None:
        """The first start-up token's practice (else the first practice)."""
        if self.startup.tokens:
            return self.startup.tokens[0].practice_id
        return next(iter(self.tenancy.practices), None)

    @property
    def default_token(self) -> str | None:
        """The first start-up token: the config file's, or the --state-file's."""
        return self.startup.tokens[0].token if self.startup.tokens else None

    def uptime(self) -> float:
        return time.monotonic() - self.started
