"""The stored patient records (SPEC §3).

Attribute names equal the python names of the GraphQL types in
:mod:`mock_semble.patients.types`, so strawberry's default resolvers (and the fast path,
which projects by ``getattr(obj, field.python_name)``) read these objects directly.
Sub-records are frozen and held in tuples: a change replaces them, so a response being
serialised never sees a half-applied mutation. A few attributes are internal (marked
below): the GraphQL types do not declare them, so they never reach a client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum


class PatientArchiveReason(Enum):
    INACTIVE_PATIENT = "INACTIVE_PATIENT"
    DISCHARGED_PATIENT = "DISCHARGED_PATIENT"
    DECEASED_PATIENT = "DECEASED_PATIENT"
    MOVED_AWAY_OR_TRANSFER_OF_CARE = "MOVED_AWAY_OR_TRANSFER_OF_CARE"
    LAPSED_MEMBERSHIP = "LAPSED_MEMBERSHIP"
    PATIENT_REQUEST = "PATIENT_REQUEST"
    OTHER = "OTHER"


class PatientUnarchiveReason(Enum):
    ACTIVE_PATIENT = "ACTIVE_PATIENT"
    PROCESS_LAB_RESULTS = "PROCESS_LAB_RESULTS"
    PROCESS_PAYMENT = "PROCESS_PAYMENT"
    PROCESS_LETTER_OR_TASK = "PROCESS_LETTER_OR_TASK"
    AUDIT_AND_ADMINISTRATIVE_REASONS = "AUDIT_AND_ADMINISTRATIVE_REASONS"
    OTHER = "OTHER"


class PatientRelationshipType(Enum):
    FAMILY = "FAMILY"
    EMERGENCY_CONTACT = "EMERGENCY_CONTACT"
    NEXT_OF_KIN = "NEXT_OF_KIN"
    INSURER = "INSURER"
    PRACTITIONER = "PRACTITIONER"
    PAYER = "PAYER"
    REFERRING_CLINICIAN = "REFERRING_CLINICIAN"
    OTHER = "OTHER"
    GP = "GP"
    PARENT_GUARDIAN = "PARENT_GUARDIAN"
    SOCIAL_WORKER = "SOCIAL_WORKER"
    SPOUSE_PARTNER = "SPOUSE_PARTNER"
    PHARMACY = "PHARMACY"
    ANAESTHETIST = "ANAESTHETIST"
    SCHOOL = "SCHOOL"


class PatientINSStatus(Enum):
    QUALIFIED = "QUALIFIED"
    VALIDATED = "VALIDATED"
    RETRIEVED = "RETRIEVED"
    PROVISIONAL = "PROVISIONAL"


class PatientINSSIdentityAlertStatus(Enum):
    SUSPICIOUS = "SUSPICIOUS"
    FICTITIOUS = "FICTITIOUS"
    NONE = "NONE"


STATUS_ACTIVE = "active"
STATUS_ARCHIVED = "archived"
STATUS_DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Phone:
    phone_id: str | None
    phone_type: str | None
    phone_number: str | None


@dataclass(frozen=True, slots=True)
class Address:
    address: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class PatientNumber:
    id: str
    name: str | None
    value: str | None
    reference_id: str  # the practice's number type


@dataclass(frozen=True, slots=True)
class CustomAttribute:
    id: str | None
    title: str | None
    text: str | None
    response: str | None
    required: bool | None = False


@dataclass(frozen=True, slots=True)
class PrivacyPolicy:
    response: str | None


@dataclass(frozen=True, slots=True)
class CommunicationPreferences:
    receive_email: bool | None = None
    receive_sms: bool | None = None
    promotional_marketing: bool | None = None
    privacy_policy: PrivacyPolicy | None = None
    payment_reminders: bool | None = None


@dataclass(frozen=True, slots=True)
class PatientRelationshipContact:
    related_account_id: str | None = None
    source: str | None = None
    source_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    company_name: str | None = None
    phones: tuple[Phone, ...] = ()
    email: str | None = None
    address: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    notes: str | None = None
    name: str | None = None
    contact_info: str | None = None
    policy_number: str | None = None
    authorization_code: str | None = None


@dataclass(frozen=True, slots=True)
class PatientRelationship:
    relationship_id: str
    relationship_type: PatientRelationshipType
    relationship_label: str | None
    contact_details: PatientRelationshipContact
    deleted: bool | None = False


@dataclass(frozen=True, slots=True)
class PatientLabel:
    id: str
    reference_id: str  # the practice's label definition
    text: str | None
    color: str | None


@dataclass(frozen=True, slots=True)
class PatientAccessGroup:
    id: str  # the practice's access group (removePatientAccessGroup takes this id)
    name: str
    label: str


@dataclass(frozen=True, slots=True)
class PlaceOfBirth:
    name: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class SharingToken:
    token: str | None


@dataclass(frozen=True, slots=True)
class INS:
    number: str | None = None
    oid: str | None = None
    manual_identification: bool | None = None
    identity_alert_status: PatientINSSIdentityAlertStatus | None = None
    identity_alert_comment: str | None = None
    status: PatientINSStatus | None = None
    identity_document: str | None = None


@dataclass(frozen=True, slots=True)
class User:
    """A snapshot of the token's user, as Semble's ``User`` type shows it."""

    id: str
    first_name: str
    last_name: str
    email: str
    full_name: str
    title: str | None = None
    gender: str | None = None
    pronouns: str | None = None
    is_doctor: bool | None = None
    qualifications: str | None = None
    registration: str | None = None
    deleted: bool | None = False
    minimum_treatment_age: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PatientArchivedInfo:
    archived_at: datetime | None = None
    archived_by: User | None = None
    archived_reason: PatientArchiveReason | None = None
    archived_comments: str | None = None
    unarchived_at: datetime | None = None
    unarchived_by: User | None = None
    unarchived_reason: PatientUnarchiveReason | None = None


@dataclass(slots=True)
class Patient:
    id: str
    practice_id: str  # internal
    created_at: datetime
    updated_at: datetime
    first_name: str | None
    last_name: str | None
    full_name: str | None
    title: str | None = None
    status: str = STATUS_ACTIVE
    birth_surname: str | None = None
    birth_name: str | None = None
    birth_names: str | None = None
    dob: date | None = None
    place_of_birth: PlaceOfBirth | None = None
    social_security_number: str | None = None
    gender: str | None = None
    sex: str | None = None
    email: str | None = None
    google_client_id: str | None = None
    payment_reference: str | None = None
    phones: tuple[Phone, ...] = ()
    occupation: str | None = None
    address: Address = field(default_factory=Address)
    membership_name: str | None = None
    membership_start_date: str | None = None
    membership_start_date_formatted: date | None = None
    membership_id: str | None = None  # internal: the practice's membership held
    membership_comments: str | None = None  # internal: addPatientMembership's comments
    sharing_token: SharingToken | None = None
    numbers: tuple[PatientNumber, ...] = ()
    custom_attributes: tuple[CustomAttribute, ...] = ()
    communication_preferences: CommunicationPreferences = field(
        default_factory=CommunicationPreferences
    )
    related_accounts: tuple[PatientRelationship, ...] = ()
    labels: tuple[PatientLabel, ...] = ()
    access_groups: tuple[PatientAccessGroup, ...] = ()
    comments: str | None = None
    ins: INS | None = None
    on_hold: bool | None = False
    archived: bool | None = False
    archived_info: PatientArchivedInfo | None = None
    deleted: bool = False  # internal; ``status`` says "deleted" too
    seq: int = field(default=-1, repr=False, compare=False)  # internal: creation position
