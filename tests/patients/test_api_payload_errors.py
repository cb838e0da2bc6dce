"""Every payload error of SPEC §3's table (message, status and code, in ``error`` and in
``extensions.payloadErrors``), and the BAD_USER_INPUT refusals of pagination and dates.
None changes or fires anything."""

from __future__ import annotations

import pytest

from . import documents as d
from .conftest import Vars, World, assert_unchanged, refused

pytestmark = pytest.mark.mock_semble(event_types="strings", delivery_mode="record")

# (root field, document, variables, message, status, code)
PAYLOAD_ERRORS: list[tuple[str, str, Vars, str, int, str]] = [
    (
        "removePatientLabel",
        d.REMOVE_LABEL,
        lambda i: {"id": i["id"], "label": d.VIP},
        "Label not found",
        404,
        "NOT_FOUND",
    ),
    (
        "updatePatientPhoneNumber",
        d.UPDATE_PHONE,
        lambda i: {"id": i["id"], "phoneId": d.MISSING, "phone": {"phoneNumber": "3"}},
        "Phone not found",
        404,
        "NOT_FOUND",
    ),
    (
        "removePatientPhoneNumber",
        d.REMOVE_PHONE,
        lambda i: {"id": i["id"], "phoneId": i["attrId"]},
        "Phone not found",
        404,
        "NOT_FOUND",
    ),
    (
        "updatePatientAttribute",
        d.UPDATE_ATTRIBUTE,
        lambda i: {"id": i["id"], "attrId": i["phoneId"], "attr": {"text": "t"}},
        "Attribute not found",
        404,
        "NOT_FOUND",
    ),
    (
        "removePatientAttribute",
        d.REMOVE_ATTRIBUTE,
        lambda i: {"id": i["id"], "attrId": d.MISSING},
        "Attribute not found",
        404,
        "NOT_FOUND",
    ),
    (
        "updatePatientNumber",
        d.UPDATE_NUMBER,
        lambda i: {"id": i["id"], "numberId": d.NHS_NUMBER, "value": "8"},
        "Number not found",
        404,
        "NOT_FOUND",
    ),
    (
        "removePatientNumber",
        d.REMOVE_NUMBER,
        lambda i: {"id": i["id"], "numberId": d.MISSING},
        "Number not found",
        404,
        "NOT_FOUND",
    ),
    (
        "updatePatientRelationship",
        d.UPDATE_RELATIONSHIP,
        lambda i: {"id": i["id"], "relId": d.MISSING, "contact": {"notes": "n"}},
        "Relationship not found",
        404,
        "NOT_FOUND",
    ),
    (
        "removePatientRelationship",
        d.REMOVE_RELATIONSHIP,
        lambda i: {"id": i["id"], "relId": i["label"]},
        "Relationship not found",
        404,
        "NOT_FOUND",
    ),
    (
        "removePatientMembership",
        d.REMOVE_MEMBERSHIP,
        lambda i: {"id": i["id"], "membership": d.MISSING},
        "Membership not found",
        404,
        "NOT_FOUND",
    ),
    (
        "removePatientAccessGroup",
        d.REMOVE_ACCESS_GROUP,
        lambda i: {"id": i["id"], "group": d.MISSING},
        "Access group not found",
        404,
        "NOT_FOUND",
    ),
    (
        "addPatientLabel",
        d.ADD_LABEL,
        lambda i: {"id": i["id"], "ref": d.MISSING},
        f"Unknown label definition: {d.MISSING}",
        400,
        "INVALID_REFERENCE",
    ),
    (
        "createPatient",
        d.CREATE,
        lambda i: {"data": {"first": "A", "last": "B", "labels": [d.VIP, "x"]}},
        "Unknown label definition: x",
        400,
        "INVALID_REFERENCE",
    ),
    (
        "addPatientNumber",
        d.ADD_NUMBER,
        lambda i: {"id": i["id"], "number": {"numberId": d.GOLD, "value": "9"}},
        f"Unknown number type: {d.GOLD}",
        400,
        "INVALID_REFERENCE",
    ),
    (
        "addPatientMembership",
        d.ADD_MEMBERSHIP,
        lambda i: {"id": i["id"], "membership": d.VIP},
        f"Unknown membership: {d.VIP}",
        400,
        "INVALID_REFERENCE",
    ),
    (
        "addPatientAccessGroup",
        d.ADD_ACCESS_GROUP,
        lambda i: {"id": i["id"], "group": d.MISSING},
        f"Unknown access group: {d.MISSING}",
        400,
        "INVALID_REFERENCE",
    ),
    (
        "addPatientRelationship",
        d.ADD_RELATIONSHIP,
        lambda i: {"id": i["id"], "type": "GP", "contact": {"relatedAccountId": d.MISSING}},
        f"Unknown related patient: {d.MISSING}",
        400,
        "INVALID_REFERENCE",
    ),
    (
        "createPatient",
        d.CREATE_FLAT,
        lambda i: {"first": "A", "data": {"first": "A", "last": "B"}},
        "patientData cannot be combined with other arguments",
        400,
        "INVALID_ARGUMENTS",
    ),
    (
        "createPatient",
        d.CREATE,
        lambda i: {"data": {"first": "A"}},
        "first and last names are required",
        400,
        "INVALID_PATIENT",
    ),
    (
        "createPatient",
        d.CREATE_FLAT,
        lambda i: {"first": " ", "last": "B"},
        "first and last names are required",
        400,
        "INVALID_PATIENT",
    ),
    (
        "createPatient",
        d.CREATE,
        lambda i: {},
        "first and last names are required",
        400,
        "INVALID_PATIENT",
    ),
    (
        "updatePatient",
        d.UPDATE,
        lambda i: {"id": i["id"], "data": {"last": ""}},
        "first and last names are required",
        400,
        "INVALID_PATIENT",
    ),
    (
        "createPatient",
        d.CREATE,
        lambda i: {"data": {"first": "A", "last": "B", "email": "a@b"}},
        "invalid email",
        400,
        "INVALID_PATIENT",
    ),
    (
        "updatePatient",
        d.UPDATE,
        lambda i: {"id": i["id"], "data": {"email": "no"}},
        "invalid email",
        400,
        "INVALID_PATIENT",
    ),
    (
        "createPatient",
        d.CREATE,
        lambda i: {"data": {"first": "A", "last": "B", "socialSecurityNumber": "12345678901234C"}},
        "socialSecurityNumber must be 15 characters of digits, A or B",
        400,
        "INVALID_PATIENT",
    ),
    (
        "updatePatient",
        d.UPDATE,
        lambda i: {"id": i["id"], "data": {"socialSecurityNumber": "1"}},
        "socialSecurityNumber must be 15 characters of digits, A or B",
        400,
        "INVALID_PATIENT",
    ),
    (
        "unarchivePatient",
        d.UNARCHIVE,
        lambda i: {"id": i["id"]},
        "Patient is not archived",
        409,
        "INVALID_STATE",
    ),
    (
        "addPatientMembership",
        d.ADD_MEMBERSHIP,
        lambda i: {"id": i["id"], "membership": d.GOLD, "start": "soon"},
        "membershipStartDate must be a date (YYYY-MM-DD or ISO-8601)",
        400,
        "INVALID_ARGUMENTS",
    ),
    (
        "addPatientRelationship",
        d.ADD_RELATIONSHIP,
        lambda i: {
            "id": i["id"],
            "type": "GP",
            "contact": {"relatedAccountId": i["id"], "lastName": "X"},
        },
        "firstName, lastName, title and companyName cannot be combined with relatedAccountId",
        400,
        "INVALID_ARGUMENTS",
    ),
]


