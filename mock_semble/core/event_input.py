"""Identifiers and metadata for one event, from what a caller gave plus generated samples.

SPEC §2.5: required identifier keys the caller leaves out are generated, optional ones
are omitted (never null), unknown keys are refused, values are bounded. Everything is
checked before anything is generated, so refused input draws no ids and a ``--seed`` run
stays reproducible. Pure standard library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType

from .events import EventSpec, MetadataType

__all__ = [
    "MAX_KEYS",
    "MAX_VALUE_CHARS",
    "METADATA_SAMPLES",
    "REPORT_TYPES",
    "EventInputError",
    "build_identifiers",
    "build_metadata",
    "format_event_time",
    "is_id_key",
]

MAX_KEYS = 20
MAX_VALUE_CHARS = 256
REPORT_TYPES = ("InitialReport", "RFATReport", "DischargeReport")  # sample: the first
METADATA_SAMPLES: Mapping[str, object] = MappingProxyType(
    {"deliveryPaused": False, "failedEventType": "patient.created"}
)
# A metadata key the TSV adds later without a sample above gets its type's sample.
_TYPE_SAMPLES: Mapping[MetadataType, object] = MappingProxyType(
    {"boolean": False, "string": "", "number": 0}
)
_JSON_SAFE_INT = 2**53 - 1  # beyond this JavaScript receivers lose precision

_ID = re.compile(r"[0-9a-f]{24}")  # fullmatch: "$" would admit a trailing newline
_SHOWN_CHARS = 40


class EventInputError(ValueError):
    """Identifiers or metadata a caller gave that the event type does not allow.

    ``key`` names the offending key when there is one.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def is_id_key(key: str) -> bool:
    """Keys whose values are 24-hex ids: ``…Id`` and ``submittedBy`` (a user id)."""
    return key.endswith("Id") or key == "submittedBy"


def format_event_time(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds: ``2026-11-28T15:02:26.123Z`` (naive means UTC)."""
    m = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    # not strftime: its %Y does not zero-pad years before 1000
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def _given(given: Mapping[str, object] | None, what: str) -> dict[str, object]:
    """The given entries without null values (null means absent: omitted, never sent)."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise EventInputError(f"{what} must be an object, not {type(given).__name__}")
    if len(given) > MAX_KEYS:
        raise EventInputError(f"too many {what}: {len(given)} keys (at most {MAX_KEYS})")
    for key in given:
        if not isinstance(key, str):
            raise EventInputError(f"{what} keys must be strings, got {_show(key)}")
    return {k: v for k, v in given.items() if v is not None}


def _check_identifier(key: str, value: object, practice_id: str) -> str:
    if not isinstance(value, str):
        raise EventInputError(
            f"identifier {key!r} must be a string, not {type(value).__name__}", key
        )
    if len(value) > MAX_VALUE_CHARS:
        raise EventInputError(
            f"identifier {key!r} is longer than {MAX_VALUE_CHARS} characters", key
        )
    if is_id_key(key) and _ID.fullmatch(value) is None:
        raise EventInputError(
            f"identifier {key!r} must be a 24-hex id (24 lower-case hex digits), "
            f"got {_show(value)}",
            key,
        )
    if key == "practiceId" and value != practice_id:
        raise EventInputError(
            f"identifier 'practiceId' must be the event's practice {practice_id!r}, "
            f"got {_show(value)}",
            key,
        )
    if key == "reportType" and value not in REPORT_TYPES:
        raise EventInputError(
            f"identifier 'reportType' must be one of {', '.join(REPORT_TYPES)}, got {_show(value)}",
            key,
        )
    if key == "submittedAt":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise EventInputError(
                f"identifier 'submittedAt' must be an ISO-8601 date-time, got {_show(value)}",
                key,
            ) from None
    return value


def build_identifiers(
    spec: EventSpec,
    given: Mapping[str, object] | None,
    *,
    practice_id: str,
    now: datetime,
    new_id: Callable[[], str],
) -> dict[str, str]:
    """The event's identifiers in TSV key order: the given ones, checked, plus generated ones.

    Generated (required keys only, drawn in TSV order): ``…Id`` and ``submittedBy`` ->
    ``new_id()``; ``practiceId`` -> ``practice_id``; ``submittedAt`` -> ``now``;
    ``reportType`` -> ``InitialReport``. Of an alternative ``a|b`` at most one may be given;
    with neither, ``a`` is generated. Raises :class:`EventInputError`.
    """
    values = _given(given, "identifiers")
    allowed = set(spec.identifier_keys)
    checked: dict[str, str] = {}
    for key, value in values.items():
        if key not in allowed:
            raise EventInputError(
                f"unknown identifier {_show(key)} for {spec.type} "
                f"(allowed: {', '.join(spec.identifier_keys)})",
                key,
            )
        checked[key] = _check_identifier(key, value, practice_id)
    for first, second in spec.alternatives:
        if first in checked and second in checked:
            raise EventInputError(
                f"identifiers {first!r} and {second!r} exclude each other: give one", second
            )

    chosen_alternatives = {
        second if second in checked else first for first, second in spec.alternatives
    }
    to_generate = set(spec.required) | chosen_alternatives
    result: dict[str, str] = {}
    for key in spec.identifier_keys:  # TSV order: output order and the order ids are drawn
        if key in checked:
            result[key] = checked[key]
        elif key in to_generate:
            result[key] = _sample_identifier(key, practice_id, now, new_id)
    return result


def _sample_identifier(key: str, practice_id: str, now: datetime, new_id: Callable[[], str]) -> str:
    if key == "practiceId":
        return practice_id
    if key == "submittedAt":
        return format_event_time(now)
    if key == "reportType":
        return REPORT_TYPES[0]
    if is_id_key(key):
        return new_id()
    raise AssertionError(f"no sample value for identifier {key!r}; add one here")


def _check_metadata(key: str, kind: MetadataType, value: object) -> None:
    if kind == "boolean" and isinstance(value, bool):
        return
    if kind == "string" and isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            raise EventInputError(
                f"metadata {key!r} is longer than {MAX_VALUE_CHARS} characters", key
            )
        return
    # number: Semble sends integers (an HTTP status); a bool is an int to Python, not here
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > _JSON_SAFE_INT:
            raise EventInputError(f"metadata {key!r} is out of range", key)
        return
    article = "an integer" if kind == "number" else f"a {kind}"
    raise EventInputError(f"metadata {key!r} must be {article}, not {type(value).__name__}", key)


def build_metadata(spec: EventSpec, given: Mapping[str, object] | None) -> dict[str, object] | None:
    """The event's metadata in TSV key order, or None for types without metadata.

    Missing required keys get samples (``deliveryPaused: False``, ``failedEventType:
    "patient.created"``); optional ones (``httpStatusCode``) are omitted unless given.
    Raises :class:`EventInputError`.
    """
    values = _given(given, "metadata")
    if not spec.metadata:
        if values:
            raise EventInputError(f"{spec.type} has no metadata")
        return None
    kinds = {f.key: f.type for f in spec.metadata}
    for key, value in values.items():
        if key not in kinds:
            raise EventInputError(
                f"unknown metadata key {_show(key)} for {spec.type} (allowed: {', '.join(kinds)})",
                key,
            )
        _check_metadata(key, kinds[key], value)
    result: dict[str, object] = {}
    for meta in spec.metadata:
        if meta.key in values:
            result[meta.key] = values[meta.key]
        elif not meta.optional:
            result[meta.key] = METADATA_SAMPLES.get(meta.key, _TYPE_SAMPLES[meta.type])
    return result
