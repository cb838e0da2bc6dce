"""Fault rules (SPEC §4.1): one runtime's list of ways to misbehave on purpose.

A rule names a target (the GraphQL API or webhook deliveries), what it matches, an
action, how many times it may answer (``times``; ``None`` = until deleted) and a
``probability``. The API layer and the delivery engine ask :meth:`FaultRules.take`
for the first rule that answers; what the action *does* lives with them
(``api.faults``, ``delivery.faults``). Rules are runtime data: not in state documents,
cleared by a whole reset (and by a state import, which runs the reset hooks).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .runtime import Runtime

API = "api"
DELIVERY = "delivery"
TARGETS = (API, DELIVERY)
MATCH_KEYS: Mapping[str, tuple[str, ...]] = {
    API: ("operationName", "field", "practiceId", "token"),
    DELIVERY: ("subscriptionId", "eventType"),
}
API_ACTIONS = ("graphql_error", "http", "delay", "drop", "rate_limited", "edge_blocked")
DELIVERY_ACTIONS = ("bad_signature", "stale_timestamp", "missing_signature", "duplicate", "delay")
ACTIONS: Mapping[str, tuple[str, ...]] = {API: API_ACTIONS, DELIVERY: DELIVERY_ACTIONS}

EXTENSION = "faults"

# What a request or delivery has for a match key: every value (a document may select
# several root fields); the rule's value must be one of them.
Facts = Callable[[str], Collection[str]]


@dataclass(slots=True)
class FaultRule:
    id: str
    target: str
    match: Mapping[str, str]
    action: Mapping[str, Any]  # {"type": …, and the action's parameters}
    times: int | None  # None: until deleted
    probability: float
    hits: int = 0

    @property
    def type(self) -> str:
        return str(self.action["type"])

    @property
    def spent(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, facts: Facts) -> bool:
        return all(value in facts(key) for key, value in self.match.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "target": self.target,
            "match": dict(self.match),
            "action": dict(self.action),
            "times": self.times,
            "probability": self.probability,
            "hits": self.hits,
        }


class FaultRules:
    """The rules of one runtime, in creation order, and the generator that decides
    ``probability`` draws (its own, so a seeded run's ids and secrets do not shift)."""

    def __init__(self, seed: int | None) -> None:
        self._seed = seed
        self._random = random.Random(seed)
        self._rules: dict[str, FaultRule] = {}
        self._lock = threading.Lock()
        self._count = 0  # never restarts: a stale handle cannot delete a newer rule

    def add(
        self,
        target: str,
        match: Mapping[str, str],
        action: Mapping[str, Any],
        *,
        times: int | None = 1,
        probability: float = 1.0,
    ) -> FaultRule:
        """A new rule (the caller has checked its parts: ``control.faults``)."""
        with self._lock:
            self._count += 1
            rule = FaultRule(
                f"fault-{self._count}", target, dict(match), dict(action), times, probability
            )
            self._rules[rule.id] = rule
            return rule

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules.values())

    def get(self, rule_id: str) -> FaultRule | None:
        return self._rules.get(rule_id)

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            return self._rules.pop(rule_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, target: str, facts: Facts) -> FaultRule | None:
        """The first rule (in creation order) of ``target`` that matches ``facts``, is
        not spent and wins its probability draw; its hit is counted. A rule whose draw
        misses is passed over (a miss is not a hit); a rule of probability 1 draws
        nothing, so adding one does not move the draws of the others."""
        if not self._rules:  # the common case: no rules, no lock
            return None
        with self._lock:
            for rule in self._rules.values():
                if rule.target != target or rule.spent or not rule.matches(facts):
                    continue
                if rule.probability < 1 and self._random.random() >= rule.probability:
                    continue
                rule.hits += 1
                return rule
        return None

    def reset(self, practice_id: str | None) -> None:
        """Reset hook: a whole reset drops every rule and restarts the draws; a practice
        reset drops the API rules that match that practice."""
        with self._lock:
            if practice_id is None:
                self._rules.clear()
                self._random.seed(self._seed)
            else:
                for rule in list(self._rules.values()):
                    if rule.match.get("practiceId") == practice_id:
                        del self._rules[rule.id]


def fault_rules(runtime: Runtime) -> FaultRules:
    """The runtime's rules, made (and hooked to reset) on first use."""
    rules = runtime.extensions.get(EXTENSION)
    if rules is None:
        with runtime.lock:
            rules = runtime.extensions.get(EXTENSION)
            if rules is None:
                rules = FaultRules(runtime.settings.seed)
                runtime.on_reset(rules.reset)
                runtime.extensions[EXTENSION] = rules
    assert isinstance(rules, FaultRules)
    return rules
