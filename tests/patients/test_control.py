"""Patients and the control plane (SPEC §3, §4): state export/import round trips exactly
and refuses bad documents whole; reset (whole and per practice, start-up patients come
back); ``--seed`` determinism; practice reference data; token users; the request
journal; a real GraphQL client selecting every Patient field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.httpx import HTTPXTransport

from mock_semble.config import load_config_file
from mock_semble.testing import MockSembleError, MockSembleServer

from . import documents as d

FROZEN = "2026-11-28T15:02:26.123Z"


def _rich(server: MockSembleServer) -> list[str]:
    """Patients with every kind of sub-record, one archived, one deleted."""
    other = d.create(server, first="Anne", last="Byron", dob="1792-05-17", email="a@b.co")["id"]
    pid = d.create(
        server,
        labels=[d.VIP],
        phoneNumber="1",
        customAttributes=[d.ATTRIBUTE],
        communicationPreferences={"receiveSMS": False, "privacyPolicy": "ok"},
        placeOfBirth={"name": "London"},
    )["id"]
    ins = {"ins": {"status": "QUALIFIED", "identityAlertStatus": "SUSPICIOUS"}}
    server.execute(d.UPDATE, {"id": pid, "data": ins})
    server.execute(d.ADD_NUMBER, {"id": pid, "number": {"numberId": d.NHS_NUMBER, "value": "1"}})
    server.execute(d.ADD_MEMBERSHIP, {"id": pid, "membership": d.GOLD, "comments": "c"})
    server.execute(d.ADD_ACCESS_GROUP, {"id": pid, "group": d.EVERYONE})
    contact = {"relatedAccountId": other, "phoneNumber": "2"}
    server.execute(d.ADD_RELATIONSHIP, {"id": pid, "type": "NEXT_OF_KIN", "contact": contact})
    server.execute(d.ARCHIVE, {"id": pid, "reason": "PATIENT_REQUEST", "comments": "moved"})
    gone = d.create(server, first="Gone", last="Away")["id"]
    server.execute(d.DELETE, {"id": gone})
    return [other, pid, gone]


def test_state_round_trip_is_exact(mock_semble: MockSembleServer) -> None:
    ids = _rich(mock_semble)
    before = [d.get(mock_semble, patient_id) for patient_id in ids]
    document = mock_semble.state()
    assert [p["id"] for p in document["patients"]] == ids
    assert document["version"] == 2
    mock_semble.reset()
    assert d.get(mock_semble, ids[0]) is None
    mock_semble.load_state(json.loads(json.dumps(document)))
    assert mock_semble.state() == document
    assert [d.get(mock_semble, patient_id) for patient_id in ids] == before


def test_a_bad_document_is_refused_whole(mock_semble: MockSembleServer) -> None:
    kept = d.create(mock_semble)["id"]
    document = mock_semble.state()
    document["patients"].append({**document["patients"][0], "id": "0" * 24, "email": "bad"})
    with pytest.raises(MockSembleError) as exc:
        mock_semble.load_state(document)
    assert exc.value.status == 400
    assert "patients[1].email: invalid email" in exc.value.message
    assert d.get(mock_semble, kept)["id"] == kept


def test_a_version_1_document_imports_without_patients(mock_semble: MockSembleServer) -> None:
    d.create(mock_semble)
    document = mock_semble.state()
    old = {k: v for k, v in document.items() if k != "patients"}
    old["version"] = 1
    mock_semble.load_state(old)
    assert mock_semble.state()["patients"] == []


def test_reset_whole_and_per_practice(mock_semble: MockSembleServer) -> None:
    mine = d.create(mock_semble)["id"]
    other = mock_semble.new_practice("Other")
    theirs = other.create_patient()["id"]
    mock_semble.reset(d.PRACTICE)
    assert d.get(mock_semble, mine) is None
    assert other.execute(d.GET, {"id": theirs})["data"]["patient"]["id"] == theirs
    d.create(mock_semble)
    mock_semble.reset()
    assert mock_semble.state()["patients"] == []


def test_start_up_patients_come_back_after_a_reset(tmp_path: Path) -> None:
    with MockSembleServer(seed=3) as source:
        ids = _rich(source)
        document = source.state()
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    with MockSembleServer(state_file=str(path)) as server:
        assert server.state()["patients"] == document["patients"]
        d.ok(server.execute(d.UPDATE, {"id": ids[0], "data": {"first": "Changed"}}))
        d.create(server, first="Extra")
        server.reset(d.PRACTICE)
        assert server.state()["patients"] == document["patients"]
        server.execute(d.DELETE, {"id": ids[0]})
        server.reset()
        assert server.state()["patients"] == document["patients"]


def _script(server: MockSembleServer) -> dict[str, Any]:
    server.freeze_clock(FROZEN)
    _rich(server)
    return server.state()


def test_a_seed_reproduces_ids_and_tokens() -> None:
    with MockSembleServer(seed=42) as first, MockSembleServer(seed=42) as second:
        run = _script(first)
        assert _script(second) == run
        first.reset()
        assert _script(first) == run  # a whole reset restarts the sequence


def test_practices_show_the_reference_data(mock_semble: MockSembleServer) -> None:
    [practice] = mock_semble.control("GET", "practices")["practices"]
    assert practice == {
        "id": "000000000000000000000001",
        "name": "Mock Practice",
        "webhooksEnabled": True,
        "labels": [
            {"id": "0000000000000000000000a1", "text": "VIP", "color": "#e53935"},
            {"id": "0000000000000000000000a2", "text": "New patient", "color": "#1e88e5"},
        ],
        "numberTypes": [{"id": "0000000000000000000000b1", "name": "NHS Number"}],
        "memberships": [{"id": "0000000000000000000000c1", "name": "Gold"}],
        "accessGroups": [
            {"id": "0000000000000000000000d1", "name": "Everyone", "label": "everyone"}
        ],
    }


def test_a_new_practices_reference_data_is_its_own(mock_semble: MockSembleServer) -> None:
    body = {
        "name": "Clinic",
        "labels": [{"id": "0000000000000000000000f1", "text": "Urgent", "color": "#000000"}],
        "numberTypes": [{"id": "0000000000000000000000f2", "name": "Hospital number"}],
        "memberships": [{"id": "0000000000000000000000f3", "name": "Silver"}],
        "accessGroups": [{"id": "0000000000000000000000f4", "name": "Nurses", "label": "nurses"}],
    }
    practice = mock_semble.control("POST", "practices", json=body)
    user = {
        "id": "0000000000000000000000f5",
        "firstName": "Jo",
        "lastName": "Doe",
        "email": "j@x.io",
    }
    token = mock_semble.control(
        "POST",
        "tokens",
        json={
            "practiceId": practice["id"],
            "permissions": ["createPatients", "editPatients"],
            "user": user,
        },
    )["token"]

    def run(document: str, variables: dict[str, Any]) -> Any:
        return mock_semble.execute(document, variables, token=token)

    pid = d.create(mock_semble, token=token, labels=["0000000000000000000000f1"])["id"]
    refused = run(d.ADD_LABEL, {"id": pid, "ref": d.VIP})["data"]["addPatientLabel"]
    assert refused["error"] == f"Unknown label definition: {d.VIP}"
    number = {"numberId": "0000000000000000000000f2", "value": "H1"}
    assert d.ok(run(d.ADD_NUMBER, {"id": pid, "number": number}))["numbers"][0]["name"] == (
        "Hospital number"
    )
    member = d.ok(run(d.ADD_MEMBERSHIP, {"id": pid, "membership": "0000000000000000000000f3"}))
    assert member["membershipName"] == "Silver"
    group = d.ok(run(d.ADD_ACCESS_GROUP, {"id": pid, "group": "0000000000000000000000f4"}))
    assert group["accessGroups"] == [
        {"id": "0000000000000000000000f4", "name": "Nurses", "label": "nurses"}
    ]
    archived = d.ok(run(d.ARCHIVE, {"id": pid, "reason": "OTHER"}))
    by = archived["archivedInfo"]["archivedBy"]
    assert (by["id"], by["fullName"], by["email"]) == (
        "0000000000000000000000f5",
        "Jo Doe",
        "j@x.io",
    )


def test_the_request_journal_names_patient_operations(mock_semble: MockSembleServer) -> None:
    mock_semble.clear_requests()
    mock_semble.create_patient()
    mock_semble.execute(d.LIST, {"pagination": {"page": 0}})
    entries = mock_semble.requests()
    assert [e["operationName"] for e in entries] == ["CreatePatient", "List"]
    assert entries[1]["errorCodes"] == ["BAD_USER_INPUT"]


def test_a_graphql_client_selects_every_patient_field(mock_semble: MockSembleServer) -> None:
    pid = _rich(mock_semble)[1]
    transport = HTTPXTransport(url=mock_semble.graphql_url, headers={"x-token": "test-token"})
    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        request = gql(d.GET)  # validated against the introspected schema
        request.variable_values = {"id": pid}
        result = session.execute(request)
    patient = result["patient"]
    assert patient == d.get(mock_semble, pid)
    assert patient["archivedInfo"]["archivedReason"] == "PATIENT_REQUEST"
    assert patient["ins"]["identityAlertStatus"] == "SUSPICIOUS"
    assert patient["relatedAccounts"][0]["relationshipLabel"] == "Next of kin"


CONFIG = """
[[practices]]
id = "0000000000000000000000aa"
name = "Configured clinic"
labels = [{ id = "0000000000000000000000ab", text = "Frail", color = "#777777" }]
numberTypes = [{ id = "0000000000000000000000ac", name = "Hospital number" }]

