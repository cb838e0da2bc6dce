"""The patient rules of SPEC §3 as pure functions, and the errors they raise.

Each ``check_*`` returns the cleaned value or raises :class:`RuleError` carrying the
stable message, HTTP-like status and machine code of the payload error. Pagination
bounds are not payload errors (``PatientData`` has no ``error`` field): they raise
:class:`PaginationError`, which the GraphQL layer turns into ``BAD_USER_INPUT``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from ..core.errors import RuleError
from ..core.text import is_blank as is_js_blank
from .models import PatientRelationshipType

MSG_PATIENT_NOT_FOUND = "Patient not found"
MSG_MIXED_ARGUMENTS = "patientData cannot be combined with other arguments"
MSG_NAMES_REQUIRED = "first and last names are required"
MSG_INVALID_EMAIL = "invalid email"
MSG_INVALID_SSN = "socialSecurityNumber must be 15 characters of digits, A or B"
MSG_ALREADY_ARCHIVED = "Patient is already archived"
MSG_NOT_ARCHIVED = "Patient is not archived"
MSG_MEMBERSHIP_START = "membershipStartDate must be a date (YYYY-MM-DD or ISO-8601)"
MSG_CONTACT_MIXED = (
    "firstName, lastName, title and companyName cannot be combined with relatedAccountId"
)
MSG_PAGE = "page must be at least 1"
MSG_PAGE_SIZE = "pageSize must be between 1 and 100"

DEFAULT_PAGE = 1
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_EMAIL = 254  # RFC 5321's limit on a forward path
MAX_ECHOED_ID = 64  # an id echoed in a message is cut here: a client may send anything

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")  # fullmatch only
_SSN = re.compile(r"[0-9AB]{15}")  # fullmatch only
_NOT_ALNUM = re.compile(r"[\W_]+")

# How Semble's UI names a relationship type; OTHER shows the caller's own label.
RELATIONSHIP_LABELS = {
    PatientRelationshipType.FAMILY: "Family",
    PatientRelationshipType.EMERGENCY_CONTACT: "Emergency contact",
    PatientRelationshipType.NEXT_OF_KIN: "Next of kin",
    PatientRelationshipType.INSURER: "Insurer",
    PatientRelationshipType.PRACTITIONER: "Practitioner",
    PatientRelationshipType.PAYER: "Payer",
    PatientRelationshipType.REFERRING_CLINICIAN: "Referring clinician",
    PatientRelationshipType.OTHER: "Other",
    PatientRelationshipType.GP: "GP",
    PatientRelationshipType.PARENT_GUARDIAN: "Parent/guardian",
    PatientRelationshipType.SOCIAL_WORKER: "Social worker",
    PatientRelationshipType.SPOUSE_PARTNER: "Spouse/partner",
    PatientRelationshipType.PHARMACY: "Pharmacy",
    PatientRelationshipType.ANAESTHETIST: "Anaesthetist",
    PatientRelationshipType.SCHOOL: "School",
}


class PaginationError(ValueError):
    """``page`` or ``pageSize`` out of bounds: a ``BAD_USER_INPUT`` error, not a payload."""


# -- error constructors (SPEC §3's table) --------------------------------------------------


def patient_not_found() -> RuleError:
    return RuleError(MSG_PATIENT_NOT_FOUND, "NOT_FOUND", 404)


def record_not_found(thing: str) -> RuleError:
    """A sub-record unknown on that patient: ``thing`` is e.g. ``"Phone"``."""
    return RuleError(f"{thing} not found", "NOT_FOUND", 404)


def unknown_reference(thing: str, reference_id: str) -> RuleError:
    """A reference unknown in the practice: ``thing`` is e.g. ``"label definition"``."""
    shown = reference_id
    if len(shown) > MAX_ECHOED_ID:
        shown = shown[:MAX_ECHOED_ID] + "…"
    return RuleError(f"Unknown {thing}: {shown}", "INVALID_REFERENCE")


def mixed_arguments() -> RuleError:
    return RuleError(MSG_MIXED_ARGUMENTS, "INVALID_ARGUMENTS")


def names_required() -> RuleError:
    return RuleError(MSG_NAMES_REQUIRED, "INVALID_PATIENT")


def invalid_email() -> RuleError:
    return RuleError(MSG_INVALID_EMAIL, "INVALID_PATIENT")


def invalid_ssn() -> RuleError:
    return RuleError(MSG_INVALID_SSN, "INVALID_PATIENT")


def already_archived() -> RuleError:
    return RuleError(MSG_ALREADY_ARCHIVED, "INVALID_STATE", 409)


def not_archived() -> RuleError:
    return RuleError(MSG_NOT_ARCHIVED, "INVALID_STATE", 409)


# -- validators ----------------------------------------------------------------------------


def is_blank(text: str | None) -> bool:
    """Missing, or blank as JavaScript's ``trim()`` sees it (Semble's backend)."""
    return text is None or is_js_blank(text)


def check_name(name: str | None) -> str:
    """A first or last name: given and not only white space (kept as given)."""
    if name is None or is_blank(name):
        raise names_required()
    return name


def check_email(email: str | None) -> str | None:
    """``local@domain.tld`` without white space, at most 254 characters; ``""`` means none."""
    if email is None or email == "":
        return None
    if len(email) > MAX_EMAIL or _EMAIL.fullmatch(email) is None:
        raise invalid_email()
    return email


def check_ssn(ssn: str | None) -> str | None:
    """Exactly 15 characters of ``0-9``, ``A`` or ``B``; ``""`` means none."""
    if ssn is None or ssn == "":
        return None
    if _SSN.fullmatch(ssn) is None:
        raise invalid_ssn()
    return ssn


def check_pagination(page: int | None, page_size: int | None) -> tuple[int, int]:
    """``page`` ≥ 1 (default 1) and ``pageSize`` 1 to 100 (default 20)."""
    page = DEFAULT_PAGE if page is None else page
    page_size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    if page < 1:
        raise PaginationError(MSG_PAGE)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise PaginationError(MSG_PAGE_SIZE)
    return page, page_size


# -- derived values ------------------------------------------------------------------------


def full_name(title: str | None, first: str | None, last: str | None) -> str:
    """Title, first and last name joined by single spaces, empty parts left out."""
    return " ".join(part for part in (title, first, last) if part)


def utc_date(value: date) -> date:
    """The UTC calendar date of a ``Date`` input (a date-time keeps its UTC date)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).date()
    return value


def range_start(value: date | None) -> datetime | None:
    """A ``DateRange.start``: a plain date means 00:00:00.000Z of that day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, UTC)


def range_end(value: date | None) -> datetime | None:
    """A ``DateRange.end``: a plain date means the last millisecond of that day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(23, 59, 59, 999000), UTC)


def phone_key(text: str) -> str:
    """A phone number or search text with spaces and punctuation removed, lower-cased."""
    return _NOT_ALNUM.sub("", text).casefold()


def relationship_label(kind: PatientRelationshipType, given: str | None) -> str:
    """OTHER shows the caller's label (``Other`` when none); other types a generated one."""
    if kind is PatientRelationshipType.OTHER and not is_blank(given):
        assert given is not None
        return given
    return RELATIONSHIP_LABELS[kind]
