"""Events from patient mutations (SPEC §3): per mutation a real receiver gets the right
event type with the real record ids as identifiers, signed; createPatient fires only
``patient.created``; unchanged updates and access-group changes fire nothing; the
enum API version delivers only the three enum types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mock_semble.testing import MockSembleServer, WebhookReceiver

from . import documents as d
from .conftest import PATIENT_EVENTS

Setup = Callable[[MockSembleServer], dict[str, Any]]
Run = Callable[[MockSembleServer, dict[str, Any]], dict[str, Any]]
Expect = Callable[[dict[str, Any], dict[str, Any]], dict[str, str]]


def _patient(server: MockSembleServer) -> dict[str, Any]:
    """A patient with one of each sub-record, and a second (related) patient."""
    other = d.create(server, first="Anne", last="Byron")
    pid = d.create(
        server, labels=[d.VIP], phoneNumber="1", phoneType="Home", customAttributes=[d.ATTRIBUTE]
    )["id"]
    server.execute(d.ADD_NUMBER, {"id": pid, "number": {"numberId": d.NHS_NUMBER, "value": "1"}})
    server.execute(d.ADD_MEMBERSHIP, {"id": pid, "membership": d.GOLD})
    contact = {"relatedAccountId": other["id"]}
    patient = d.ok(
        server.execute(d.ADD_RELATIONSHIP, {"id": pid, "type": "FAMILY", "contact": contact})
    )
    return {
        "patient": patient,
        "id": pid,
        "label": patient["labels"][0]["id"],
        "phoneId": patient["phones"][0]["phoneId"],
        "attrId": patient["customAttributes"][0]["id"],
        "numberId": patient["numbers"][0]["id"],
        "relId": patient["relatedAccounts"][0]["relationshipId"],
    }


def _archived(server: MockSembleServer) -> dict[str, Any]:
    world = _patient(server)
    d.ok(server.execute(d.ARCHIVE, {"id": world["id"], "reason": "OTHER"}))
    return world


def _call(document: str, variables: Callable[[dict[str, Any]], dict[str, Any]]) -> Run:
    return lambda server, world: d.ok(server.execute(document, variables(world)))


def _last(key: str, id_key: str) -> Callable[[dict[str, Any], dict[str, Any]], str]:
    """The id of the last record under ``key`` of the returned patient (the new one)."""
    return lambda world, patient: str(patient[key][-1][id_key])


def _only(name: str, key: str) -> Expect:
    return lambda world, patient: {"patientId": world["id"], name: world[key]}


def _new(name: str, key: str, id_key: str) -> Expect:
    return lambda world, patient: {
        "patientId": world["id"],
        name: _last(key, id_key)(world, patient),
    }


def _patient_only(world: dict[str, Any], patient: dict[str, Any]) -> dict[str, str]:
    return {"patientId": world["id"]}


# (mutation, setup, run, event type, expected identifiers)
CASES: list[tuple[str, Setup, Run, str, Expect]] = [
    (
        "updatePatient",
        _patient,
        _call(d.UPDATE, lambda w: {"id": w["id"], "data": {"city": "Bath"}}),
        "patient.updated",
        _patient_only,
    ),
    (
        "deletePatient",
        _patient,
        _call(d.DELETE, lambda w: {"id": w["id"]}),
        "patient.deleted",
        _patient_only,
    ),
    (
        "archivePatient",
        _patient,
        _call(d.ARCHIVE, lambda w: {"id": w["id"], "reason": "OTHER"}),
        "patient.archived",
        _patient_only,
    ),
    (
        "unarchivePatient",
        _archived,
        _call(d.UNARCHIVE, lambda w: {"id": w["id"]}),
        "patient.unarchived",
        _patient_only,
    ),
    (
        "addPatientLabel",
        _patient,
        _call(d.ADD_LABEL, lambda w: {"id": w["id"], "ref": d.NEW_PATIENT}),
        "patient.label.added",
        _new("labelId", "labels", "id"),
    ),
    (
        "removePatientLabel",
        _patient,
        _call(d.REMOVE_LABEL, lambda w: {"id": w["id"], "label": w["label"]}),
        "patient.label.removed",
        _only("labelId", "label"),
    ),
    (
        "addPatientPhoneNumber",
        _patient,
        _call(
            d.ADD_PHONE,
            lambda w: {"id": w["id"], "phone": {"phoneNumber": "2", "phoneType": "Work"}},
        ),
        "patient.phone.added",
        _new("phoneId", "phones", "phoneId"),
    ),
    (
        "updatePatientPhoneNumber",
        _patient,
        _call(
            d.UPDATE_PHONE,
            lambda w: {"id": w["id"], "phoneId": w["phoneId"], "phone": {"phoneType": "Mobile"}},
        ),
        "patient.phone.updated",
        _only("phoneId", "phoneId"),
    ),
    (
        "removePatientPhoneNumber",
        _patient,
        _call(d.REMOVE_PHONE, lambda w: {"id": w["id"], "phoneId": w["phoneId"]}),
        "patient.phone.removed",
        _only("phoneId", "phoneId"),
    ),
    (
        "addPatientAttribute",
        _patient,
        _call(d.ADD_ATTRIBUTE, lambda w: {"id": w["id"], "attr": d.ATTRIBUTE}),
        "patient.customAttribute.added",
        _new("customAttributeId", "customAttributes", "id"),
    ),
    (
        "updatePatientAttribute",
        _patient,
        _call(
            d.UPDATE_ATTRIBUTE,
            lambda w: {"id": w["id"], "attrId": w["attrId"], "attr": {"response": "Nuts"}},
        ),
        "patient.customAttribute.updated",
        _only("customAttributeId", "attrId"),
    ),
    (
        "removePatientAttribute",
        _patient,
        _call(d.REMOVE_ATTRIBUTE, lambda w: {"id": w["id"], "attrId": w["attrId"]}),
        "patient.customAttribute.removed",
        _only("customAttributeId", "attrId"),
    ),
    (
        "addPatientNumber",
        _patient,
        _call(
            d.ADD_NUMBER,
            lambda w: {"id": w["id"], "number": {"numberId": d.NHS_NUMBER, "value": "9"}},
        ),
        "patient.number.added",
        _new("numberId", "numbers", "id"),
    ),
    (
        "updatePatientNumber",
        _patient,
        _call(d.UPDATE_NUMBER, lambda w: {"id": w["id"], "numberId": w["numberId"], "value": "8"}),
        "patient.number.updated",
        _only("numberId", "numberId"),
    ),
    (
        "removePatientNumber",
        _patient,
        _call(d.REMOVE_NUMBER, lambda w: {"id": w["id"], "numberId": w["numberId"]}),
        "patient.number.removed",
        _only("numberId", "numberId"),
    ),
    (
        "addPatientMembership",
        _patient,
        _call(
            d.ADD_MEMBERSHIP, lambda w: {"id": w["id"], "membership": d.GOLD, "start": "2020-01-01"}
        ),
        "patient.membership.updated",
        _patient_only,
    ),
    (
        "removePatientMembership",
        _patient,
        _call(d.REMOVE_MEMBERSHIP, lambda w: {"id": w["id"], "membership": d.GOLD}),
        "patient.membership.updated",
        _patient_only,
    ),
    (
        "addPatientRelationship",
        _patient,
        _call(
            d.ADD_RELATIONSHIP,
            lambda w: {"id": w["id"], "type": "GP", "contact": {"firstName": "G"}},
        ),
        "patient.relationship.added",
        _new("relationshipId", "relatedAccounts", "relationshipId"),
    ),
    (
        "updatePatientRelationship",
        _patient,
        _call(
            d.UPDATE_RELATIONSHIP,
            lambda w: {"id": w["id"], "relId": w["relId"], "contact": {"notes": "n"}},
        ),
        "patient.relationship.updated",
        _only("relationshipId", "relId"),
    ),
    (
        "removePatientRelationship",
        _patient,
        _call(d.REMOVE_RELATIONSHIP, lambda w: {"id": w["id"], "relId": w["relId"]}),
        "patient.relationship.removed",
        _only("relationshipId", "relId"),
    ),
]


def _one_signed_delivery(
    server: MockSembleServer, receiver: WebhookReceiver, sub: dict[str, Any]
) -> dict[str, Any]:
    """The one request the receiver got, verified against the subscription's secret."""
    [request] = receiver.wait_for(1)
    assert receiver.verify(sub["secret"]) == 1
    body: dict[str, Any] = request.json
    assert body["subscriptionId"] == sub["id"]
    journal = server.deliveries(subscription_id=sub["id"])  # one event, nothing else
    assert [entry["eventType"] for entry in journal] == [body["eventType"]]
    return body


