"""The webhook domain's records: subscriptions and their headers.

Attribute names are the python names of the GraphQL fields, so the schema's default
resolvers (and the fast path's generic projection) read these records directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

PAYLOAD_VERSION = "1"


class Header(NamedTuple):
    """A custom delivery header: a ``(key, value)`` pair with names."""

    key: str
    value: str


@dataclass(slots=True)
class Subscription:
    id: str
    practice_id: str
    signing_secret: str
    url: str
    label: str
    event_types: tuple[str, ...]  # dotted catalogue types, in the order given
    headers: tuple[Header, ...] | None
    created_at: datetime
    updated_at: datetime
    version: str = PAYLOAD_VERSION
    deleted: bool = False
    delivery_paused: bool = False
    url_key: str = field(default="", repr=False)  # normalised URL, for the conflict index
    # The circuit breaker's count (SPEC §2.5): consecutive deliveries that failed for good.
    # Not part of the API or of state documents, so a reset or an import clears it.
    failed_deliveries: int = field(default=0, repr=False, compare=False)

    @property
    def secret(self) -> str | None:
        """What the API shows: null, except in create/update payloads (:class:`Revealed`)."""
        return None


class Revealed:
    """A subscription as createWebhook / updateWebhook return it: with its secret."""

    __slots__ = ("_sub",)

    def __init__(self, sub: Subscription) -> None:
        self._sub = sub

    @property
    def secret(self) -> str:
        return self._sub.signing_secret

    def __getattr__(self, name: str) -> object:
        return getattr(self._sub, name)
