"""One server's world: settings, clock, ids, store, journals — and how they reset."""

from __future__ import annotations

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
        self.deliveries: DeliveryEngine | None = None
        self._reset_hooks: list[ResetHook] = []
        self.seed_configured()

    def seed_configured(self) -> None:
        """Create the configured practices and tokens (they survive a reset)."""
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
        self.ids.mark()

    def on_reset(self, hook: ResetHook) -> None:
        """Register a journal (deliveries, …) to be cleared with the store."""
        self._reset_hooks.append(hook)

    def reset(self, practice_id: str | None = None) -> None:
        """Whole reset: back to the configured practices and tokens, real time, and the
        seeded id sequence restarted. Per practice: that practice's subscriptions and
        deliveries only; the practice and its tokens stay."""
        self.store.reset(practice_id)
        for hook in self._reset_hooks:
            hook(practice_id)
        if practice_id is None:
            self.requests.clear()
            self.clock.reset()
            self.ids.rewind()

    @property
    def default_practice_id(self) -> str | None:
        if self.settings.tokens:
            return self.settings.tokens[0].practice_id
        return next(iter(self.store.practices), None)

    def uptime(self) -> float:
        return time.monotonic() - self.started