@pytest.mark.mock_semble(event_types="strings")
@pytest.mark.parametrize(("mutation", "setup", "run", "event_type", "expect"), CASES)
def test_each_mutation_delivers_its_event(
    mock_semble: MockSembleServer,
    webhook_receiver: WebhookReceiver,
    mutation: str,
    setup: Setup,
    run: Run,
    event_type: str,
    expect: Expect,
) -> None:
    world = setup(mock_semble)
    sub = mock_semble.create_webhook(webhook_receiver.url_for("/hooks"), [event_type])
    patient = run(mock_semble, world)
    body = _one_signed_delivery(mock_semble, webhook_receiver, sub)
    assert body["eventType"] == event_type
    assert body["identifiers"] == expect(world, patient)
    assert all(d.is_id(value) for value in body["identifiers"].values())


@pytest.mark.mock_semble(event_types="strings")
def test_create_fires_only_patient_created(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    events = [
        "patient.created",
        "patient.label.added",
        "patient.phone.added",
        "patient.customAttribute.added",
        "patient.updated",
    ]
    sub = mock_semble.create_webhook(webhook_receiver.url_for("/hooks"), events)
    patient = d.create(mock_semble, labels=[d.VIP], phoneNumber="1", customAttributes=[d.ATTRIBUTE])
    body = _one_signed_delivery(mock_semble, webhook_receiver, sub)
    assert (body["eventType"], body["identifiers"]) == (
        "patient.created",
        {"patientId": patient["id"]},
    )


@pytest.mark.mock_semble(event_types="strings", delivery_mode="record")
def test_what_changes_nothing_fires_nothing(mock_semble: MockSembleServer) -> None:
    world = _patient(mock_semble)
    for n in range(0, len(PATIENT_EVENTS), 10):
        mock_semble.create_webhook(f"http://127.0.0.1:9/{n}", PATIENT_EVENTS[n : n + 10])
    pid = world["id"]
    unchanged = [
        (d.UPDATE, {"id": pid, "data": {"first": "Ada", "city": None}}),
        (d.ADD_LABEL, {"id": pid, "ref": d.VIP}),  # held already
        (d.UPDATE_PHONE, {"id": pid, "phoneId": world["phoneId"], "phone": {"phoneType": "Home"}}),
        (d.UPDATE_PHONE, {"id": pid, "phoneId": world["phoneId"]}),
        (d.UPDATE_ATTRIBUTE, {"id": pid, "attrId": world["attrId"], "attr": {}}),
        (d.UPDATE_NUMBER, {"id": pid, "numberId": world["numberId"]}),
        (d.UPDATE_NUMBER, {"id": pid, "numberId": world["numberId"], "value": "1"}),
        (d.UPDATE_RELATIONSHIP, {"id": pid, "relId": world["relId"], "contact": {}}),
        (d.ADD_ACCESS_GROUP, {"id": pid, "group": d.EVERYONE}),  # access groups never fire
        (d.ADD_ACCESS_GROUP, {"id": pid, "group": d.EVERYONE}),
        (d.REMOVE_ACCESS_GROUP, {"id": pid, "group": d.EVERYONE}),
    ]
    for document, variables in unchanged:
        d.ok(mock_semble.execute(document, variables))
    assert mock_semble.deliveries() == []


def test_the_enum_version_delivers_patient_created(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    events = ["PATIENT_CREATED", "PATIENT_UPDATED", "PATIENT_DELETED"]
    sub = mock_semble.create_webhook(webhook_receiver.url_for("/hooks"), events)
    patient = mock_semble.create_patient("Ada", "Lovelace")
    mock_semble.execute(d.ADD_LABEL, {"id": patient["id"], "ref": d.VIP})  # no enum type
    body = _one_signed_delivery(mock_semble, webhook_receiver, sub)
    assert (body["eventType"], body["identifiers"]) == (
        "patient.created",
        {"patientId": patient["id"]},
    )
