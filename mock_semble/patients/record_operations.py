"""The sub-record mutations of SPEC §3: labels, phones, custom attributes, numbers,
access groups, memberships and relationships — one function per root field.

Each goes through :func:`.operations.edit` (``editPatients`` first, then the patient,
then the record or reference, then the change), so a refused call changes nothing and
fires nothing, and an add/update that changes nothing fires nothing either.
Identifiers carry the record ids (SPEC §3): ``labelId`` is the ``PatientLabel.id``,
``numberId`` the ``PatientNumber.id``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from ..core.clock import format_date, parse_date_input
from ..core.context import RequestContext
from ..core.errors import RuleError
from ..core.tenancy import Permission
from . import rules
from .models import (
    CustomAttribute,
    Patient,
    PatientAccessGroup,
    PatientLabel,
    PatientNumber,
    PatientRelationship,
    PatientRelationshipContact,
    PatientRelationshipType,
    Phone,
)
from .operations import Change, Fields, edit, patient_event, patients

R = TypeVar("R")
EDIT = Permission.EDIT_PATIENTS
# contact fields that come from the related patient when relatedAccountId is given
RELATED_NAME_KEYS = ("first_name", "last_name", "title", "company_name")
CONTACT_KEYS = (
    "related_account_id",
    "source",
    "source_id",
    "first_name",
    "last_name",
    "title",
    "company_name",
    "email",
    "address",
    "city",
    "postcode",
    "country",
    "notes",
    "contact_info",
    "policy_number",
    "authorization_code",
)


def _find(records: tuple[R, ...], key: str, record_id: str, thing: str) -> R:
    for record in records:
        if getattr(record, key) == record_id:
            return record
    raise rules.record_not_found(thing)


def _without(records: tuple[R, ...], record: R) -> tuple[R, ...]:
    return tuple(r for r in records if r is not record)


def _swapped(records: tuple[R, ...], old: R, new: R) -> tuple[R, ...]:
    return tuple(new if r is old else r for r in records)


def _new_id(ctx: RequestContext) -> str:
    return patients(ctx).new_id()


# -- labels --------------------------------------------------------------------------------


def add_label(ctx: RequestContext, patient_id: str, label_reference_id: str) -> Patient:
    def change(patient: Patient) -> Change:
        definition = next((d for d in ctx.practice.labels if d.id == label_reference_id), None)
        if definition is None:
            raise rules.unknown_reference("label definition", label_reference_id)
        if any(label.reference_id == label_reference_id for label in patient.labels):
            return {}, []  # the patient has it already: nothing changes
        label = PatientLabel(_new_id(ctx), definition.id, definition.text, definition.color)
        event = patient_event(patient, "patient.label.added", labelId=label.id)
        return {"labels": (*patient.labels, label)}, [event]

    return edit(ctx, patient_id, EDIT, change)


def remove_label(ctx: RequestContext, patient_id: str, label_id: str) -> Patient:
    def change(patient: Patient) -> Change:
        label = _find(patient.labels, "id", label_id, "Label")
        event = patient_event(patient, "patient.label.removed", labelId=label.id)
        return {"labels": _without(patient.labels, label)}, [event]

    return edit(ctx, patient_id, EDIT, change)


# -- phones --------------------------------------------------------------------------------


def add_phone(ctx: RequestContext, patient_id: str, phone_number: str, phone_type: str) -> Patient:
    def change(patient: Patient) -> Change:
        phone = Phone(_new_id(ctx), phone_type, phone_number)
        event = patient_event(patient, "patient.phone.added", phoneId=str(phone.phone_id))
        return {"phones": (*patient.phones, phone)}, [event]

    return edit(ctx, patient_id, EDIT, change)


def update_phone(ctx: RequestContext, patient_id: str, phone_id: str, data: Fields) -> Patient:
    def change(patient: Patient) -> Change:
        phone = _find(patient.phones, "phone_id", phone_id, "Phone")
        updated = replace(phone, **data)
        if updated == phone:
            return {}, []
        event = patient_event(patient, "patient.phone.updated", phoneId=phone_id)
        return {"phones": _swapped(patient.phones, phone, updated)}, [event]

    return edit(ctx, patient_id, EDIT, change)


def remove_phone(ctx: RequestContext, patient_id: str, phone_id: str) -> Patient:
    def change(patient: Patient) -> Change:
        phone = _find(patient.phones, "phone_id", phone_id, "Phone")
        event = patient_event(patient, "patient.phone.removed", phoneId=phone_id)
        return {"phones": _without(patient.phones, phone)}, [event]

    return edit(ctx, patient_id, EDIT, change)


# -- custom attributes ---------------------------------------------------------------------


def add_attribute(ctx: RequestContext, patient_id: str, data: Fields) -> Patient:
    def change(patient: Patient) -> Change:
        attribute = CustomAttribute(
            _new_id(ctx), data["title"], data["text"], data["response"], False
        )
        event = patient_event(
            patient, "patient.customAttribute.added", customAttributeId=str(attribute.id)
        )
        return {"custom_attributes": (*patient.custom_attributes, attribute)}, [event]

    return edit(ctx, patient_id, EDIT, change)


def update_attribute(
    ctx: RequestContext, patient_id: str, attribute_id: str, data: Fields
) -> Patient:
    def change(patient: Patient) -> Change:
        attribute = _find(patient.custom_attributes, "id", attribute_id, "Attribute")
        updated = replace(attribute, **data)
        if updated == attribute:
            return {}, []
        event = patient_event(
            patient, "patient.customAttribute.updated", customAttributeId=attribute_id
        )
        return {"custom_attributes": _swapped(patient.custom_attributes, attribute, updated)}, [
            event
        ]

    return edit(ctx, patient_id, EDIT, change)


def remove_attribute(ctx: RequestContext, patient_id: str, attribute_id: str) -> Patient:
    def change(patient: Patient) -> Change:
        attribute = _find(patient.custom_attributes, "id", attribute_id, "Attribute")
        event = patient_event(
            patient, "patient.customAttribute.removed", customAttributeId=attribute_id
        )
        return {"custom_attributes": _without(patient.custom_attributes, attribute)}, [event]

    return edit(ctx, patient_id, EDIT, change)


# -- numbers -------------------------------------------------------------------------------


def add_number(ctx: RequestContext, patient_id: str, number_id: str, value: str) -> Patient:
    def change(patient: Patient) -> Change:
        kind = next((t for t in ctx.practice.number_types if t.id == number_id), None)
        if kind is None:
            raise rules.unknown_reference("number type", number_id)
        number = PatientNumber(_new_id(ctx), kind.name, value, kind.id)
        event = patient_event(patient, "patient.number.added", numberId=number.id)
        return {"numbers": (*patient.numbers, number)}, [event]

    return edit(ctx, patient_id, EDIT, change)


def update_number(
    ctx: RequestContext, patient_id: str, patient_number_id: str, value: str | None
) -> Patient:
    def change(patient: Patient) -> Change:
        number = _find(patient.numbers, "id", patient_number_id, "Number")
        if value is None or value == number.value:
            return {}, []
        event = patient_event(patient, "patient.number.updated", numberId=number.id)
        updated = replace(number, value=value)
        return {"numbers": _swapped(patient.numbers, number, updated)}, [event]

    return edit(ctx, patient_id, EDIT, change)


def remove_number(ctx: RequestContext, patient_id: str, patient_number_id: str) -> Patient:
    def change(patient: Patient) -> Change:
        number = _find(patient.numbers, "id", patient_number_id, "Number")
        event = patient_event(patient, "patient.number.removed", numberId=number.id)
        return {"numbers": _without(patient.numbers, number)}, [event]

    return edit(ctx, patient_id, EDIT, change)


# -- access groups (they fire no event: Semble documents none) -----------------------------


def add_access_group(ctx: RequestContext, patient_id: str, access_group_id: str) -> Patient:
    def change(patient: Patient) -> Change:
        group = next((g for g in ctx.practice.access_groups if g.id == access_group_id), None)
        if group is None:
            raise rules.unknown_reference("access group", access_group_id)
        if any(held.id == group.id for held in patient.access_groups):
            return {}, []
        held = PatientAccessGroup(group.id, group.name, group.label)
        return {"access_groups": (*patient.access_groups, held)}, []

    return edit(ctx, patient_id, EDIT, change)


def remove_access_group(ctx: RequestContext, patient_id: str, access_group_id: str) -> Patient:
    def change(patient: Patient) -> Change:
        held = _find(patient.access_groups, "id", access_group_id, "Access group")
        return {"access_groups": _without(patient.access_groups, held)}, []

    return edit(ctx, patient_id, EDIT, change)


# -- memberships (one per patient: a new one replaces the old) -----------------------------


def add_membership(
    ctx: RequestContext,
    patient_id: str,
    membership_id: str,
    start_date: str | None,
    comments: str | None,
) -> Patient:
    def change(patient: Patient) -> Change:
        membership = next((m for m in ctx.practice.memberships if m.id == membership_id), None)
        if membership is None:
            raise rules.unknown_reference("membership", membership_id)
        if start_date is None:
            text = format_date(ctx.runtime.clock.now())
            day = ctx.runtime.clock.now().date()
        else:
            try:
                day = rules.utc_date(parse_date_input(start_date))
            except ValueError:
                raise RuleError(rules.MSG_MEMBERSHIP_START, "INVALID_ARGUMENTS") from None
            text = start_date
        changes = {
            "membership_id": membership.id,
            "membership_name": membership.name,
            "membership_start_date": text,
            "membership_start_date_formatted": day,
            "membership_comments": comments,
        }
        return changes, [patient_event(patient, "patient.membership.updated")]

    return edit(ctx, patient_id, EDIT, change)


def remove_membership(ctx: RequestContext, patient_id: str, membership_id: str) -> Patient:
    def change(patient: Patient) -> Change:
        if patient.membership_id is None or patient.membership_id != membership_id:
            raise rules.record_not_found("Membership")
        changes = {
            "membership_id": None,
            "membership_name": None,
            "membership_start_date": None,
            "membership_start_date_formatted": None,
            "membership_comments": None,
        }
        return changes, [patient_event(patient, "patient.membership.updated")]

    return edit(ctx, patient_id, EDIT, change)


# -- relationships -------------------------------------------------------------------------


def add_relationship(
    ctx: RequestContext,
    patient_id: str,
    relationship_type: PatientRelationshipType,
    relationship_label: str | None,
    contact: Fields,
) -> Patient:
    def change(patient: Patient) -> Change:
        details = _contact(ctx, PatientRelationshipContact(), contact)
        relationship = PatientRelationship(
            _new_id(ctx),
            relationship_type,
            rules.relationship_label(relationship_type, relationship_label),
            details,
        )
        event = patient_event(
            patient, "patient.relationship.added", relationshipId=relationship.relationship_id
        )
        return {"related_accounts": (*patient.related_accounts, relationship)}, [event]

    return edit(ctx, patient_id, EDIT, change)


def update_relationship(
    ctx: RequestContext, patient_id: str, relationship_id: str, contact: Fields
) -> Patient:
    def change(patient: Patient) -> Change:
        relationship = _find(
            patient.related_accounts, "relationship_id", relationship_id, "Relationship"
        )
        details = _contact(ctx, relationship.contact_details, contact)
        if details == relationship.contact_details:
            return {}, []
        updated = replace(relationship, contact_details=details)
        event = patient_event(
            patient, "patient.relationship.updated", relationshipId=relationship_id
        )
        return {"related_accounts": _swapped(patient.related_accounts, relationship, updated)}, [
            event
        ]

    return edit(ctx, patient_id, EDIT, change)


def remove_relationship(ctx: RequestContext, patient_id: str, relationship_id: str) -> Patient:
    def change(patient: Patient) -> Change:
        relationship = _find(
            patient.related_accounts, "relationship_id", relationship_id, "Relationship"
        )
        event = patient_event(
            patient, "patient.relationship.removed", relationshipId=relationship_id
        )
        return {"related_accounts": _without(patient.related_accounts, relationship)}, [event]

    return edit(ctx, patient_id, EDIT, change)


def _contact(
    ctx: RequestContext, current: PatientRelationshipContact, given: Fields
) -> PatientRelationshipContact:
    """``current`` with the given contact fields applied. With ``relatedAccountId`` the
    names come from that patient of the practice and may not be given."""
    values: dict[str, Any] = {key: given[key] for key in CONTACT_KEYS if key in given}
    related_id = values.get("related_account_id", current.related_account_id)
    if related_id is not None and any(key in given for key in RELATED_NAME_KEYS):
        raise RuleError(rules.MSG_CONTACT_MIXED, "INVALID_ARGUMENTS")
    if "related_account_id" in given:
        related_id = str(given["related_account_id"])
        related = patients(ctx).get(ctx.practice.id, related_id)
        if related is None:
            raise rules.unknown_reference("related patient", related_id)
        values.update(
            related_account_id=related.id,
            first_name=related.first_name,
            last_name=related.last_name,
            title=related.title,
        )
    if "phone_number" in given or "phone_type" in given:
        old = current.phones[0] if current.phones else Phone(_new_id(ctx), None, None)
        phone = replace(
            old,
            phone_number=given.get("phone_number", old.phone_number),
            phone_type=given.get("phone_type", old.phone_type),
        )
        values["phones"] = (phone, *current.phones[1:])
    first_name = values.get("first_name", current.first_name)
    if "name" in given:
        values["name"] = given["name"]
    elif current.name is None or current.name == current.first_name:
        values["name"] = first_name  # the deprecated alias follows firstName
    return replace(current, **values)
