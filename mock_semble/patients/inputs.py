"""Semble's patient input types, exactly as ``semble-patients.graphql`` has them.

Every field defaults to UNSET, so the SDL shows no default values (Semble's shows none)
and an omitted field can be told from an explicit null where that matters.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from typing import Any

import strawberry
from strawberry.types.unset import UNSET

from . import types as _types  # noqa: F401  (marks the model enums as GraphQL enums)
from .models import PatientINSSIdentityAlertStatus, PatientINSStatus


@strawberry.input
class Pagination:
    page: int | None = UNSET
    page_size: int | None = UNSET


@strawberry.input
class DateRange:
    start: date | None = UNSET
    end: date | None = UNSET


@strawberry.input
class QueryOptions:
    include_deleted: bool | None = UNSET
    created_at: DateRange | None = UNSET
    updated_at: DateRange | None = UNSET


@strawberry.input
class PlaceOfBirthInput:
    name: str | None = UNSET
    code: str | None = UNSET


@strawberry.input
class PatientCommunicationPreferencesInput:
    receive_email: bool | None = UNSET
    receive_sms: bool | None = strawberry.field(default=UNSET, name="receiveSMS")
    promotional_marketing: bool | None = UNSET
    privacy_policy: str | None = UNSET
    payment_reminders: bool | None = UNSET


@strawberry.input
class INSInput:
    number: str | None = UNSET
    oid: str | None = UNSET
    manual_identification: bool | None = UNSET
    identity_alert_status: PatientINSSIdentityAlertStatus | None = UNSET
    identity_alert_comment: str | None = UNSET
    status: PatientINSStatus | None = UNSET
    identity_document: str | None = UNSET


@strawberry.input
class AddCustomAttributeData:
    title: str
    text: str
    response: str


@strawberry.input
class UpdateCustomAttributeData:
    title: str | None = UNSET
    text: str | None = UNSET
    response: str | None = UNSET


@strawberry.input
class AddPhoneData:
    phone_number: str
    phone_type: str


@strawberry.input
class UpdatePhoneData:
    phone_number: str | None = UNSET
    phone_type: str | None = UNSET


@strawberry.input
class AddPatientNumberData:
    number_id: strawberry.ID
    value: str


@strawberry.input
class CreatePatientDataInput:
    title: str | None = UNSET
    first: str | None = UNSET
    last: str | None = UNSET
    birth_surname: str | None = UNSET
    birth_name: str | None = UNSET
    birth_names: str | None = UNSET
    email: str | None = UNSET
    dob: date | None = UNSET
    place_of_birth: PlaceOfBirthInput | None = UNSET
    social_security_number: str | None = strawberry.field(
        default=UNSET,
        description="Exactly 15 characters, digits, A or B, if supplied (France only).",
    )
    gender: str | None = UNSET
    sex: str | None = UNSET
    address: str | None = UNSET
    city: str | None = UNSET
    postcode: str | None = UNSET
    country: str | None = UNSET
    phone_type: str | None = UNSET
    phone_number: str | None = UNSET
    payment_reference: str | None = UNSET
    communication_preferences: PatientCommunicationPreferencesInput | None = UNSET
    labels: list[strawberry.ID] | None = UNSET
    custom_attributes: list[AddCustomAttributeData | None] | None = UNSET
    comments: str | None = UNSET


@strawberry.input
class UpdatePatientDataInput:
    title: str | None = UNSET
    first: str | None = UNSET
    last: str | None = UNSET
    birth_surname: str | None = UNSET
    birth_name: str | None = UNSET
    birth_names: str | None = UNSET
    email: str | None = UNSET
    dob: date | None = UNSET
    place_of_birth: PlaceOfBirthInput | None = UNSET
    social_security_number: str | None = UNSET
    gender: str | None = UNSET
    sex: str | None = UNSET
    address: str | None = UNSET
    city: str | None = UNSET
    postcode: str | None = UNSET
    country: str | None = UNSET
    payment_reference: str | None = UNSET
    communication_preferences: PatientCommunicationPreferencesInput | None = UNSET
    comments: str | None = UNSET
    ins: INSInput | None = UNSET


@strawberry.input
class PatientRelationshipContactInput:
    related_account_id: strawberry.ID | None = UNSET
    source: str | None = UNSET
    source_id: strawberry.ID | None = UNSET
    first_name: str | None = strawberry.field(
        default=UNSET,
        description=(
            "Cannot be assigned if relatedAccountId is specified "
            "(also lastName, title, companyName)"
        ),
    )
    last_name: str | None = UNSET
    title: str | None = UNSET
    company_name: str | None = UNSET
    phone_type: str | None = UNSET
    phone_number: str | None = UNSET
    email: str | None = UNSET
    address: str | None = UNSET
    city: str | None = UNSET
    postcode: str | None = UNSET
    country: str | None = UNSET
    notes: str | None = UNSET
    policy_number: str | None = UNSET
    authorization_code: str | None = UNSET
    name: str | None = UNSET
    contact_info: str | None = UNSET


def given(value: Any) -> Any:
    """An input object as a dict of the fields given (UNSET and null dropped), nested
    inputs and lists of them converted too; any other value as it is (UNSET as None)."""
    if value is UNSET:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type | Enum):
        return {
            f.name: given(v)
            for f in dataclasses.fields(value)
            if (v := getattr(value, f.name)) is not UNSET and v is not None
        }
    if isinstance(value, list):
        return [given(item) for item in value]
    return value
