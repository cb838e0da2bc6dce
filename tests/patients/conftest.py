"""The world the refusal tests run in: one patient with one of every sub-record, a
second patient, and subscriptions to every patient event (recorded, not sent), so a
refusal can be shown to change nothing and fire nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from mock_semble.testing import MockSembleServer

from . import documents as d

PATIENT_EVENTS = [
    "patient.created",
    "patient.updated",
    "patient.deleted",
    "patient.archived",
    "patient.unarchived",
    "patient.membership.updated",
    "patient.label.added",
    "patient.label.removed",
    "patient.customAttribute.added",
    "patient.customAttribute.updated",
    "patient.customAttribute.removed",
    "patient.relationship.added",
    "patient.relationship.updated",
    "patient.relationship.removed",
    "patient.phone.added",
    "patient.phone.updated",
    "patient.phone.removed",
    "patient.number.added",
    "patient.number.updated",
    "patient.number.removed",
]
ALL = ["seePatients", "createPatients", "editPatients", "deletePatients"]


@dataclass
class World:
    server: MockSembleServer
    patient: dict[str, Any]  # with one of every sub-record
    other: dict[str, Any]  # a second patient (the related one)

    @property
    def ids(self) -> dict[str, str]:
        p = self.patient
        return {
            "id": p["id"],
            "label": p["labels"][0]["id"],
            "phoneId": p["phones"][0]["phoneId"],
            "attrId": p["customAttributes"][0]["id"],
            "numberId": p["numbers"][0]["id"],
            "relId": p["relatedAccounts"][0]["relationshipId"],
        }

    def snapshot(self) -> Any:
        return self.server.state()["patients"]


@pytest.fixture
def world(mock_semble: MockSembleServer) -> World:
    other = d.create(mock_semble, first="Anne", last="Byron")
    pid = d.create(mock_semble, labels=[d.VIP], phoneNumber="1", customAttributes=[d.ATTRIBUTE])[
        "id"
    ]
    mock_semble.execute(
        d.ADD_NUMBER, {"id": pid, "number": {"numberId": d.NHS_NUMBER, "value": "1"}}
    )
    mock_semble.execute(d.ADD_MEMBERSHIP, {"id": pid, "membership": d.GOLD})
    mock_semble.execute(d.ADD_ACCESS_GROUP, {"id": pid, "group": d.EVERYONE})
    contact = {"firstName": "May"}
    patient = d.ok(
        mock_semble.execute(d.ADD_RELATIONSHIP, {"id": pid, "type": "FAMILY", "contact": contact})
    )
    for n in range(0, len(PATIENT_EVENTS), 10):
        url = f"http://127.0.0.1:9/hooks/{n}"
        mock_semble.create_webhook(url, PATIENT_EVENTS[n : n + 10])
    mock_semble.clear_deliveries()
    return World(mock_semble, patient, other)


def token_without(server: MockSembleServer, permission: str) -> str:
    """A token of the default practice with every patient permission but ``permission``."""
    body = {"practiceId": d.PRACTICE, "permissions": [p for p in ALL if p != permission]}
    return str(server.control("POST", "tokens", json=body)["token"])


def assert_unchanged(world: World, before: Any) -> None:
    """Nothing stored changed and no event was published (deliveries are journaled when
    an event is published, before the response)."""
    assert world.snapshot() == before
    assert world.server.deliveries() == []


def refused(
    world: World,
    document: str,
    variables: dict[str, Any],
    field: str,
    message: str,
    status: int,
    code: str,
) -> None:
    """The payload error, in ``error`` and in ``extensions.payloadErrors``."""
    result = world.server.execute(document, variables)
    assert "errors" not in result, result
    assert result["data"] == {field: {"data": None, "error": message}}
    assert result["extensions"]["payloadErrors"] == [
        {"path": [field], "status": status, "code": code, "message": message}
    ]


Vars = Callable[[dict[str, str]], dict[str, Any]]
