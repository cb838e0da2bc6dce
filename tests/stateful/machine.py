"""One hypothesis state machine of the whole API (webhooks and patients) against a
reference model, parameterised by :class:`Scale` and by API version.

Each example starts from a reset server (``delivery_mode="record"``: events are signed
and journaled, never sent) with one observer subscription per practice that allows
webhooks, listening to every event type of the API version, so every event a mutation
fires shows in the delivery journal. The rules (:mod:`.webhook_rules`,
:mod:`.patient_rules`) call the API as drawn callers and check each answer, and the
events it fired, against the model; after every step the state document must hold
exactly the model (isolation: every record in its own practice, secrets as the client
saw them, soft-deleted records kept) and no two live subscriptions may conflict.

``tests/testing/test_stateful.py`` runs :data:`QUICK`, ``tests/reliability`` runs :data:`SCALED`;
both in the ``enum`` and the ``strings`` API version.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.stateful import initialize, invariant

from mock_semble.core.settings import Settings
from mock_semble.core.tenancy import Permission, PracticeSeed, TokenSeed
from mock_semble.testing import MockSembleServer
from mock_semble.testing.documents import CREATE_WEBHOOK

from .base import Outcomes, Scale
from .model import Caller, Sub, seen, subscribable
from .patient_rules import PatientRules
from .webhook_rules import WebhookRules

WEBHOOKS = frozenset({"seeWebhooks", "createWebhooks", "editWebhooks", "deleteWebhooks"})
PATIENTS = frozenset({"seePatients", "createPatients", "editPatients", "deletePatients"})
ALL = WEBHOOKS | PATIENTS
P1, P2, P3 = "0000000000000000000000e1", "0000000000000000000000e2", "0000000000000000000000e3"


def _number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


QUICK = Scale(
    "quick",
    callers={"one": Caller("token-one", P1, ALL), "two": Caller("token-two", P2, ALL)},
    writers=("one", "two"),
    examples=_number("MOCK_SEMBLE_STATEFUL_EXAMPLES", 30),
    steps=_number("MOCK_SEMBLE_STATEFUL_STEPS", 30),
)
# Three practices with different rights: P1 may do everything; P2 has a token without
# the delete permissions and a read-only one; P3 has webhooks disabled (its token holds
# every permission and is refused anyway for webhooks, never for patients).
SCALED = Scale(
    "scaled",
    callers={
        "a-full": Caller("tok-a-full", P1, ALL),
        "b-nodelete": Caller("tok-b-nodelete", P2, ALL - {"deleteWebhooks", "deletePatients"}),
        "b-readonly": Caller("tok-b-readonly", P2, frozenset({"seeWebhooks", "seePatients"})),
        "c-disabled": Caller("tok-c-disabled", P3, ALL, webhooks_enabled=False),
    },
    writers=("a-full",) * 3 + ("b-nodelete",) * 2 + ("b-readonly", "c-disabled"),
    examples=_number("MOCK_SEMBLE_STATEFUL_SCALE_EXAMPLES", 100),
    steps=_number("MOCK_SEMBLE_STATEFUL_SCALE_STEPS", 50),
)


class ApiMachine(WebhookRules, PatientRules):
    @initialize()
    def observers(self) -> None:
        """One subscription per practice that allows webhooks, listening to everything."""
        for practice in self.scale.practices:
            who = self.creator(practice, "createWebhooks")
            if who is None:
                continue
            events = list(subscribable(self.mode))
            url = f"https://observer.example.com/{practice}"
            given = {"url": url, "eventTypes": self.wire(events), "label": "observer"}
            payload = self.call(who, CREATE_WEBHOOK, {"input": given})["data"]["createWebhook"]
            data = payload["data"]
            assert payload["error"] is None and data["eventTypes"] == given["eventTypes"]
            sub = Sub(data["id"], practice, url, events, "observer", None, data["secret"], "")
            sub.updated_at = data["updatedAt"]
            self.subs[sub.id] = sub
        self.expect_events([])

    @invariant()
    def the_store_is_the_model(self) -> None:
        state = self.http.get("/__mock/state").json()
        self.outcomes.calls += 1
        stored = {s["id"]: s for s in state["subscriptions"]}
        assert sorted(stored) == sorted(self.subs)  # deleted ones kept
        for sub_id, sub in self.subs.items():
            record = stored[sub_id]
            assert record["practiceId"] == sub.practice  # isolation: never moved
            assert record["secret"] == sub.secret  # the secret the client saw on create
            assert record["eventTypes"] == sub.events  # state documents store dotted types
            assert (record["url"], record["label"], record["headers"]) == (
                sub.url,
                sub.label,
                sub.headers,
            )
            assert (record["deleted"], record["deliveryPaused"], record["updatedAt"]) == (
                sub.deleted,
                sub.paused,
                sub.updated_at,
            )
        patients = {p["id"]: p for p in state["patients"]}
        assert sorted(patients) == sorted(self.patients)  # deleted ones kept
        for patient_id, patient in self.patients.items():
            record = patients[patient_id]
            assert record["practiceId"] == patient.practice
            assert (seen(record), record["deleted"]) == (patient.as_seen(), patient.deleted)
            assert record["updatedAt"] == patient.updated_at

    @invariant()
    def no_two_live_subscriptions_conflict(self) -> None:
        claims: dict[tuple[str, str, str], str] = {}
        for sub in self.subs.values():
            for event in [] if sub.deleted else sub.events:
                claim = (sub.practice, sub.key, event)
                assert claim not in claims, (sub.id, claims[claim])
                claims[claim] = sub.id


def server_settings(scale: Scale, mode: str) -> Settings:
    return Settings(
        practices=tuple(
            PracticeSeed(f"Practice {n}", practice, enabled)
            for n, (practice, enabled) in enumerate(scale.practices.items())
        ),
        tokens=tuple(
            TokenSeed(c.token, c.practice, frozenset(Permission(p) for p in c.permissions))
            for c in scale.callers.values()
        ),
        event_types=mode,
        delivery_mode="record",
    )


def run_machine(server: MockSembleServer, scale: Scale, mode: str) -> Outcomes:
    """Run the machine ``scale.examples`` times against ``server`` (of API ``mode``)."""
    outcomes = Outcomes()
    attributes: dict[str, Any] = {
        "server": server,
        "scale": scale,
        "mode": mode,
        "outcomes": outcomes,
    }
    machine: type[ApiMachine] = type(f"ApiMachine_{scale.name}_{mode}", (ApiMachine,), attributes)
    case = machine.TestCase
    case.settings = settings(
        max_examples=scale.examples,
        stateful_step_count=scale.steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    case().runTest()
    return outcomes


__all__ = ["QUICK", "SCALED", "ApiMachine", "run_machine", "server_settings"]
