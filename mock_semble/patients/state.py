"""The patient section of state documents: ``patients`` (SPEC §3, §4), version 2.

A patient is exported as its GraphQL field names (``receiveSMS`` included) plus what
only the mock keeps: ``practiceId``, ``deleted``, ``membershipId`` and
``membershipComments``. The mapping is derived from the model dataclasses, so export
and import cannot drift apart, and every key is required (a typo must not silently
drop a field). Imports also apply the contract's own rules (names, email, social
security number) and the status invariants; label, number, membership and access
group entries are kept as given (a snapshot, like the records the API wrote).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, Union, get_args, get_origin, get_type_hints

from ..core import statedoc as doc
from ..core.clock import format_date, format_datetime
from ..core.settings import Settings
from . import models, rules
from .models import STATUS_ACTIVE, STATUS_ARCHIVED, STATUS_DELETED, Patient
from .store import PatientStore

SKIPPED = frozenset({"seq"})  # creation position: the document's order gives it back
KEY_NAMES = {"receive_sms": "receiveSMS"}  # where GraphQL's name is not plain camelCase


def json_key(name: str) -> str:
    if name in KEY_NAMES:
        return KEY_NAMES[name]
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_json(value: Any) -> Any:
    """A model record (or any value inside one) as JSON."""
    if type(value) in _PLAIN:  # most values: checked first, exports are large (SPEC §7)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {key: to_json(getattr(value, name)) for name, key in _exported(type(value))}
    if isinstance(value, tuple):
        return [to_json(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    return value


@cache
def _exported(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, JSON key) of a model dataclass's exported fields, in declaration order."""
    return tuple(
        (f.name, json_key(f.name)) for f in dataclasses.fields(cls) if f.name not in SKIPPED
    )


@cache
def _fields(cls: type) -> tuple[tuple[str, str, Any], ...]:
    """(attribute, JSON key, type) of a model dataclass, in declaration order."""
    hints = get_type_hints(cls, vars(models))
    return tuple(
        (f.name, json_key(f.name), hints[f.name])
        for f in dataclasses.fields(cls)
        if f.name not in SKIPPED
    )


def from_json(kind: Any, value: Any, where: str, *, nullable: bool = False) -> Any:
    """``value`` checked and converted to ``kind`` (a model type hint); StateError if not."""
    origin = get_origin(kind)
    if origin is Union or origin is types.UnionType:
        options = [k for k in get_args(kind) if k is not type(None)]
        if value is None:
            return None
        (kind,) = options
        return from_json(kind, value, where, nullable=True)
    if isinstance(kind, type) and issubclass(kind, Enum):
        if not isinstance(value, str) or value not in kind.__members__:
            raise doc.fail(where, f"must be one of: {', '.join(kind.__members__)}")
        return kind[value]
    if kind in (str, bool, int):
        what = {str: "a string", bool: "a boolean", int: "an integer"}[kind]
        return doc.typed(value, kind, where, what + (" or null" if nullable else ""))
    if origin is tuple:
        item_kind = get_args(kind)[0]
        items = doc.array(value, where)
        return tuple(from_json(item_kind, item, f"{where}[{n}]") for n, item in enumerate(items))
    if dataclasses.is_dataclass(kind):
        fields = _fields(kind)  # type: ignore[arg-type]
        data = doc.exact_object(value, where, tuple(key for _, key, _ in fields))
        values = {name: from_json(hint, data[key], f"{where}.{key}") for name, key, hint in fields}
        return kind(**values)  # type: ignore[operator]
    if kind is datetime:
        return doc.timestamp(value, where)
    if kind is date:
        return _date(value, where)
    raise TypeError(f"no JSON form for {kind!r}")  # a model change this module missed


def _date(value: Any, where: str) -> date:
    raw = doc.typed(value, str, where, "a date string")
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise doc.fail(where, "must be a date, YYYY-MM-DD") from None


def _check(patient: Patient, where: str) -> None:
    """The contract's rules and the status invariants a stored patient keeps."""
    doc.object_id(patient.id, f"{where}.id")
    doc.object_id(patient.practice_id, f"{where}.practiceId")
    doc.rule(lambda: rules.check_name(patient.first_name), f"{where}.firstName")
    doc.rule(lambda: rules.check_name(patient.last_name), f"{where}.lastName")
    doc.rule(lambda: rules.check_email(patient.email), f"{where}.email")
    doc.rule(
        lambda: rules.check_ssn(patient.social_security_number), f"{where}.socialSecurityNumber"
    )
    if patient.deleted:
        expected = STATUS_DELETED
    else:
        expected = STATUS_ARCHIVED if patient.archived else STATUS_ACTIVE
    if patient.status != expected:
        raise doc.fail(
            f"{where}.status",
            f'must be "{expected}" (it follows deleted and archived)',
        )


class PatientSection:
    """``patients``: the patients domain's part of a state document."""

    key = "patients"

    def records(self, store: PatientStore) -> list[Patient]:
        with store.lock:
            return [
                patient
                for practice_id in store.practice_ids()
                for patient in store.practice_patients(practice_id)
            ]

    def record_json(self, record: Patient) -> dict[str, Any]:
        document: dict[str, Any] = to_json(record)
        return document

    def parse(
        self, items: list[Any], practice_ids: set[str], settings: Settings, version: int
    ) -> tuple[Patient, ...]:
        seen: set[str] = set()
        result = []
        for n, item in enumerate(doc.array(items, self.key)):
            where = f"{self.key}[{n}]"
            patient: Patient = from_json(Patient, item, where)
            _check(patient, where)
            if patient.id in seen:
                raise doc.fail(f"{where}.id", f"duplicate patient id {patient.id}")
            seen.add(patient.id)
            if patient.practice_id not in practice_ids:
                raise doc.fail(f"{where}.practiceId", f"unknown practice {patient.practice_id}")
            result.append(patient)
        return tuple(result)

    def load(
        self, store: PatientStore, records: Sequence[Patient], practice_id: str | None = None
    ) -> None:
        for record in records:
            if practice_id is None or record.practice_id == practice_id:
                # a copy: the store changes patients in place, the parsed records (the
                # start-up state a reset returns to) must not change (sub-records are frozen)
                store.insert_loaded(dataclasses.replace(record))
