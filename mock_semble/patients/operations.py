"""Patient operations (SPEC §3): one function per root field of the patient lifecycle
and the queries; the sub-record mutations are in :mod:`.record_operations`.

Each checks the permission first (before any lookup), then looks up, applies the rules,
changes the store and publishes the events it causes, after the change is stored. A
refusal raises (``GraphQLError`` FORBIDDEN / BAD_USER_INPUT, or :class:`RuleError`)
having changed nothing and published nothing. Inputs are dicts keyed by the python
names of the GraphQL input fields, holding only the fields given (not null).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from graphql import GraphQLError

from ..core.context import RequestContext, authorise
from ..core.events import Event
from ..core.tenancy import Permission
from . import rules
from .models import (
    INS,
    STATUS_ACTIVE,
    STATUS_ARCHIVED,
    Address,
    CommunicationPreferences,
    CustomAttribute,
    Patient,
    PatientArchivedInfo,
    PatientArchiveReason,
    PatientLabel,
    PatientRelationship,
    PatientRelationshipType,
    PatientUnarchiveReason,
    Phone,
    PlaceOfBirth,
    PrivacyPolicy,
    SharingToken,
    User,
)
from .store import Page, PatientQuery, PatientStore

STORE = "patients"
Fields = Mapping[str, Any]
Change = tuple[dict[str, Any], list[Event]]  # attribute changes, events once stored

ADDRESS_KEYS = ("address", "city", "postcode", "country")
# createPatient/updatePatient input fields stored under the same name on the patient
PLAIN_KEYS = (
    "title",
    "birth_surname",
    "birth_name",
    "birth_names",
    "gender",
    "sex",
    "payment_reference",
    "comments",
)


def patients(ctx: RequestContext) -> PatientStore:
    return ctx.runtime.store(STORE, PatientStore)


def bad_user_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def patient_event(patient: Patient, event_type: str, **identifiers: str) -> Event:
    return Event(patient.practice_id, event_type, {"patientId": patient.id, **identifiers})


def user_of(ctx: RequestContext) -> User:
    """A snapshot of the calling token's user (``archivedBy`` / ``unarchivedBy``)."""
    user = ctx.token.user
    full_name = rules.full_name(None, user.first_name, user.last_name)
    return User(user.id, user.first_name, user.last_name, user.email, full_name)


def edit(
    ctx: RequestContext,
    patient_id: str,
    permission: Permission,
    change: Callable[[Patient], Change],
) -> Patient:
    """The common shape of a patient mutation: authorise, look up, compute the change
    (which may raise :class:`RuleError`), store it if it changes anything, then publish.
    The lock makes lookup, check and write one atomic step."""
    authorise(ctx, permission)
    store = patients(ctx)
    with store.lock:
        patient = live_patient(ctx, patient_id)
        changes, events = change(patient)
        changes = {k: v for k, v in changes.items() if getattr(patient, k) != v}
        if not changes:
            return patient  # nothing changed: updatedAt stays, nothing fires
        store.update(patient, changes, ctx.runtime.clock.now())
    for event in events:
        ctx.runtime.publish(event)
    return patient


def live_patient(ctx: RequestContext, patient_id: str) -> Patient:
    patient = patients(ctx).get(ctx.practice.id, patient_id)
    if patient is None:
        raise rules.patient_not_found()
    return patient


# -- queries -------------------------------------------------------------------------------


def get_patient(ctx: RequestContext, patient_id: str) -> Patient | None:
    authorise(ctx, Permission.SEE_PATIENTS)
    return patients(ctx).get(ctx.practice.id, patient_id)


