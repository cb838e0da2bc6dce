"""Semble's patient output types and enums, exactly as ``semble-patients.graphql`` has them.

Resolvers return :mod:`~mock_semble.patients.models` records, not these classes: the
python names here equal the models' attribute names, so strawberry's default resolvers
read the records directly (no per-request conversion). :func:`as_patient` and friends
only tell the type checker so. Descriptions are Semble's own, and only where Semble
gives one. ``Date`` fields are python ``date``: the schema maps that to the ``Date``
scalar (:data:`mock_semble.core.scalars.DATE`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, cast

import strawberry

from .models import (
    PatientArchiveReason,
    PatientINSSIdentityAlertStatus,
    PatientINSStatus,
    PatientRelationshipType,
    PatientUnarchiveReason,
)

if TYPE_CHECKING:
    from . import models

# strawberry.enum marks the model enums in place, so the model values serialise as is
strawberry.enum(PatientArchiveReason)
strawberry.enum(PatientUnarchiveReason)
strawberry.enum(PatientRelationshipType)
strawberry.enum(PatientINSStatus)
strawberry.enum(PatientINSSIdentityAlertStatus)


@strawberry.type
class Phone:
    phone_id: strawberry.ID | None
    phone_type: str | None
    phone_number: str | None


@strawberry.type
class Address:
    address: str | None
    city: str | None
    postcode: str | None
    country: str | None


@strawberry.type
class PatientNumber:
    id: strawberry.ID
    name: str | None
    value: str | None
    reference_id: strawberry.ID = strawberry.field(
        description=(
            "The id of the practice's number definition (the numberId given to addPatientNumber)."
        )
    )


@strawberry.type
class CustomAttribute:
    id: strawberry.ID | None
    title: str | None
    text: str | None
    response: str | None
    required: bool | None


@strawberry.type
class PrivacyPolicy:
    response: str | None


@strawberry.type
class CommunicationPreferences:
    receive_email: bool | None
    receive_sms: bool | None = strawberry.field(name="receiveSMS")
    promotional_marketing: bool | None
    privacy_policy: PrivacyPolicy | None
    payment_reminders: bool | None


@strawberry.type
class PatientRelationshipContact:
    related_account_id: strawberry.ID | None
    source: str | None
    source_id: strawberry.ID | None
    first_name: str | None
    last_name: str | None
    title: str | None
    company_name: str | None
    phones: list[Phone | None] | None
    email: str | None
    address: str | None
    city: str | None
    postcode: str | None
    country: str | None
    notes: str | None
    name: str | None = strawberry.field(deprecation_reason="Use firstName")
    contact_info: str | None
    policy_number: str | None
    authorization_code: str | None


@strawberry.type
class PatientRelationship:
    relationship_id: strawberry.ID | None
    relationship_type: PatientRelationshipType | None
    relationship_label: str | None
    deleted: bool | None
    contact_details: PatientRelationshipContact | None


@strawberry.type
class PatientRelationshipData:
    data: list[PatientRelationship | None] | None


@strawberry.type
class PatientLabel:
    color: str | None
    text: str | None
    id: strawberry.ID
    reference_id: strawberry.ID


@strawberry.type
class PatientAccessGroup:
    id: strawberry.ID
    name: str
    label: str


@strawberry.type
class PlaceOfBirth:
    name: str | None
    code: str | None


@strawberry.type
class SharingToken:
    token: str | None


@strawberry.type
class INS:
    number: str | None
    oid: str | None
    manual_identification: bool | None
    identity_alert_status: PatientINSSIdentityAlertStatus | None
    identity_alert_comment: str | None
    status: PatientINSStatus | None
    identity_document: str | None


@strawberry.type(description="A user in the application.")
class User:
    id: strawberry.ID
    title: str | None
    first_name: str
    last_name: str
    gender: str | None
    pronouns: str | None
    email: str
    full_name: str
    is_doctor: bool | None
    qualifications: str | None
    registration: str | None
    deleted: bool | None
    minimum_treatment_age: int | None
    created_at: datetime | None
    updated_at: datetime | None


@strawberry.type
class PatientArchivedInfo:
    archived_at: datetime | None
    archived_by: User | None
    archived_reason: PatientArchiveReason | None
    archived_comments: str | None
    unarchived_at: datetime | None
    unarchived_by: User | None
    unarchived_reason: PatientUnarchiveReason | None


@strawberry.type(description="The data defining a patient.")
class Patient:
    id: strawberry.ID
    title: str | None
    status: str | None
    first_name: str | None
    last_name: str | None
    full_name: str | None
    birth_surname: str | None
    birth_name: str | None
    birth_names: str | None
    dob: date | None
    place_of_birth: PlaceOfBirth | None
    social_security_number: str | None
    gender: str | None
    sex: str | None
    email: str | None
    google_client_id: str | None
    payment_reference: str | None
    phones: list[Phone | None] | None
    occupation: str | None
    address: Address | None
    membership_name: str | None
    membership_start_date: str | None
    membership_start_date_formatted: date | None
    sharing_token: SharingToken | None
    numbers: list[PatientNumber | None] | None
    custom_attributes: list[CustomAttribute | None] | None
    communication_preferences: CommunicationPreferences | None
    related_accounts: list[PatientRelationship | None] | None
    labels: list[PatientLabel | None] | None
    created_at: datetime | None
    updated_at: datetime | None
    access_groups: list[PatientAccessGroup | None] | None
    comments: str | None
    ins: INS | None
    on_hold: bool | None
    archived: bool | None
    archived_info: PatientArchivedInfo | None


@strawberry.type(description="The response received when querying for patient information.")
class PatientResponsePayload:
    data: Patient | None
    error: str | None


@strawberry.type
class PageInfo:
    page: int | None
    page_size: int | None
    has_more: bool | None


@strawberry.type(description="A collection of patient data and how this data are paginated.")
class PatientData:
    data: list[Patient | None] | None
    page_info: PageInfo | None


def as_patient(record: models.Patient) -> Patient:
    """A stored patient, typed as what it serves as (its attributes match :class:`Patient`)."""
    return cast(Patient, record)


def as_patients(records: list[models.Patient]) -> list[Patient | None]:
    return cast(list[Patient | None], records)


def as_relationships(
    records: tuple[models.PatientRelationship, ...] | list[models.PatientRelationship],
) -> list[PatientRelationship | None]:
    return cast(list[PatientRelationship | None], list(records))
