"""Fault rules from tests (SPEC §4.1): what ``MockSembleClient.inject_fault`` returns.

::

    with mock_semble.inject_fault("rate_limited", match={"field": "createPatient"}) as fault:
        ...  # the client under test meets the rate limit once
    assert fault.rule["hits"] == 1  # the rule as it was when it was removed
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import MockSembleClient


def fault_rule(
    action: str | Mapping[str, Any],
    *,
    match: Mapping[str, str] | None,
    times: int | None,
    probability: float | None,
    target: str | None,
    parameters: Mapping[str, Any],
) -> dict[str, Any]:
    """The ``POST /__mock/faults`` body: ``action`` is a type (its parameters as keyword
    arguments, e.g. ``ms=500``) or a whole action object."""
    body: dict[str, Any] = {
        "action": {"type": action, **parameters} if isinstance(action, str) else dict(action),
        "times": times,
    }
    if match is not None:
        body["match"] = dict(match)
    if probability is not None:
        body["probability"] = probability
    if target is not None:
        body["target"] = target
    return body


class InjectedFault:
    """One fault rule on the server; as a context manager it removes the rule on exit
    (a rule already gone, e.g. after a reset, is fine)."""

    def __init__(self, client: MockSembleClient, rule: Mapping[str, Any]) -> None:
        self.client = client
        self.rule = dict(rule)  # as created; refreshed by .hits and by remove()

    @property
    def id(self) -> str:
        return str(self.rule["id"])

    @property
    def hits(self) -> int:
        """How many requests or deliveries the rule has answered so far."""
        self.rule = self.client.control("GET", f"faults/{self.id}")
        return int(self.rule["hits"])

    def remove(self) -> None:
        removed = self.client.remove_fault(self.id)
        if removed is not None:
            self.rule = removed

    def __enter__(self) -> InjectedFault:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"InjectedFault({self.rule!r})"