def list_patients(
    ctx: RequestContext,
    *,
    search: str | None = None,
    page: int | None = None,
    page_size: int | None = None,
    include_deleted: bool = False,
    created: tuple[date | None, date | None] = (None, None),
    updated: tuple[date | None, date | None] = (None, None),
) -> Page:
    """``patients``: ranges are (start, end) ``Date`` inputs, inclusive, either open."""
    authorise(ctx, Permission.SEE_PATIENTS)
    try:
        page, page_size = rules.check_pagination(page, page_size)
    except rules.PaginationError as exc:
        raise bad_user_input(str(exc)) from None
    query = PatientQuery(
        page=page,
        page_size=page_size,
        search=search,
        include_deleted=include_deleted,
        created_from=rules.range_start(created[0]),
        created_to=rules.range_end(created[1]),
        updated_from=rules.range_start(updated[0]),
        updated_to=rules.range_end(updated[1]),
    )
    return patients(ctx).page(ctx.practice.id, query)


def patient_relationships(
    ctx: RequestContext, patient_id: str, relationship_type: PatientRelationshipType | None
) -> list[PatientRelationship] | None:
    """A patient's relationships (of one type when given); null for an unknown patient."""
    authorise(ctx, Permission.SEE_PATIENTS)
    patient = patients(ctx).get(ctx.practice.id, patient_id)
    if patient is None:
        return None
    return [
        r
        for r in patient.related_accounts
        if relationship_type is None or r.relationship_type is relationship_type
    ]


# -- the patient lifecycle -----------------------------------------------------------------


def create_patient(
    ctx: RequestContext,
    *,
    patient_data: Fields | None,
    flat: Fields,
    ins_data: Fields | None = None,
) -> Patient:
    """``createPatient`` from ``patientData`` or the deprecated flat arguments (not both)."""
    authorise(ctx, Permission.CREATE_PATIENTS)
    if patient_data is not None and flat:
        raise rules.mixed_arguments()
    data = flat if patient_data is None else patient_data
    first = rules.check_name(data.get("first"))
    last = rules.check_name(data.get("last"))
    email = rules.check_email(data.get("email"))
    ssn = rules.check_ssn(data.get("social_security_number"))
    store = patients(ctx)
    with store.lock:
        labels = _labels(ctx, store, data.get("labels") or ())
        now = ctx.runtime.clock.now()
        title = data.get("title")
        patient = Patient(
            id=store.new_id(),
            practice_id=ctx.practice.id,
            created_at=now,
            updated_at=now,
            first_name=first,
            last_name=last,
            full_name=rules.full_name(title, first, last),
            email=email,
            social_security_number=ssn,
            dob=None if data.get("dob") is None else rules.utc_date(data["dob"]),
            place_of_birth=_place_of_birth(None, data.get("place_of_birth")),
            address=_address(Address(), data),
            phones=_first_phone(store, data),
            sharing_token=SharingToken(store.new_id() + store.new_id()),
            communication_preferences=_preferences(
                CommunicationPreferences(), data.get("communication_preferences")
            ),
            labels=labels,
            custom_attributes=tuple(
                CustomAttribute(store.new_id(), a["title"], a["text"], a["response"], False)
                for a in data.get("custom_attributes") or ()
                if a is not None
            ),
            ins=None if ins_data is None else _ins(None, ins_data),
            title=title,
            birth_surname=data.get("birth_surname"),
            birth_name=data.get("birth_name"),
            birth_names=data.get("birth_names"),
            gender=data.get("gender"),
            sex=data.get("sex"),
            payment_reference=data.get("payment_reference"),
            comments=data.get("comments"),
        )
        store.add(patient)
    ctx.runtime.publish(patient_event(patient, "patient.created"))
    return patient


def update_patient(ctx: RequestContext, patient_id: str, data: Fields) -> Patient:
    """``updatePatient``: only the given fields change; no change, no event."""

    def change(patient: Patient) -> Change:
        changes: dict[str, Any] = {key: data[key] for key in PLAIN_KEYS if key in data}
        if "first" in data:
            changes["first_name"] = rules.check_name(data["first"])
        if "last" in data:
            changes["last_name"] = rules.check_name(data["last"])
        if "email" in data:
            changes["email"] = rules.check_email(data["email"])
        if "social_security_number" in data:
            changes["social_security_number"] = rules.check_ssn(data["social_security_number"])
        if "dob" in data:
            changes["dob"] = rules.utc_date(data["dob"])
        if "place_of_birth" in data:
            changes["place_of_birth"] = _place_of_birth(
                patient.place_of_birth, data["place_of_birth"]
            )
        changes["address"] = _address(patient.address, data)
        if "communication_preferences" in data:
            changes["communication_preferences"] = _preferences(
                patient.communication_preferences, data["communication_preferences"]
            )
        if "ins" in data:
            changes["ins"] = _ins(patient.ins, data["ins"])
        changes["full_name"] = rules.full_name(
            changes.get("title", patient.title),
            changes.get("first_name", patient.first_name),
            changes.get("last_name", patient.last_name),
        )
        return changes, [patient_event(patient, "patient.updated")]

    return edit(ctx, patient_id, Permission.EDIT_PATIENTS, change)


