"""The reference model of the stateful machine: callers, subscriptions, patients and the
rules of SPEC §1.4 and §3, written out independently of the implementation.

Every message, code and status here is copied from SPEC; nothing is imported from
``mock_semble`` but the permission names used to configure tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# -- messages and codes (SPEC §1.3, §1.4, §1.5, §3) ---------------------------------------

MSG_DISABLED = "Webhooks are not enabled for this practice."
MSG_URL = "url must be a valid HTTPS URL"
MSG_EVENT_COUNT = "eventTypes must contain between 1 and 10 event types"
MSG_EVENT_REPEATS = "eventTypes must not contain duplicates"
MSG_LABEL = "label must be between 1 and 256 characters"
MSG_CONFLICT = "A webhook subscription with this url and an overlapping event type already exists"
MSG_WEBHOOK_NOT_FOUND = "Webhook not found"
MSG_PATIENT_NOT_FOUND = "Patient not found"
MSG_NAMES = "first and last names are required"
MSG_EMAIL = "invalid email"
MSG_ARCHIVED = "Patient is already archived"
MSG_NOT_ARCHIVED = "Patient is not archived"

# message -> (HTTP-like status, code) of extensions.payloadErrors
PAYLOAD_ERRORS: dict[str, tuple[int, str]] = {
    MSG_URL: (400, "INVALID_URL"),
    MSG_EVENT_COUNT: (400, "INVALID_EVENT_TYPES"),
    MSG_EVENT_REPEATS: (400, "INVALID_EVENT_TYPES"),
    MSG_LABEL: (400, "INVALID_LABEL"),
    MSG_CONFLICT: (409, "CONFLICT"),
    MSG_WEBHOOK_NOT_FOUND: (404, "NOT_FOUND"),
    MSG_PATIENT_NOT_FOUND: (404, "NOT_FOUND"),
    MSG_NAMES: (400, "INVALID_PATIENT"),
    MSG_EMAIL: (400, "INVALID_PATIENT"),
    MSG_ARCHIVED: (409, "INVALID_STATE"),
    MSG_NOT_ARCHIVED: (409, "INVALID_STATE"),
}


def payload_error(message: str) -> tuple[int, str]:
    """Status and code of a payload error; header and event-type messages by prefix."""
    if message.startswith("invalid header: "):
        return 400, "INVALID_HEADERS"
    if message.startswith("invalid event type: "):
        return 400, "INVALID_EVENT_TYPES"
    return PAYLOAD_ERRORS[message]


# -- API versions (SPEC §1.5): the model keeps dotted types ---------------------------------

ENUM_NAMES = {
    "patient.created": "PATIENT_CREATED",
    "patient.updated": "PATIENT_UPDATED",
    "patient.deleted": "PATIENT_DELETED",
}
PATIENT_EVENTS = (
    "patient.created",
    "patient.updated",
    "patient.deleted",
    "patient.archived",
    "patient.unarchived",
)
SUBSCRIPTION_UPDATED = "webhook.subscription.updated"


def wire_event(mode: str, dotted: str) -> str:
    """An event type as the API version ``mode`` writes it."""
    return ENUM_NAMES.get(dotted, dotted) if mode == "enum" else dotted


def subscribable(mode: str) -> tuple[str, ...]:
    """The event types a subscription may list in ``mode`` (the ones this model uses)."""
    if mode == "enum":
        return tuple(ENUM_NAMES)
    return (*PATIENT_EVENTS, SUBSCRIPTION_UPDATED)


# -- callers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    token: str
    practice: str
    permissions: frozenset[str]  # permission names, as SPEC §1.2 and §3 spell them
    webhooks_enabled: bool = True

    def refusal(self, permission: str) -> str | None:
        """The FORBIDDEN message for ``permission``: the permission first, then (webhook
        permissions only) the practice's webhooks switch."""
        if permission not in self.permissions:
            return f"Missing permission: {permission}"
        if permission.endswith("Webhooks") and not self.webhooks_enabled:
            return MSG_DISABLED
        return None


# -- webhooks --------------------------------------------------------------------------------

# url -> the duplicate rule's key (SPEC §1.4), or None when the URL is refused
URLS: dict[str, str | None] = {
    "https://hooks.example.com/h": "https://hooks.example.com/h",
    "HTTPS://Hooks.Example.COM:443/h": "https://hooks.example.com/h",
    "https://hooks.example.com/H": "https://hooks.example.com/H",
    "https://hooks.example.com/h?x=1": "https://hooks.example.com/h?x=1",
    "https://hooks.example.com:8443/h": "https://hooks.example.com:8443/h",
    "https://other.example.com/h": "https://other.example.com/h",
    "http://hooks.example.com/h": None,
    "https://user@hooks.example.com/h": None,
}
VALID_URLS = [url for url, key in URLS.items() if key is not None]


