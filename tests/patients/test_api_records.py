"""The sub-record mutations over HTTP (SPEC §3): labels, phones, custom attributes,
numbers, access groups, memberships and relationships, and patientRelationships."""

from __future__ import annotations

from mock_semble.testing import MockSembleServer

from .documents import (
    ADD_ACCESS_GROUP,
    ADD_ATTRIBUTE,
    ADD_LABEL,
    ADD_MEMBERSHIP,
    ADD_NUMBER,
    ADD_PHONE,
    ADD_RELATIONSHIP,
    EVERYONE,
    GOLD,
    NEW_PATIENT,
    NHS_NUMBER,
    RELATIONSHIPS,
    REMOVE_ACCESS_GROUP,
    REMOVE_ATTRIBUTE,
    REMOVE_LABEL,
    REMOVE_MEMBERSHIP,
    REMOVE_NUMBER,
    REMOVE_PHONE,
    REMOVE_RELATIONSHIP,
    UPDATE_ATTRIBUTE,
    UPDATE_NUMBER,
    UPDATE_PHONE,
    UPDATE_RELATIONSHIP,
    create,
    is_id,
    ok,
)

FROZEN = "2026-11-28T15:02:26.123Z"


def test_labels(mock_semble: MockSembleServer) -> None:
    patient = create(mock_semble)
    pid = patient["id"]
    with_label = ok(mock_semble.execute(ADD_LABEL, {"id": pid, "ref": NEW_PATIENT}))
    [label] = with_label["labels"]
    assert (label["referenceId"], label["text"], label["color"]) == (
        NEW_PATIENT,
        "New patient",
        "#1e88e5",
    )
    again = ok(mock_semble.execute(ADD_LABEL, {"id": pid, "ref": NEW_PATIENT}))
    assert again["labels"] == [label]  # held once
    without = ok(mock_semble.execute(REMOVE_LABEL, {"id": pid, "label": label["id"]}))
    assert without["labels"] == []


def test_phones(mock_semble: MockSembleServer) -> None:
    pid = create(mock_semble)["id"]
    added = ok(
        mock_semble.execute(
            ADD_PHONE, {"id": pid, "phone": {"phoneNumber": "0123", "phoneType": "Home"}}
        )
    )
    [phone] = added["phones"]
    updated = ok(
        mock_semble.execute(
            UPDATE_PHONE, {"id": pid, "phoneId": phone["phoneId"], "phone": {"phoneNumber": "999"}}
        )
    )
    assert updated["phones"] == [{**phone, "phoneNumber": "999"}]
    removed = ok(mock_semble.execute(REMOVE_PHONE, {"id": pid, "phoneId": phone["phoneId"]}))
    assert removed["phones"] == []


def test_custom_attributes(mock_semble: MockSembleServer) -> None:
    pid = create(mock_semble)["id"]
    attr = {"title": "Sport", "text": "Favourite sport", "response": "Rowing"}
    added = ok(mock_semble.execute(ADD_ATTRIBUTE, {"id": pid, "attr": attr}))
    [stored] = added["customAttributes"]
    assert stored == {**attr, "id": stored["id"], "required": False}
    updated = ok(
        mock_semble.execute(
            UPDATE_ATTRIBUTE, {"id": pid, "attrId": stored["id"], "attr": {"response": "Golf"}}
        )
    )
    assert updated["customAttributes"] == [{**stored, "response": "Golf"}]
    removed = ok(mock_semble.execute(REMOVE_ATTRIBUTE, {"id": pid, "attrId": stored["id"]}))
    assert removed["customAttributes"] == []


def test_numbers(mock_semble: MockSembleServer) -> None:
    pid = create(mock_semble)["id"]
    number = {"numberId": NHS_NUMBER, "value": "943 476 5919"}
    added = ok(mock_semble.execute(ADD_NUMBER, {"id": pid, "number": number}))
    [stored] = added["numbers"]
    assert is_id(stored["id"]) and stored["id"] != NHS_NUMBER
    assert (stored["name"], stored["value"], stored["referenceId"]) == (
        "NHS Number",
        "943 476 5919",
        NHS_NUMBER,
    )
    updated = ok(
        mock_semble.execute(UPDATE_NUMBER, {"id": pid, "numberId": stored["id"], "value": "1"})
    )
    assert updated["numbers"] == [{**stored, "value": "1"}]
    removed = ok(mock_semble.execute(REMOVE_NUMBER, {"id": pid, "numberId": stored["id"]}))
    assert removed["numbers"] == []


