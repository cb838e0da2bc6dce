"""Patient lifecycle and queries over HTTP, through the in-process server: create,
update, delete, archive/unarchive, patient(id), patients paging edges, and the
create_patient helper — the decisions of SPEC §3 on the success path."""

from __future__ import annotations

import pytest

from mock_semble.testing import MockSembleServer

from .documents import (
    ARCHIVE,
    CREATE,
    CREATE_FLAT,
    DELETE,
    GET,
    LIST,
    NEW_PATIENT,
    UNARCHIVE,
    UPDATE,
    VIP,
    create,
    get,
    is_id,
    ok,
)

FROZEN = "2026-11-28T15:02:26.123Z"
LATER = "2026-11-28T15:03:26.123Z"
MOCK_USER = {
    "id": "0000000000000000000000e1",
    "title": None,
    "firstName": "Mock",
    "lastName": "User",
    "gender": None,
    "pronouns": None,
    "email": "mock.user@example.com",
    "fullName": "Mock User",
    "isDoctor": None,
    "qualifications": None,
    "registration": None,
    "deleted": False,
    "minimumTreatmentAge": None,
    "createdAt": None,
    "updatedAt": None,
}


# -- create --------------------------------------------------------------------------------


def test_create_with_patient_data(mock_semble: MockSembleServer) -> None:
    mock_semble.freeze_clock(FROZEN)
    patient = create(
        mock_semble,
        title="Dr",
        email="ada@example.com",
        dob="1815-12-10",
        placeOfBirth={"name": "London", "code": "GB"},
        socialSecurityNumber="1234567890123AB",
        gender="female",
        sex="F",
        address="12 St James's Square",
        city="London",
        postcode="SW1Y 4JH",
        country="UK",
        phoneType="Mobile",
        phoneNumber="+44 7700 900123",
        paymentReference="REF-1",
        communicationPreferences={"receiveSMS": True, "privacyPolicy": "accepted"},
        labels=[VIP, NEW_PATIENT, VIP],
        customAttributes=[{"title": "Allergy", "text": "Allergies", "response": "None"}, None],
        comments="first visit",
    )
    assert is_id(patient["id"])
    assert patient["fullName"] == "Dr Ada Lovelace"
    assert (patient["firstName"], patient["lastName"], patient["title"]) == (
        "Ada",
        "Lovelace",
        "Dr",
    )
    assert patient["status"] == "active"
    assert patient["archived"] is False
    assert patient["onHold"] is False
    assert patient["archivedInfo"] is None
    assert patient["dob"] == "1815-12-10"
    assert patient["placeOfBirth"] == {"name": "London", "code": "GB"}
    assert patient["socialSecurityNumber"] == "1234567890123AB"
    assert patient["address"] == {
        "address": "12 St James's Square",
        "city": "London",
        "postcode": "SW1Y 4JH",
        "country": "UK",
    }
    [phone] = patient["phones"]
    assert is_id(phone["phoneId"])
    assert (phone["phoneType"], phone["phoneNumber"]) == ("Mobile", "+44 7700 900123")
    assert patient["communicationPreferences"] == {
        "receiveEmail": None,
        "receiveSMS": True,
        "promotionalMarketing": None,
        "privacyPolicy": {"response": "accepted"},
        "paymentReminders": None,
    }
    labels = patient["labels"]
    assert [(x["referenceId"], x["text"], x["color"]) for x in labels] == [
        (VIP, "VIP", "#e53935"),
        (NEW_PATIENT, "New patient", "#1e88e5"),
    ]
    assert all(is_id(x["id"]) and x["id"] != x["referenceId"] for x in labels)
    [attribute] = patient["customAttributes"]
    assert is_id(attribute["id"])
    assert {k: attribute[k] for k in ("title", "text", "response", "required")} == {
        "title": "Allergy",
        "text": "Allergies",
        "response": "None",
        "required": False,
    }
    assert len(patient["sharingToken"]["token"]) >= 16
    assert patient["createdAt"] == patient["updatedAt"] == FROZEN
    assert patient["numbers"] == patient["relatedAccounts"] == patient["accessGroups"] == []
    assert patient["comments"] == "first visit"
    assert patient["paymentReference"] == "REF-1"
    assert get(mock_semble, patient["id"]) == patient