@pytest.mark.parametrize(
    ("field", "document", "variables", "message", "status", "code"), PAYLOAD_ERRORS
)
def test_each_payload_error_changes_nothing(
    world: World, field: str, document: str, variables: Vars, message: str, status: int, code: str
) -> None:
    before = world.snapshot()
    refused(world, document, variables(world.ids), field, message, status, code)
    assert_unchanged(world, before)


def test_archiving_an_archived_patient_is_refused(world: World) -> None:
    d.ok(world.server.execute(d.ARCHIVE, {"id": world.ids["id"], "reason": "OTHER"}))
    world.server.clear_deliveries()
    before = world.snapshot()
    variables = {"id": world.ids["id"], "reason": "INACTIVE_PATIENT"}
    message = "Patient is already archived"
    refused(world, d.ARCHIVE, variables, "archivePatient", message, 409, "INVALID_STATE")
    assert_unchanged(world, before)


@pytest.mark.parametrize(
    ("pagination", "message"),
    [
        ({"page": 0}, "page must be at least 1"),
        ({"page": -5, "pageSize": 10}, "page must be at least 1"),
        ({"pageSize": 0}, "pageSize must be between 1 and 100"),
        ({"pageSize": 101}, "pageSize must be between 1 and 100"),
    ],
)
def test_pagination_out_of_bounds_is_bad_user_input(
    world: World, pagination: dict[str, int], message: str
) -> None:
    result = world.server.execute(d.LIST, {"pagination": pagination})
    assert result["data"] == {"patients": None}
    [error] = result["errors"]
    assert (error["message"], error["extensions"]["code"]) == (message, "BAD_USER_INPUT")


@pytest.mark.parametrize("bad", ["2020-02-30", "yesterday", "2020-1-1", "", 20200101])
def test_a_bad_date_is_bad_user_input_and_changes_nothing(world: World, bad: object) -> None:
    before = world.snapshot()
    result = world.server.execute(d.UPDATE, {"id": world.ids["id"], "data": {"dob": bad}})
    assert result.get("data") is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]
    assert_unchanged(world, before)