def test_access_groups(mock_semble: MockSembleServer) -> None:
    pid = create(mock_semble)["id"]
    added = ok(mock_semble.execute(ADD_ACCESS_GROUP, {"id": pid, "group": EVERYONE}))
    assert added["accessGroups"] == [{"id": EVERYONE, "name": "Everyone", "label": "everyone"}]
    removed = ok(mock_semble.execute(REMOVE_ACCESS_GROUP, {"id": pid, "group": EVERYONE}))
    assert removed["accessGroups"] == []


def test_memberships(mock_semble: MockSembleServer) -> None:
    mock_semble.freeze_clock(FROZEN)
    pid = create(mock_semble)["id"]
    given = {"id": pid, "membership": GOLD, "start": "2025-01-31T23:30:00-02:00", "comments": "c"}
    added = ok(mock_semble.execute(ADD_MEMBERSHIP, given))
    assert added["membershipName"] == "Gold"
    assert added["membershipStartDate"] == "2025-01-31T23:30:00-02:00"
    assert added["membershipStartDateFormatted"] == "2025-02-01"
    by_default = ok(mock_semble.execute(ADD_MEMBERSHIP, {"id": pid, "membership": GOLD}))
    assert by_default["membershipStartDate"] == "2026-11-28"
    assert by_default["membershipStartDateFormatted"] == "2026-11-28"
    removed = ok(mock_semble.execute(REMOVE_MEMBERSHIP, {"id": pid, "membership": GOLD}))
    assert removed["membershipName"] is None
    assert removed["membershipStartDate"] is None
    assert removed["membershipStartDateFormatted"] is None


def test_relationships(mock_semble: MockSembleServer) -> None:
    pid = create(mock_semble)["id"]
    mother = create(mock_semble, first="Anne", last="Byron", title="Lady")
    contact = {"relatedAccountId": mother["id"], "phoneNumber": "0207", "notes": "mum"}
    added = ok(
        mock_semble.execute(
            ADD_RELATIONSHIP,
            {"id": pid, "type": "PARENT_GUARDIAN", "label": "x", "contact": contact},
        )
    )
    [rel] = added["relatedAccounts"]
    assert is_id(rel["relationshipId"])
    assert (rel["relationshipType"], rel["relationshipLabel"], rel["deleted"]) == (
        "PARENT_GUARDIAN",
        "Parent/guardian",
        False,
    )
    details = rel["contactDetails"]
    assert (details["relatedAccountId"], details["firstName"], details["lastName"]) == (
        mother["id"],
        "Anne",
        "Byron",
    )
    assert (details["title"], details["notes"], details["name"]) == ("Lady", "mum", "Anne")
    assert details["phones"][0]["phoneNumber"] == "0207"

    other = ok(
        mock_semble.execute(
            ADD_RELATIONSHIP,
            {"id": pid, "type": "OTHER", "label": "Godmother", "contact": {"firstName": "May"}},
        )
    )
    assert other["relatedAccounts"][1]["relationshipLabel"] == "Godmother"
    rel_id = other["relatedAccounts"][1]["relationshipId"]

    found = mock_semble.execute(RELATIONSHIPS, {"id": pid, "type": "OTHER"})
    [only] = found["data"]["patientRelationships"]["data"]
    assert only["relationshipId"] == rel_id
    every = mock_semble.execute(RELATIONSHIPS, {"id": pid})["data"]["patientRelationships"]
    assert [r["relationshipId"] for r in every["data"]] == [rel["relationshipId"], rel_id]

    updated = ok(
        mock_semble.execute(
            UPDATE_RELATIONSHIP, {"id": pid, "relId": rel_id, "contact": {"email": "may@x.io"}}
        )
    )
    changed = updated["relatedAccounts"][1]["contactDetails"]
    assert (changed["firstName"], changed["email"]) == ("May", "may@x.io")
    removed = ok(mock_semble.execute(REMOVE_RELATIONSHIP, {"id": pid, "relId": rel_id}))
    assert [r["relationshipId"] for r in removed["relatedAccounts"]] == [rel["relationshipId"]]


def test_relationships_of_an_unknown_patient_are_null(mock_semble: MockSembleServer) -> None:
    result = mock_semble.execute(RELATIONSHIPS, {"id": "ffffffffffffffffffffffff"})
    assert result == {"data": {"patientRelationships": None}}