def delete_patient(ctx: RequestContext, patient_id: str) -> Patient:
    """``deletePatient``: a soft delete; the patient then reads as not found."""
    authorise(ctx, Permission.DELETE_PATIENTS)
    store = patients(ctx)
    with store.lock:
        patient = store.delete(live_patient(ctx, patient_id), ctx.runtime.clock.now())
    ctx.runtime.publish(patient_event(patient, "patient.deleted"))
    return patient


def archive_patient(
    ctx: RequestContext, patient_id: str, reason: PatientArchiveReason, comments: str | None
) -> Patient:
    def change(patient: Patient) -> Change:
        if patient.archived:
            raise rules.already_archived()
        info = replace(
            patient.archived_info or PatientArchivedInfo(),
            archived_at=ctx.runtime.clock.now(),
            archived_by=user_of(ctx),
            archived_reason=reason,
            archived_comments=comments,
        )
        changes = {"archived": True, "status": STATUS_ARCHIVED, "archived_info": info}
        return changes, [patient_event(patient, "patient.archived")]

    return edit(ctx, patient_id, Permission.EDIT_PATIENTS, change)


def unarchive_patient(
    ctx: RequestContext, patient_id: str, reason: PatientUnarchiveReason | None
) -> Patient:
    def change(patient: Patient) -> Change:
        if not patient.archived:
            raise rules.not_archived()
        info = replace(
            patient.archived_info or PatientArchivedInfo(),
            unarchived_at=ctx.runtime.clock.now(),
            unarchived_by=user_of(ctx),
            unarchived_reason=reason,
        )
        changes = {"archived": False, "status": STATUS_ACTIVE, "archived_info": info}
        return changes, [patient_event(patient, "patient.unarchived")]

    return edit(ctx, patient_id, Permission.EDIT_PATIENTS, change)


# -- building records from input -----------------------------------------------------------


def _labels(ctx: RequestContext, store: PatientStore, ids: Any) -> tuple[PatientLabel, ...]:
    """The label definitions named by ``ids`` as new patient labels (repeats dropped)."""
    known = {label.id: label for label in ctx.practice.labels}
    result: list[PatientLabel] = []
    for reference in dict.fromkeys(str(i) for i in ids):
        definition = known.get(reference)
        if definition is None:
            raise rules.unknown_reference("label definition", reference)
        result.append(PatientLabel(store.new_id(), reference, definition.text, definition.color))
    return tuple(result)


def _first_phone(store: PatientStore, data: Fields) -> tuple[Phone, ...]:
    if data.get("phone_number") is None:
        return ()
    return (Phone(store.new_id(), data.get("phone_type"), data["phone_number"]),)


def _address(current: Address, data: Fields) -> Address:
    given = {key: data[key] for key in ADDRESS_KEYS if key in data}
    return replace(current, **given) if given else current


def _place_of_birth(current: PlaceOfBirth | None, given: Fields | None) -> PlaceOfBirth | None:
    if given is None:
        return current
    return replace(current or PlaceOfBirth(), **given)


def _preferences(
    current: CommunicationPreferences, given: Fields | None
) -> CommunicationPreferences:
    if not given:
        return current
    values = dict(given)
    if "privacy_policy" in values:
        values["privacy_policy"] = PrivacyPolicy(values["privacy_policy"])
    return replace(current, **values)


def _ins(current: INS | None, given: Fields) -> INS:
    return replace(current or INS(), **given)