def test_create_with_the_deprecated_flat_arguments(mock_semble: MockSembleServer) -> None:
    result = mock_semble.execute(
        CREATE_FLAT,
        {
            "first": "Grace",
            "last": "Hopper",
            "email": "grace@example.com",
            "dob": "1906-12-09T23:30:00-05:00",
            "phoneType": "Home",
            "phoneNumber": "020 7946 0018",
            "city": "New York",
        },
    )
    patient = ok(result)
    assert patient["fullName"] == "Grace Hopper"
    assert patient["dob"] == "1906-12-10"  # the UTC date of the date-time
    assert patient["address"]["city"] == "New York"
    assert patient["phones"][0]["phoneNumber"] == "020 7946 0018"


def test_create_with_ins_data(mock_semble: MockSembleServer) -> None:
    ins = {"number": "1234", "status": "VALIDATED", "identityAlertStatus": "NONE"}
    patient = ok(mock_semble.execute(CREATE, {"data": {"first": "A", "last": "B"}, "ins": ins}))
    assert patient["ins"] == {
        "number": "1234",
        "oid": None,
        "manualIdentification": None,
        "identityAlertStatus": "NONE",
        "identityAlertComment": None,
        "status": "VALIDATED",
        "identityDocument": None,
    }


# -- update, delete, archive ---------------------------------------------------------------


def test_update_is_partial(mock_semble: MockSembleServer) -> None:
    mock_semble.freeze_clock(FROZEN)
    patient = create(mock_semble, email="ada@example.com", city="London", title="Ms")
    mock_semble.advance_clock(60)
    data = {
        "first": "Augusta",
        "email": None,
        "city": "Marylebone",
        "communicationPreferences": {"receiveEmail": False},
        "ins": {"oid": "1.2.250"},
    }
    updated = ok(mock_semble.execute(UPDATE, {"id": patient["id"], "data": data}))
    assert updated["firstName"] == "Augusta"
    assert updated["fullName"] == "Ms Augusta Lovelace"
    assert updated["email"] == "ada@example.com"  # null leaves it as it is
    assert updated["address"]["city"] == "Marylebone"
    assert updated["communicationPreferences"]["receiveEmail"] is False
    assert updated["ins"]["oid"] == "1.2.250"
    assert updated["createdAt"] == FROZEN
    assert updated["updatedAt"] == LATER


def test_an_update_that_changes_nothing_keeps_updated_at(mock_semble: MockSembleServer) -> None:
    mock_semble.freeze_clock(FROZEN)
    patient = create(mock_semble, city="London")
    mock_semble.advance_clock(60)
    same = {"first": "Ada", "city": "London", "email": None}
    updated = ok(mock_semble.execute(UPDATE, {"id": patient["id"], "data": same}))
    assert updated == patient
    assert updated["updatedAt"] == FROZEN


def test_an_empty_email_clears_it(mock_semble: MockSembleServer) -> None:
    patient = create(mock_semble, email="ada@example.com")
    updated = ok(mock_semble.execute(UPDATE, {"id": patient["id"], "data": {"email": ""}}))
    assert updated["email"] is None


def test_delete_is_a_soft_delete(mock_semble: MockSembleServer) -> None:
    patient = create(mock_semble)
    deleted = ok(mock_semble.execute(DELETE, {"id": patient["id"]}))
    assert deleted["id"] == patient["id"]
    assert deleted["status"] == "deleted"
    assert get(mock_semble, patient["id"]) is None
    listed = mock_semble.execute(LIST)["data"]["patients"]["data"]
    assert listed == []
    everything = mock_semble.execute(LIST, {"options": {"includeDeleted": True}})
    [row] = everything["data"]["patients"]["data"]
    assert (row["id"], row["status"]) == (patient["id"], "deleted")


