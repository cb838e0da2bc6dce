"""What a domain folder (``webhooks/``, ``patients/``) gives the rest of the mock.

A new domain is one folder that exports a :class:`Domain`, plus one line in
``mock_semble/domains.py``. The GraphQL wire assembles the schema from ``graphql``,
the runtime creates each ``store``, the control plane and state documents use ``state``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .runtime import Runtime

Json = Any


class DomainStore(Protocol):
    """The mutable state of one domain, for every practice of a runtime."""

    changes: int  # bumped by every change, never reset: a long export notices one

    def reset_practice(self, practice_id: str) -> None:
        """Drop one practice's records."""

    def clear(self) -> None:
        """Drop everything (before a whole reset or a state import)."""

    def collect_garbage(self) -> None:
        """Free what ``clear`` parked (called after the response has gone)."""


class StateSection(Protocol):
    """A domain's part of a state document: a list of records under ``key``."""

    key: str

    def records(self, store: Any) -> list[Any]:
        """Every record, in an order that imports back identically (a new list)."""

    def record_json(self, record: Any) -> Json:
        """One record as JSON (a new object: it shares nothing mutable with the record)."""

    def parse(
        self, items: list[Json], practice_ids: set[str], settings: Any, version: int
    ) -> Sequence[Any]:
        """Validate a document's records (raise ``ConfigError`` naming the first
        problem); nothing is stored yet. ``version`` is the document's (1 or 2)."""

    def load(self, store: Any, records: Sequence[Any], practice_id: str | None = None) -> None:
        """Insert parsed records (only those of ``practice_id`` when given)."""


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    new_store: Callable[[Runtime], DomainStore]
    # (API version: "enum" | "strings") -> the strawberry root types it adds (Query, Mutation)
    graphql: Callable[[str], tuple[type, type]]
    state: StateSection
