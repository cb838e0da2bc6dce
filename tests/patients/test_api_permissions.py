"""Permissions (SPEC §1.3, §3): a token without the permission gets FORBIDDEN naming it,
checked before any lookup, against an EXISTING patient; and a patient that is unknown,
malformed, deleted or another practice's is "Patient not found". Neither changes or
fires anything."""

from __future__ import annotations

import pytest

from . import documents as d
from .conftest import Vars, World, assert_unchanged, refused, token_without

pytestmark = pytest.mark.mock_semble(event_types="strings", delivery_mode="record")

# (root field, document, variables from the world's ids, permission it needs)
OPERATIONS: list[tuple[str, str, Vars, str]] = [
    ("patient", d.GET, lambda i: {"id": i["id"]}, "seePatients"),
    ("patients", d.LIST, lambda i: {}, "seePatients"),
    ("patientRelationships", d.RELATIONSHIPS, lambda i: {"id": i["id"]}, "seePatients"),
    ("createPatient", d.CREATE, lambda i: {"data": {"first": "A", "last": "B"}}, "createPatients"),
    ("updatePatient", d.UPDATE, lambda i: {"id": i["id"], "data": {"first": "Z"}}, "editPatients"),
    ("deletePatient", d.DELETE, lambda i: {"id": i["id"]}, "deletePatients"),
    ("archivePatient", d.ARCHIVE, lambda i: {"id": i["id"], "reason": "OTHER"}, "editPatients"),
    ("unarchivePatient", d.UNARCHIVE, lambda i: {"id": i["id"]}, "editPatients"),
    (
        "addPatientLabel",
        d.ADD_LABEL,
        lambda i: {"id": i["id"], "ref": d.NEW_PATIENT},
        "editPatients",
    ),
    (
        "removePatientLabel",
        d.REMOVE_LABEL,
        lambda i: {"id": i["id"], "label": i["label"]},
        "editPatients",
    ),
    (
        "addPatientPhoneNumber",
        d.ADD_PHONE,
        lambda i: {"id": i["id"], "phone": {"phoneNumber": "2", "phoneType": "Work"}},
        "editPatients",
    ),
    (
        "updatePatientPhoneNumber",
        d.UPDATE_PHONE,
        lambda i: {"id": i["id"], "phoneId": i["phoneId"], "phone": {"phoneNumber": "3"}},
        "editPatients",
    ),
    (
        "removePatientPhoneNumber",
        d.REMOVE_PHONE,
        lambda i: {"id": i["id"], "phoneId": i["phoneId"]},
        "editPatients",
    ),
    (
        "addPatientAttribute",
        d.ADD_ATTRIBUTE,
        lambda i: {"id": i["id"], "attr": d.ATTRIBUTE},
        "editPatients",
    ),
    (
        "updatePatientAttribute",
        d.UPDATE_ATTRIBUTE,
        lambda i: {"id": i["id"], "attrId": i["attrId"], "attr": {"text": "t"}},
        "editPatients",
    ),
    (
        "removePatientAttribute",
        d.REMOVE_ATTRIBUTE,
        lambda i: {"id": i["id"], "attrId": i["attrId"]},
        "editPatients",
    ),
    (
        "addPatientNumber",
        d.ADD_NUMBER,
        lambda i: {"id": i["id"], "number": {"numberId": d.NHS_NUMBER, "value": "9"}},
        "editPatients",
    ),
    (
        "updatePatientNumber",
        d.UPDATE_NUMBER,
        lambda i: {"id": i["id"], "numberId": i["numberId"], "value": "8"},
        "editPatients",
    ),
    (
        "removePatientNumber",
        d.REMOVE_NUMBER,
        lambda i: {"id": i["id"], "numberId": i["numberId"]},
        "editPatients",
    ),
    (
        "addPatientAccessGroup",
        d.ADD_ACCESS_GROUP,
        lambda i: {"id": i["id"], "group": d.EVERYONE},
        "editPatients",
    ),
    (
        "removePatientAccessGroup",
        d.REMOVE_ACCESS_GROUP,
        lambda i: {"id": i["id"], "group": d.EVERYONE},
        "editPatients",
    ),
    (
        "addPatientMembership",
        d.ADD_MEMBERSHIP,
        lambda i: {"id": i["id"], "membership": d.GOLD, "start": "2020-01-01"},
        "editPatients",
    ),
    (
        "removePatientMembership",
        d.REMOVE_MEMBERSHIP,
        lambda i: {"id": i["id"], "membership": d.GOLD},
        "editPatients",
    ),
    (
        "addPatientRelationship",
        d.ADD_RELATIONSHIP,
        lambda i: {"id": i["id"], "type": "GP", "contact": {"firstName": "G"}},
        "editPatients",
    ),
    (
        "updatePatientRelationship",
        d.UPDATE_RELATIONSHIP,
        lambda i: {"id": i["id"], "relId": i["relId"], "contact": {"notes": "n"}},
        "editPatients",
    ),
    (
        "removePatientRelationship",
        d.REMOVE_RELATIONSHIP,
        lambda i: {"id": i["id"], "relId": i["relId"]},
        "editPatients",
    ),
]
MUTATIONS = [op for op in OPERATIONS if op[3] not in ("seePatients", "createPatients")]


@pytest.mark.parametrize(("field", "document", "variables", "permission"), OPERATIONS)
def test_a_missing_permission_is_forbidden_and_changes_nothing(
    world: World, field: str, document: str, variables: Vars, permission: str
) -> None:
    token = token_without(world.server, permission)
    before = world.snapshot()
    result = world.server.execute(document, variables(world.ids), token=token)
    assert result["data"] == {field: None}
    [error] = result["errors"]
    assert error["message"] == f"Missing permission: {permission}"
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "payloadErrors" not in result.get("extensions", {})
    assert_unchanged(world, before)


def test_every_operation_is_covered() -> None:
    names = {op[0] for op in OPERATIONS}
    assert len(names) == 3 + 23  # the contract's queries and mutations


@pytest.mark.parametrize(("field", "document", "variables", "permission"), MUTATIONS)
@pytest.mark.parametrize("which", ["unknown", "malformed", "deleted", "foreign"])
def test_a_patient_that_is_not_there_is_not_found(
    world: World, field: str, document: str, variables: Vars, permission: str, which: str
) -> None:
    ids = world.ids
    if which == "unknown":
        ids["id"] = d.MISSING
    elif which == "malformed":
        ids["id"] = "not an id"
    elif which == "deleted":
        d.ok(world.server.execute(d.DELETE, {"id": world.other["id"]}))
        world.server.clear_deliveries()
        ids["id"] = world.other["id"]
    else:
        foreign = world.server.new_practice("Elsewhere")
        ids["id"] = foreign.create_patient()["id"]
    before = world.snapshot()
    refused(world, document, variables(ids), field, "Patient not found", 404, "NOT_FOUND")
    assert_unchanged(world, before)
