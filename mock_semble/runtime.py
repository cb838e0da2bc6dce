"""One server's world: settings, clock, ids, store, journals — and how they reset."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .clock import Clock
from .config import Settings
from .ids import IdFactory
from .requestlog import RequestLog
from .store import Store

if TYPE_CHECKING:
    from .delivery import DeliveryEngine
    from .snapshot import State, SubscriptionRecord

ResetHook = Callable[[str | None], None]


class Runtime:
    """The state behind one app; tests and the control plane reach everything here."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = Clock()
        self.ids = IdFactory(settings.seed)
        self.store = Store(self.ids)
        self.requests = RequestLog(settings.request_journal_size)
        self.started = time.monotonic()
        self._reset_hooks: list[ResetHook] = []
        from .delivery import DeliveryEngine

        self.deliveries: DeliveryEngine = DeliveryEngine(self)
        self.on_reset(self.deliveries.reset)
        # A --state-file is the start-up state: its practices and tokens replace the
        # configured ones (a state document carries its own), its subscriptions load too.
        self.startup_subscriptions: tuple[SubscriptionRecord, ...] = ()
        if settings.state_file is not None:
            from .snapshot import load_state_file

            state = load_state_file(settings.state_file, settings)  # ConfigError: one line
            self.settings = dataclasses.replace(
                settings, practices=state.practices, tokens=state.tokens
            )
            self.startup_subscriptions = state.subscriptions
        self.seed_configured()

    def seed_configured(self) -> None:
        """Create the configured practices and tokens and the --state-file's
        subscriptions: the start-up state, which a whole reset returns to."""
        for seed in self.settings.practices:
            self.store.add_practice(
                seed.name,
                webhooks_enabled=seed.webhooks_enabled,
                practice_id=seed.id,
                configured=True,
            )
        for token in self.settings.tokens:
            self.store.add_token(
                token.practice_id, token.permissions, token=token.token, configured=True
            )
        for record in self.startup_subscriptions:
            self.store.insert_loaded(record.materialize())
        self.startup = self._capture_startup()
        self.ids.mark()

    def _capture_startup(self) -> State:
        """What a whole reset returns to (ids generated for id-less practices included)."""
        from .config import PracticeSeed, TokenSeed
        from .snapshot import State

        return State(
            tuple(
                PracticeSeed(p.name, p.id, p.webhooks_enabled)
                for p in self.store.practices.values()
            ),
            tuple(
                TokenSeed(t.token, t.practice_id, t.permissions) for t in self.store.tokens.values()
            ),
            self.startup_subscriptions,
        )

    def on_reset(self, hook: ResetHook) -> None:
        """Register a journal (deliveries, …) to be cleared with the store."""
        self._reset_hooks.append(hook)

    def reset(self, practice_id: str | None = None) -> None:
        """Whole reset: back to the start-up state (the configured practices and tokens,
        or the --state-file's content, whatever PUT /__mock/state loaded since), real time,
        and the seeded id sequence restarted. Per practice: that practice's subscriptions
        and deliveries only (its --state-file subscriptions come back); the practice and its
        tokens stay."""
        from .snapshot import load_into

        with self.store.lock:
            if practice_id is None:
                load_into(self.store, self.startup, configured=True)
            else:
                self.store.reset_practice(practice_id)
                for record in self.startup_subscriptions:
                    if record.practice_id == practice_id and self.store.find(record.id) is None:
                        self.store.insert_loaded(record.materialize())
        for hook in self._reset_hooks:
            hook(practice_id)
        if practice_id is None:
            self.requests.clear()
            self.clock.reset()
            self.ids.rewind()

    def clear_journals(self) -> None:
        """Clear what the reset hooks hold (deliveries, …) without touching the store."""
        for hook in self._reset_hooks:
            hook(None)

    @property
    def default_practice_id(self) -> str | None:
        if self.settings.tokens:
            return self.settings.tokens[0].practice_id
        return next(iter(self.store.practices), None)

    def uptime(self) -> float:
        return time.monotonic() - self.started