def test_archive_and_unarchive(mock_semble: MockSembleServer) -> None:
    mock_semble.freeze_clock(FROZEN)
    patient = create(mock_semble)
    archived = ok(
        mock_semble.execute(
            ARCHIVE,
            {"id": patient["id"], "reason": "MOVED_AWAY_OR_TRANSFER_OF_CARE", "comments": "x"},
        )
    )
    assert (archived["archived"], archived["status"]) == (True, "archived")
    assert archived["archivedInfo"] == {
        "archivedAt": FROZEN,
        "archivedBy": MOCK_USER,
        "archivedReason": "MOVED_AWAY_OR_TRANSFER_OF_CARE",
        "archivedComments": "x",
        "unarchivedAt": None,
        "unarchivedBy": None,
        "unarchivedReason": None,
    }
    listed = mock_semble.execute(LIST)["data"]["patients"]["data"]
    assert [row["status"] for row in listed] == ["archived"]  # archived patients stay listed
    mock_semble.advance_clock(60)
    active = ok(mock_semble.execute(UNARCHIVE, {"id": patient["id"], "reason": "ACTIVE_PATIENT"}))
    assert (active["archived"], active["status"]) == (False, "active")
    assert active["archivedInfo"] == {
        "archivedAt": FROZEN,
        "archivedBy": MOCK_USER,
        "archivedReason": "MOVED_AWAY_OR_TRANSFER_OF_CARE",
        "archivedComments": "x",
        "unarchivedAt": LATER,
        "unarchivedBy": MOCK_USER,
        "unarchivedReason": "ACTIVE_PATIENT",
    }


def test_unarchive_without_a_reason(mock_semble: MockSembleServer) -> None:
    patient = create(mock_semble)
    ok(mock_semble.execute(ARCHIVE, {"id": patient["id"], "reason": "OTHER"}))
    active = ok(mock_semble.execute(UNARCHIVE, {"id": patient["id"]}))
    assert active["archivedInfo"]["unarchivedReason"] is None


# -- queries -------------------------------------------------------------------------------


@pytest.mark.parametrize("patient_id", ["ffffffffffffffffffffffff", "not-an-id", ""])
def test_an_unknown_patient_is_null(mock_semble: MockSembleServer, patient_id: str) -> None:
    assert mock_semble.execute(GET, {"id": patient_id}) == {"data": {"patient": None}}


def test_another_practices_patient_is_invisible(mock_semble: MockSembleServer) -> None:
    mine = create(mock_semble)
    other = mock_semble.new_practice("Other")
    theirs = other.create_patient("Grace", "Hopper")
    assert other.execute(GET, {"id": mine["id"]}) == {"data": {"patient": None}}
    assert get(mock_semble, theirs["id"]) is None
    listed = other.execute(LIST)["data"]["patients"]["data"]
    assert [p["id"] for p in listed] == [theirs["id"]]
    refused = other.execute(DELETE, {"id": mine["id"]})
    assert refused["data"]["deletePatient"] == {"data": None, "error": "Patient not found"}


def test_a_page_past_the_end(mock_semble: MockSembleServer) -> None:
    create(mock_semble)
    result = mock_semble.execute(LIST, {"pagination": {"page": 3, "pageSize": 1}})
    assert result["data"]["patients"] == {
        "data": [],
        "pageInfo": {"page": 3, "pageSize": 1, "hasMore": False},
    }


def test_page_defaults(mock_semble: MockSembleServer) -> None:
    result = mock_semble.execute(LIST)
    assert result["data"]["patients"]["pageInfo"] == {"page": 1, "pageSize": 20, "hasMore": False}


def test_the_handle_helper(mock_semble: MockSembleServer) -> None:
    patient = mock_semble.create_patient(
        "Ada", "Lovelace", email="ada@example.com", phone_number="+44 1", labels=[VIP]
    )
    assert (patient["fullName"], patient["email"], patient["status"]) == (
        "Ada Lovelace",
        "ada@example.com",
        "active",
    )
    assert patient["phones"][0]["phoneNumber"] == "+44 1"
    assert patient["labels"][0]["referenceId"] == VIP
    assert get(mock_semble, patient["id"])["id"] == patient["id"]
