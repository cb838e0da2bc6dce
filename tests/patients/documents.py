"""GraphQL documents and small helpers shared by the patient API tests."""

from __future__ import annotations

from typing import Any, Protocol

import mock_semble.testing.documents as docs

PRACTICE = "000000000000000000000001"
VIP = "0000000000000000000000a1"
NEW_PATIENT = "0000000000000000000000a2"
NHS_NUMBER = "0000000000000000000000b1"
GOLD = "0000000000000000000000c1"
EVERYONE = "0000000000000000000000d1"
MISSING = "ffffffffffffffffffffffff"

# The operations' documents (mock_semble.testing.documents), by their short test names
USER = docs.USER_FIELDS
PHONE = docs.PHONE_FIELDS
CONTACT = docs.CONTACT_FIELDS
RELATIONSHIP = docs.RELATIONSHIP_FIELDS
PATIENT = docs.PATIENT_FIELDS  # every field of Patient (a client selecting them all must work)
PAYLOAD = docs.PATIENT_PAYLOAD
CREATE = docs.CREATE_PATIENT
CREATE_FLAT = docs.CREATE_PATIENT_FLAT
UPDATE = docs.UPDATE_PATIENT
DELETE = docs.DELETE_PATIENT
ARCHIVE = docs.ARCHIVE_PATIENT
UNARCHIVE = docs.UNARCHIVE_PATIENT
GET = docs.GET_PATIENT
RELATIONSHIPS = docs.PATIENT_RELATIONSHIPS
# the sub-record mutations, each with $id (the patient) and its own variables
ADD_LABEL = docs.ADD_PATIENT_LABEL
REMOVE_LABEL = docs.REMOVE_PATIENT_LABEL
ADD_PHONE = docs.ADD_PATIENT_PHONE
UPDATE_PHONE = docs.UPDATE_PATIENT_PHONE
REMOVE_PHONE = docs.REMOVE_PATIENT_PHONE
ADD_ATTRIBUTE = docs.ADD_PATIENT_ATTRIBUTE
UPDATE_ATTRIBUTE = docs.UPDATE_PATIENT_ATTRIBUTE
REMOVE_ATTRIBUTE = docs.REMOVE_PATIENT_ATTRIBUTE
ADD_NUMBER = docs.ADD_PATIENT_NUMBER
UPDATE_NUMBER = docs.UPDATE_PATIENT_NUMBER
REMOVE_NUMBER = docs.REMOVE_PATIENT_NUMBER
ADD_ACCESS_GROUP = docs.ADD_PATIENT_ACCESS_GROUP
REMOVE_ACCESS_GROUP = docs.REMOVE_PATIENT_ACCESS_GROUP
ADD_MEMBERSHIP = docs.ADD_PATIENT_MEMBERSHIP
REMOVE_MEMBERSHIP = docs.REMOVE_PATIENT_MEMBERSHIP
ADD_RELATIONSHIP = docs.ADD_PATIENT_RELATIONSHIP
UPDATE_RELATIONSHIP = docs.UPDATE_PATIENT_RELATIONSHIP
REMOVE_RELATIONSHIP = docs.REMOVE_PATIENT_RELATIONSHIP
# a short page selection, for the list tests
LIST = """
query List($search: String, $pagination: Pagination, $options: QueryOptions) {
  patients(search: $search, pagination: $pagination, options: $options) {
    data { id firstName lastName status createdAt updatedAt }
    pageInfo { page pageSize hasMore }
  }
}"""


class Executor(Protocol):
    def execute(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any: ...


def is_id(value: Any) -> bool:
    return (
        isinstance(value, str) and len(value) == 24 and all(c in "0123456789abcdef" for c in value)
    )


def get(api: Executor, patient_id: str) -> Any:
    """``patient(id)``, asserting no error."""
    result = api.execute(GET, {"id": patient_id})
    assert "errors" not in result, result
    return result["data"]["patient"]


def payload(result: dict[str, Any]) -> dict[str, Any]:
    """The single root field's payload ``{data, error}`` of a mutation response."""
    assert "errors" not in result, result
    (value,) = result["data"].values()
    assert isinstance(value, dict)
    return value


def ok(result: dict[str, Any]) -> dict[str, Any]:
    """The patient of a successful mutation."""
    body = payload(result)
    assert body["error"] is None, body
    assert isinstance(body["data"], dict)
    return body["data"]


def create(api: Executor, token: str | None = None, **data: Any) -> dict[str, Any]:
    """createPatient(patientData: {first: "Ada", last: "Lovelace", **data})."""
    fields = {"first": "Ada", "last": "Lovelace", **data}
    kw = {} if token is None else {"token": token}
    return ok(api.execute(CREATE, {"data": fields}, **kw))


ATTRIBUTE = {"title": "Allergy", "text": "Allergies", "response": "None"}
