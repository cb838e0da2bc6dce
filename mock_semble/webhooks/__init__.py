"""The webhook-subscription domain (SPEC §1.1-§1.5): models, rules, store, operations,
GraphQL types and its state-document section, registered as :data:`DOMAIN`."""

from __future__ import annotations

from ..core.domain import Domain
from ..core.runtime import Runtime
from .graphql import build_types
from .operations import STORE
from .state import SubscriptionSection
from .store import SubscriptionStore


def _new_store(runtime: Runtime) -> SubscriptionStore:
    return SubscriptionStore(runtime.ids, runtime.lock)


def subscriptions_of(runtime: Runtime) -> SubscriptionStore:
    """The runtime's webhook subscriptions (for the delivery engine and control plane)."""
    return runtime.store(STORE, SubscriptionStore)


DOMAIN = Domain(STORE, _new_store, build_types, SubscriptionSection())

__all__ = ["DOMAIN", "SubscriptionStore", "subscriptions_of"]