def url_key(url: str) -> str | None:
    """The key of one of :data:`URLS`; other URLs the machine uses are keys already."""
    return URLS.get(url, url)


# label -> valid? (UTF-16 code units: "ü" is 1 unit, the emoji 2)
LABELS = {"hook": True, "ü" * 256: True, "\U0001f600" * 128: True, "\U0001f600" * 129: False}
LABELS.update({" \t": False, "x" * 257: False})
# one-header lists: key -> expected error
HEADERS: dict[str, str | None] = {
    "X-Env": None,
    "x-Env-2": None,
    "Host": "invalid header: key 'Host' is reserved",
    "Bad Key": "invalid header: key 'Bad Key' is not a valid HTTP header name",
}


UNKNOWN_EVENT = "patient.exploded"  # strings mode: not in Semble's catalogue


def events_error(events: list[str]) -> str | None:
    """The eventTypes rule for ``events`` (dotted): the count, then unknown values (strings
    mode), then repeats."""
    if not 1 <= len(events) <= 10:
        return MSG_EVENT_COUNT
    if UNKNOWN_EVENT in events:
        return f"invalid event type: {UNKNOWN_EVENT}"
    if len(set(events)) != len(events):
        return MSG_EVENT_REPEATS
    return None


@dataclass
class Sub:
    id: str
    practice: str
    url: str
    events: list[str]  # dotted
    label: str
    headers: list[dict[str, str]] | None
    secret: str
    updated_at: str
    deleted: bool = False
    paused: bool = False

    @property
    def key(self) -> str:
        key = url_key(self.url)
        assert key is not None
        return key

    def listens(self, event: str) -> bool:
        return not self.deleted and event in self.events

    def as_listed(self, mode: str) -> dict[str, Any]:
        """The subscription as list/get answer it (secret null; times left out)."""
        return {
            "id": self.id,
            "secret": None,
            "url": self.url,
            "label": self.label,
            "eventTypes": [wire_event(mode, e) for e in self.events],
            "headers": self.headers,
            "version": "1",
            "deleted": self.deleted,
            "deliveryPaused": self.paused,
        }

    def looks(self) -> tuple[Any, ...]:
        """What an update can change (an update that changes none of it fires nothing)."""
        return (self.url, self.events, self.label, self.headers, self.paused)


def without_times(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("createdAt", "updatedAt")}


# -- patients --------------------------------------------------------------------------------

FIRST_NAMES = {"Ada": True, "Grace": True, "  ": False}
EMAILS = {"ada@example.com": True, "g.hopper@example.org": True, "not-an-email": False}
TITLES = ["Dr", "Ms"]
ARCHIVE_REASONS = ["INACTIVE_PATIENT", "DECEASED_PATIENT", "OTHER"]
UNARCHIVE_REASONS = ["ACTIVE_PATIENT", "OTHER"]


@dataclass
class Patient:
    id: str
    practice: str
    first: str
    last: str
    email: str | None
    title: str | None
    updated_at: str
    archived: bool = False
    deleted: bool = False
    archived_info: dict[str, Any] | None = field(default=None)

    @property
    def status(self) -> str:
        if self.deleted:
            return "deleted"
        return "archived" if self.archived else "active"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.title, self.first, self.last) if part)

    def as_seen(self) -> dict[str, Any]:
        """The fields the machine compares in answers and in the state document."""
        return {
            "id": self.id,
            "firstName": self.first,
            "lastName": self.last,
            "fullName": self.full_name,
            "email": self.email,
            "title": self.title,
            "status": self.status,
            "archived": self.archived,
        }


def seen(record: dict[str, Any]) -> dict[str, Any]:
    """The fields :meth:`Patient.as_seen` compares, from an answer or a state record."""
    keys = ("id", "firstName", "lastName", "fullName", "email", "title", "status", "archived")
    return {key: record[key] for key in keys}


def names_error(first: str | None, last: str | None) -> str | None:
    """createPatient's names rule (SPEC §3): both given and not blank."""
    for name in (first, last):
        if name is None or not name.strip():
            return MSG_NAMES
    return None
