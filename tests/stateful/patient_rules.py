"""The patient rules of the stateful machine (SPEC §3): create, update, delete, archive,
unarchive, get and list, from every caller, against the model; each mutation fires
exactly its events (none when refused or when nothing changed)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import initialize, multiple, rule

from mock_semble.testing.documents import (
    ARCHIVE_PATIENT,
    CREATE_PATIENT,
    DELETE_PATIENT,
    GET_PATIENT,
    LIST_PATIENTS,
    UNARCHIVE_PATIENT,
    UPDATE_PATIENT,
)

from .base import PATIENTS, Fired, MachineBase
from .model import (
    ARCHIVE_REASONS,
    EMAILS,
    FIRST_NAMES,
    MSG_ARCHIVED,
    MSG_EMAIL,
    MSG_NOT_ARCHIVED,
    MSG_PATIENT_NOT_FOUND,
    TITLES,
    UNARCHIVE_REASONS,
    Patient,
    names_error,
    seen,
)

MISSING_IDS = ["0" * 24, "not-an-object-id", ""]
LAST_NAMES = ["Lovelace", "Hopper", ""]
firsts = st.sampled_from(["Ada", "Ada", *FIRST_NAMES])
lasts = st.sampled_from(["Lovelace", *LAST_NAMES])
emails = st.none() | st.sampled_from(list(EMAILS))
titles = st.none() | st.sampled_from(TITLES)
DEFAULT_USER = "Mock"
some_patient = st.one_of(
    PATIENTS, PATIENTS, PATIENTS, st.sampled_from(MISSING_IDS)
)  # SPEC §3: a token's user defaults to Mock / User


class PatientRules(MachineBase):
    def owner(self, data: st.DataObject, patient_id: str) -> str:
        patient = self.patients.get(patient_id)
        return self.who_for(data, None if patient is None else patient.practice)

    def live(self, who: str, patient_id: str) -> Patient | None:
        """The caller's practice's patient, unless deleted (otherwise: not found)."""
        patient = self.patients.get(patient_id)
        if patient is None or patient.deleted:
            return None
        return patient if patient.practice == self.scale.callers[who].practice else None

    def mutate(
        self, who: str, root: str, permission: str, query: str, variables: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Call a patient mutation; None when refused (FORBIDDEN, nothing fired)."""
        self.step()
        body = self.call(who, query, variables)
        payload = self.payload(who, root, permission, body)
        if payload is None:
            self.expect_events([])
            return None
        return body, payload

    def refused(self, root: str, body: dict[str, Any], message: str) -> None:
        self.expect_payload_error(root, body, message)
        self.expect_events([])  # a refused mutation fires nothing

    def accepted(self, patient: Patient, data: dict[str, Any], event: str | None) -> None:
        """A successful answer shows the model's patient; ``event`` fired (or none)."""
        assert seen(data) == patient.as_seen(), (seen(data), patient.as_seen())
        if event is None:
            assert data["updatedAt"] == patient.updated_at  # nothing changed
        else:
            assert data["updatedAt"] >= patient.updated_at
        patient.updated_at = data["updatedAt"]
        fired: list[Fired] = []
        if event is not None:
            fired.append((patient.practice, event, {"patientId": patient.id}, None))
        self.expect_events(fired)

    # -- rules ------------------------------------------------------------------------

    @initialize(target=PATIENTS)
    def first_patients(self) -> Any:
        """A patient in every practice to begin with, so that lifecycles get long."""
        made = []
        for practice in self.scale.practices:
            who = self.creator(practice, "createPatients")
            if who is not None:
                made.append(self.create_patient_as(who, "Ada", "Lovelace", None, None))
        return multiple(*made)

    @rule(target=PATIENTS, data=st.data(), first=firsts, last=lasts, email=emails, title=titles)
    def create_patient(
        self, data: st.DataObject, first: str, last: str, email: str | None, title: str | None
    ) -> Any:
        return self.create_patient_as(self.who(data), first, last, email, title)

    def create_patient_as(
        self, who: str, first: str, last: str, email: str | None, title: str | None
    ) -> Any:
        given = {"first": first, "last": last, "email": email, "title": title}
        variables = {"data": {k: v for k, v in given.items() if v is not None}}
        answer = self.mutate(who, "createPatient", "createPatients", CREATE_PATIENT, variables)
        if answer is None:
            return multiple()
        body, payload = answer
        expected = names_error(first, last) or (MSG_EMAIL if email and not EMAILS[email] else None)
        if expected is not None:
            self.refused("createPatient", body, expected)
            return multiple()
        record = payload["data"]
        assert payload["error"] is None and record["createdAt"] == record["updatedAt"]
        practice = self.scale.callers[who].practice
        patient = Patient(record["id"], practice, first, last, email, title, record["updatedAt"])
        assert patient.id not in self.patients
        self.patients[patient.id] = patient
        self.accepted(patient, record, "patient.created")
        self.outcome("createPatient: ok")
        return patient.id

    @rule(
        data=st.data(),
        patient_id=some_patient,
        first=st.none() | firsts,
        last=st.none() | lasts,
        email=emails,
        title=titles,
    )
    def update_patient(
        self,
        data: st.DataObject,
        patient_id: str,
        first: str | None,
        last: str | None,
        email: str | None,
        title: str | None,
    ) -> None:
        who = self.owner(data, patient_id)
        given = {"first": first, "last": last, "email": email, "title": title}
        # an explicit null leaves a field as it is, like an omitted one
        changes = {k: v for k, v in given.items() if v is not None or data.draw(st.booleans())}
        variables = {"id": patient_id, "data": changes}
        answer = self.mutate(who, "updatePatient", "editPatients", UPDATE_PATIENT, variables)
        if answer is None:
            return
        body, payload = answer
        patient = self.live(who, patient_id)
        if patient is None:
            return self.refused("updatePatient", body, MSG_PATIENT_NOT_FOUND)
        expected = (
            (names_error(first, "x") if first is not None else None)
            or (names_error("x", last) if last is not None else None)
            or (MSG_EMAIL if email and not EMAILS[email] else None)
        )
        if expected is not None:
            return self.refused("updatePatient", body, expected)
        before = patient.as_seen()
        patient.first = patient.first if first is None else first
        patient.last = patient.last if last is None else last
        patient.email = patient.email if email is None else email
        patient.title = patient.title if title is None else title
        changed = patient.as_seen() != before
        self.accepted(patient, payload["data"], "patient.updated" if changed else None)
        self.outcome("updatePatient: " + ("ok" if changed else "unchanged"))

    @rule(data=st.data(), patient_id=some_patient)
    def delete_patient(self, data: st.DataObject, patient_id: str) -> None:
        who = self.owner(data, patient_id)
        variables = {"id": patient_id}
        answer = self.mutate(who, "deletePatient", "deletePatients", DELETE_PATIENT, variables)
        if answer is None:
            return
        body, payload = answer
        patient = self.live(who, patient_id)
        if patient is None:
            return self.refused("deletePatient", body, MSG_PATIENT_NOT_FOUND)
        patient.deleted = True
        self.accepted(patient, payload["data"], "patient.deleted")
        self.outcome("deletePatient: ok")

    @rule(
        data=st.data(),
        patient_id=PATIENTS,
        reason=st.sampled_from(ARCHIVE_REASONS),
        comments=st.none() | st.just("moved to Leeds"),
    )
    def archive_patient(
        self, data: st.DataObject, patient_id: str, reason: str, comments: str | None
    ) -> None:
        who = self.owner(data, patient_id)
        variables = {"id": patient_id, "reason": reason, "comments": comments}
        answer = self.mutate(who, "archivePatient", "editPatients", ARCHIVE_PATIENT, variables)
        if answer is None:
            return
        body, payload = answer
        patient = self.live(who, patient_id)
        if patient is None:
            return self.refused("archivePatient", body, MSG_PATIENT_NOT_FOUND)
        if patient.archived:
            return self.refused("archivePatient", body, MSG_ARCHIVED)
        patient.archived = True
        info = payload["data"]["archivedInfo"]
        assert (info["archivedReason"], info["archivedComments"]) == (reason, comments)
        assert info["archivedBy"]["firstName"] == DEFAULT_USER
        patient.archived_info = info
        self.accepted(patient, payload["data"], "patient.archived")
        self.outcome("archivePatient: ok")

    @rule(
        data=st.data(),
        patient_id=PATIENTS,
        reason=st.none() | st.sampled_from(UNARCHIVE_REASONS),
    )
    def unarchive_patient(self, data: st.DataObject, patient_id: str, reason: str | None) -> None:
        archived = [p.id for p in self.patients.values() if p.archived and not p.deleted]
        prefer_archived: bool = data.draw(st.booleans(), label="an archived one")
        if archived and prefer_archived:
            patient_id = data.draw(st.sampled_from(archived), label="patient_id")
        who = self.owner(data, patient_id)
        variables = {"id": patient_id, "reason": reason}
        answer = self.mutate(who, "unarchivePatient", "editPatients", UNARCHIVE_PATIENT, variables)
        if answer is None:
            return
        body, payload = answer
        patient = self.live(who, patient_id)
        if patient is None:
            return self.refused("unarchivePatient", body, MSG_PATIENT_NOT_FOUND)
        if not patient.archived:
            return self.refused("unarchivePatient", body, MSG_NOT_ARCHIVED)
        patient.archived = False
        info = payload["data"]["archivedInfo"]
        assert info["unarchivedReason"] == reason
        assert patient.archived_info is not None  # the archive fields stay
        assert info["archivedReason"] == patient.archived_info["archivedReason"]
        patient.archived_info = info
        self.accepted(patient, payload["data"], "patient.unarchived")
        self.outcome("unarchivePatient: ok")

    @rule(data=st.data(), patient_id=some_patient)
    def get_patient(self, data: st.DataObject, patient_id: str) -> None:
        self.step()
        who = self.who(data, writers=False)
        body = self.call(who, GET_PATIENT, {"id": patient_id})
        if self.forbidden(who, "patient", "seePatients", body):
            return
        got = body["data"]["patient"]
        patient = self.live(who, patient_id)  # deleted ones read as null
        if patient is None:
            assert got is None
            self.outcome("patient: null")
        else:
            assert seen(got) == patient.as_seen() and got["updatedAt"] == patient.updated_at
            self.outcome("patient: found")

    @rule(data=st.data(), include_deleted=st.booleans())
    def list_patients(self, data: st.DataObject, include_deleted: bool) -> None:
        self.step()
        who = self.who(data, writers=False)
        variables = {
            "options": {"includeDeleted": include_deleted},
            "pagination": {"pageSize": 100},
        }
        body = self.call(who, LIST_PATIENTS, variables)
        if self.forbidden(who, "patients", "seePatients", body):
            return
        listed = body["data"]["patients"]
        practice = self.scale.callers[who].practice
        expected = [
            p.as_seen()
            for p in self.patients.values()
            if p.practice == practice and (include_deleted or not p.deleted)
        ]
        assert [seen(p) for p in listed["data"]] == expected
        assert listed["pageInfo"] == {"page": 1, "pageSize": 100, "hasMore": False}
        self.outcome("patients: listed")
