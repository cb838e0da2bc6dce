"""The mock's records: practices, tokens, webhook subscriptions, and their vocabularies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

Header = tuple[str, str]


class EventType(StrEnum):
    """Semble's webhook event types (enum names as in the schema)."""

    PATIENT_CREATED = "PATIENT_CREATED"
    PATIENT_UPDATED = "PATIENT_UPDATED"
    PATIENT_DELETED = "PATIENT_DELETED"

    @property
    def dotted(self) -> str:
        """The wire form in delivery bodies: ``PATIENT_CREATED`` -> ``patient.created``."""
        return self.value.lower().replace("_", ".", 1)

    @classmethod
    def parse(cls, text: object) -> EventType:
        """Accept either form (``PATIENT_CREATED`` or ``patient.created``)."""
        if isinstance(text, str):
            name = text.strip().upper().replace(".", "_")
            if name in cls.__members__:
                return cls[name]
        raise ValueError(f"unknown event type: {text!r}")


class Permission(StrEnum):
    """Token permissions, named as Semble names them."""

    SEE_WEBHOOKS = "seeWebhooks"
    CREATE_WEBHOOKS = "createWebhooks"
    EDIT_WEBHOOKS = "editWebhooks"
    DELETE_WEBHOOKS = "deleteWebhooks"


ALL_PERMISSIONS = frozenset(Permission)
PAYLOAD_VERSION = "1"

DEFAULT_PRACTICE_ID = "000000000000000000000001"
DEFAULT_PRACTICE_NAME = "Mock Practice"
DEFAULT_TOKEN = "test-token"


@dataclass(slots=True)
class Practice:
    id: str
    name: str
    webhooks_enabled: bool = True
    configured: bool = False  # configured ones survive a reset; runtime ones do not


@dataclass(slots=True)
class Token:
    token: str
    practice_id: str
    permissions: frozenset[Permission]
    configured: bool = False


@dataclass(slots=True)
class Subscription:
    id: str
    practice_id: str
    secret: str
    url: str
    label: str
    event_types: tuple[EventType, ...]
    headers: tuple[Header, ...] | None
    created_at: datetime
    updated_at: datetime
    version: str = PAYLOAD_VERSION
    deleted: bool = False
    delivery_paused: bool = False
    url_key: str = field(default="", repr=False)  # normalised URL, for the conflict index
