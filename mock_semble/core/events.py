"""Semble's webhook event catalogue, read once from ``semble-events.tsv``, and the event record.

The TSV (a copy of ``shared/semble-events.tsv``, shipped as package data) is the only
place that lists event types, their identifier keys and their metadata; everything else
asks :data:`CATALOGUE`. Pure standard library: importing this module costs one small file
read, and it imports nothing from the rest of mock_semble.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, cast

__all__ = [
    "CATALOGUE",
    "DELIVERY_FAILED",
    "ENUM_NAMES",
    "EVENT_TYPES",
    "SUBSCRIPTION_UPDATED",
    "Event",
    "EventSpec",
    "MetadataField",
    "MetadataType",
    "UnknownEventType",
    "closest_event_type",
    "parse_event_type",
    "to_dotted",
    "to_enum_name",
]

CATALOGUE_FILE = Path(__file__).with_name("semble-events.tsv")
HEADER = ("event_type", "identifiers", "metadata", "source", "confidence")

MetadataType = Literal["boolean", "string", "number"]
Confidence = Literal["C", "I"]  # C = read on a Semble docs page, I = inferred

SUBSCRIPTION_UPDATED = "webhook.subscription.updated"
DELIVERY_FAILED = "webhook.event.deliveryFailed"
SYSTEM_GROUP = "webhook"

# The enum mode ("How To: Webhooks" guide) knows only these three (SPEC §1.1, §1.5).
ENUM_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "PATIENT_CREATED": "patient.created",
        "PATIENT_UPDATED": "patient.updated",
        "PATIENT_DELETED": "patient.deleted",
    }
)
_ENUM_BY_DOTTED: Mapping[str, str] = MappingProxyType({v: k for k, v in ENUM_NAMES.items()})

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_METADATA = re.compile(r"([A-Za-z][A-Za-z0-9]*)(\?)? \((boolean|string|number)\)")
_SHOWN_CHARS = 80  # bad input is echoed in messages, but never a whole 1 MiB body


@dataclass(frozen=True, slots=True)
class MetadataField:
    """One metadata key of an event type: ``httpStatusCode? (number)``."""

    key: str
    type: MetadataType
    optional: bool


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One catalogue row.

    ``identifier_keys`` lists every key the event may carry, in TSV order (the order
    deliveries use); ``required``, ``optional`` and ``alternatives`` split it: an
    alternative ``(a, b)`` means exactly one of the two keys (generated: ``a``).
    """

    type: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    alternatives: tuple[tuple[str, str], ...]
    identifier_keys: tuple[str, ...]
    metadata: tuple[MetadataField, ...]
    source: str
    confidence: Confidence
    group: str
    is_system: bool

    @property
    def has_metadata(self) -> bool:
        return bool(self.metadata)


class UnknownEventType(ValueError):
    """A text that is neither a catalogue type nor one of the three enum names.

    ``value`` is what was given; ``suggestion`` the closest dotted catalogue type.
    """

    def __init__(self, value: object, suggestion: str | None) -> None:
        self.value = value
        self.suggestion = suggestion
        if not isinstance(value, str):
            message = f"event type must be a string, not {type(value).__name__}"
        else:
            message = f"unknown event type: {_show(value)}"
            if suggestion is not None:
                message += f" (did you mean {suggestion!r}?)"
        super().__init__(message)


def _show(value: str) -> str:
    if len(value) > _SHOWN_CHARS:
        return repr(value[:_SHOWN_CHARS]) + "…"
    return repr(value)