[[tokens]]
token = "clinic-token"
practiceId = "0000000000000000000000aa"
permissions = ["createPatients", "editPatients", "seePatients"]
user = { id = "0000000000000000000000ad", firstName = "Ann", lastName = "Nurse", email = "a@x.io" }
"""


def test_reference_data_and_users_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "mock-semble.toml"
    path.write_text(CONFIG)
    with MockSembleServer(**load_config_file(path)) as server:
        patient = server.create_patient(labels=["0000000000000000000000ab"])
        assert [(x["text"], x["color"]) for x in patient["labels"]] == [("Frail", "#777777")]
        number = {"numberId": "0000000000000000000000ac", "value": "H-1"}
        numbered = d.ok(server.execute(d.ADD_NUMBER, {"id": patient["id"], "number": number}))
        assert numbered["numbers"][0]["name"] == "Hospital number"
        refused = server.execute(
            d.ADD_NUMBER, {"id": patient["id"], "number": {**number, "numberId": d.NHS_NUMBER}}
        )
        assert (
            refused["data"]["addPatientNumber"]["error"] == f"Unknown number type: {d.NHS_NUMBER}"
        )
        archived = d.ok(server.execute(d.ARCHIVE, {"id": patient["id"], "reason": "OTHER"}))
        assert archived["archivedInfo"]["archivedBy"]["fullName"] == "Ann Nurse"
        assert archived["archivedInfo"]["archivedBy"]["id"] == "0000000000000000000000ad"
