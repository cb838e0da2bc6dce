"""Plumbing of the stateful machine: who calls, how answers are checked, which events
fired (the delivery journal of a ``record``-mode server), and the outcome counts."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine

from mock_semble.testing import MockSembleServer

from .model import Caller, Patient, Sub, payload_error

SUBS = Bundle("subs")
PATIENTS = Bundle("patients")
# A fired event as the journal should show it: (practice, dotted type, identifiers or
# None for "any", metadata or None for "none or any")
Fired = tuple[str, str, dict[str, str] | None, dict[str, Any] | None]
# root fields whose type is non-null: a refusal nulls the whole ``data``
NON_NULL_ROOTS = ("webhooks",)


@dataclass(frozen=True)
class Scale:
    """Who calls, how often, and how long the machine runs."""

    name: str
    callers: dict[str, Caller]
    writers: tuple[str, ...]  # callers drawn for most rules, repeats weigh them
    examples: int
    steps: int

    @property
    def practices(self) -> dict[str, bool]:
        """practice id -> webhooks enabled, in caller order."""
        return {c.practice: c.webhooks_enabled for c in self.callers.values()}


@dataclass
class Outcomes:
    """How often each class of answer was seen (so a run can prove it reached them)."""

    examples: int = 0
    steps: int = 0
    calls: int = 0
    seen: Counter[str] = field(default_factory=Counter)


class MachineBase(RuleBasedStateMachine):
    server: ClassVar[MockSembleServer]
    scale: ClassVar[Scale]
    mode: ClassVar[str]  # the API version: "enum" or "strings"
    outcomes: ClassVar[Outcomes]

    def __init__(self) -> None:
        super().__init__()
        self.http = httpx.Client(base_url=self.server.url, timeout=30)
        self.http.post("/__mock/reset").raise_for_status()
        self.subs: dict[str, Sub] = {}  # creation order, every practice, deleted included
        self.patients: dict[str, Patient] = {}
        self.outcomes.examples += 1

    def teardown(self) -> None:
        self.http.close()

    # -- calling --------------------------------------------------------------------

    def who(self, data: st.DataObject, *, writers: bool = True) -> str:
        pool = self.scale.writers if writers else tuple(self.scale.callers)
        return data.draw(st.sampled_from(pool), label="who")

    def who_for(self, data: st.DataObject, practice: str | None) -> str:
        """A writer, most often one of ``practice`` (the owner of the record at hand), so
        that sequences on one record succeed; sometimes anyone (isolation)."""
        own = [w for w in self.scale.writers if self.scale.callers[w].practice == practice]
        if own and data.draw(st.integers(0, 3), label="owner") > 0:
            return data.draw(st.sampled_from(own), label="who")
        return self.who(data)

    def creator(self, practice: str, permission: str) -> str | None:
        """A caller of ``practice`` allowed ``permission``, if there is one."""
        for name, caller in self.scale.callers.items():
            if caller.practice == practice and caller.refusal(permission) is None:
                return name
        return None

    def call(self, who: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"x-token": self.scale.callers[who].token},
        )
        self.outcomes.calls += 1
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def step(self) -> None:
        self.outcomes.steps += 1

    def outcome(self, name: str) -> None:
        self.outcomes.seen[name] += 1

    # -- checking answers -------------------------------------------------------------

    def forbidden(self, who: str, root: str, permission: str, body: dict[str, Any]) -> bool:
        """Whether ``who`` is refused ``permission``, having checked the answer says so
        (or that it has no error at all)."""
        refusal = self.scale.callers[who].refusal(permission)
        if refusal is None:
            assert "errors" not in body, body
            return False
        assert body["data"] == (None if root in NON_NULL_ROOTS else {root: None}), body
        [error] = body["errors"]
        assert error["message"] == refusal, error
        assert error["extensions"]["code"] == "FORBIDDEN", error
        self.outcome(f"{root}: FORBIDDEN")
        return True

    def payload(
        self, who: str, root: str, permission: str, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A mutation's payload, or None after checking a FORBIDDEN answer."""
        if self.forbidden(who, root, permission, body):
            return None
        value: dict[str, Any] = body["data"][root]
        assert value is not None, body
        return value

    def expect_payload_error(self, root: str, body: dict[str, Any], message: str) -> None:
        assert body["data"][root] == {"data": None, "error": message}, body
        status, code = payload_error(message)
        assert body["extensions"]["payloadErrors"] == [
            {"path": [root], "status": status, "code": code, "message": message}
        ], body
        self.outcome(f"{root}: {code}")

    def listeners(self, practice: str, event: str) -> list[Sub]:
        return [s for s in self.subs.values() if s.practice == practice and s.listens(event)]

    def expect_events(self, fired: list[Fired]) -> None:
        """The journal holds exactly the deliveries of ``fired``: one per listening
        subscription, in order, ``recorded`` or ``skipped_paused``; then it is cleared."""
        expected = [
            (sub.id, event, identifiers, metadata, "skipped_paused" if sub.paused else "recorded")
            for practice, event, identifiers, metadata in fired
            for sub in self.listeners(practice, event)
        ]
        journal = self.http.get("/__mock/deliveries", params={"limit": 1000}).json()
        got = []
        for n, delivery in enumerate(journal["deliveries"]):
            body = json.loads(delivery["body"])
            want = expected[n] if n < len(expected) else None
            # "any" in the expectation: the value is not compared
            identifiers = None if want and want[2] is None else body["identifiers"]
            metadata = None if want and want[3] is None else body.get("metadata")
            sub_id, status = body["subscriptionId"], delivery["status"]
            got.append((sub_id, body["eventType"], identifiers, metadata, status))
        assert got == expected, (got, expected)
        if expected:
            self.http.delete("/__mock/deliveries").raise_for_status()
            self.outcome("events: delivered")
        self.outcomes.calls += 2