def _parse_identifiers(
    cell: str, where: str
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    required: list[str] = []
    optional: list[str] = []
    alternatives: list[tuple[str, str]] = []
    order: list[str] = []
    for token in cell.split(","):
        if "|" in token:
            first, _, second = token.partition("|")
            if not (_KEY.fullmatch(first) and _KEY.fullmatch(second)):
                raise ValueError(f"{where}: bad alternative {token!r}")
            alternatives.append((first, second))
            order += [first, second]
        elif token.endswith("?") and _KEY.fullmatch(token[:-1]):
            optional.append(token[:-1])
            order.append(token[:-1])
        elif _KEY.fullmatch(token):
            required.append(token)
            order.append(token)
        else:
            raise ValueError(f"{where}: bad identifier {token!r}")
    if len(set(order)) != len(order):
        raise ValueError(f"{where}: repeated identifier key")
    return tuple(required), tuple(optional), tuple(alternatives), tuple(order)


def _parse_metadata(cell: str, where: str) -> tuple[MetadataField, ...]:
    fields: list[MetadataField] = []
    for token in cell.split(",") if cell else ():
        match = _METADATA.fullmatch(token)
        if match is None:
            raise ValueError(f"{where}: bad metadata {token!r}")
        key, mark, kind = match.groups()
        fields.append(MetadataField(key, cast(MetadataType, kind), optional=mark == "?"))
    if len({f.key for f in fields}) != len(fields):
        raise ValueError(f"{where}: repeated metadata key")
    return tuple(fields)


def parse_catalogue(text: str) -> dict[str, EventSpec]:
    """Parse the TSV text; a malformed file is a packaging bug, so it fails loudly."""
    rows = [line for line in text.splitlines() if line and not line.startswith("#")]
    if not rows or tuple(rows[0].split("\t")) != HEADER:
        raise ValueError(f"{CATALOGUE_FILE.name}: the header must be {HEADER}")
    specs: dict[str, EventSpec] = {}
    for number, line in enumerate(rows[1:], start=2):
        where = f"{CATALOGUE_FILE.name} row {number}"
        cells = line.split("\t")
        if len(cells) != len(HEADER):
            raise ValueError(f"{where}: expected {len(HEADER)} tab-separated columns")
        event_type, identifiers, metadata, source, confidence = cells
        segments = event_type.split(".")
        if len(segments) < 2 or not all(_KEY.fullmatch(s) for s in segments):
            raise ValueError(f"{where}: bad event type {event_type!r}")
        if event_type in specs:
            raise ValueError(f"{where}: {event_type} is listed twice")
        if confidence not in ("C", "I"):
            raise ValueError(f"{where}: confidence must be C or I")
        required, optional, alternatives, order = _parse_identifiers(identifiers, where)
        specs[event_type] = EventSpec(
            type=event_type,
            required=required,
            optional=optional,
            alternatives=alternatives,
            identifier_keys=order,
            metadata=_parse_metadata(metadata, where),
            source=source,
            confidence=cast(Confidence, confidence),
            group=segments[0],
            is_system=segments[0] == SYSTEM_GROUP,
        )
    return specs


CATALOGUE: Mapping[str, EventSpec] = MappingProxyType(
    parse_catalogue(CATALOGUE_FILE.read_text(encoding="utf-8"))
)
EVENT_TYPES: tuple[str, ...] = tuple(CATALOGUE)


def to_enum_name(dotted: str) -> str | None:
    """``patient.created`` -> ``PATIENT_CREATED``; None for types the enum mode cannot show."""
    return _ENUM_BY_DOTTED.get(dotted)


def to_dotted(text: str) -> str:
    """``PATIENT_CREATED`` -> ``patient.created``; any other text is returned unchanged.

    A conversion, not a check: use :func:`parse_event_type` for input.
    """
    return ENUM_NAMES.get(text, text)


def parse_event_type(text: object) -> str:
    """The dotted catalogue type for ``text``: a dotted type or an enum name, both exact."""
    if isinstance(text, str):
        dotted = ENUM_NAMES.get(text, text)
        if dotted in CATALOGUE:
            return dotted
        raise UnknownEventType(text, closest_event_type(text))
    raise UnknownEventType(text, None)


def closest_event_type(text: str) -> str:
    """The catalogue type nearest to ``text``, ignoring case and ``_`` versus ``.``."""
    import difflib  # only bad input pays for it

    wanted = text[:_SHOWN_CHARS].lower().replace("_", ".")
    lowered = {t.lower(): t for t in EVENT_TYPES}
    # cutoff 0: always name something; the nearest catalogue entry is the best hint there is
    best = difflib.get_close_matches(wanted, list(lowered), n=1, cutoff=0.0)
    return lowered[best[0]] if best else EVENT_TYPES[0]


@dataclass(frozen=True, slots=True)
class Event:
    """An event a domain publishes; the delivery engine fans it out to subscriptions.

    ``event_type`` is dotted and must be in the catalogue (checked here, so a domain that
    publishes ``PATIENT_CREATED`` fails at once). ``identifiers`` and ``metadata`` are
    copied into read-only mappings. ``subscription_id`` limits delivery to one subscription.
    """

    practice_id: str
    event_type: str
    identifiers: Mapping[str, str]
    metadata: Mapping[str, object] | None = None
    subscription_id: str | None = None
    spec: EventSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spec = CATALOGUE.get(self.event_type)
        if spec is None:
            raise ValueError(f"Event needs a dotted catalogue type, got {self.event_type!r}")
        object.__setattr__(self, "spec", spec)
        object.__setattr__(self, "identifiers", MappingProxyType(dict(self.identifiers)))
        if self.metadata is not None:
            object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
