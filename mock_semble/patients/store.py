"""The in-memory patient store, with per-practice indexes (SPEC §3, §8).

Indexes keep get/create/update independent of how many patients exist, and keep a
``patients`` page cheap at 10^4 to 10^5 patients:

- ``_patients``: id -> patient (every practice, deleted included): O(1) lookups;
- per practice, ``order`` (every patient, creation order) and ``active`` (the
  non-deleted ones, creation order, with their positions in ``active_seq`` for a
  bisect on delete): an unfiltered page is a slice;
- ``created_sorted``: whether ``createdAt`` never decreases along creation order (it can,
  when the clock is moved back): then a ``createdAt`` range is two bisects;
- ``_haystacks``: id -> the case-folded search text and the normalised phone numbers,
  rebuilt when a patient changes, so a search is one substring test per patient.

Every method runs under the runtime's lock (shared by all stores), so each mutation is
atomic. The operations module validates before it calls a changing method.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from operator import attrgetter
from typing import Any

from ..core.clock import format_date
from ..core.ids import IdFactory
from .models import STATUS_DELETED, Patient
from .rules import phone_key

_created_at = attrgetter("created_at")
FIELD_SEPARATOR = "\x00"  # joins search fields; a search holding it matches no field


@dataclass(frozen=True, slots=True)
class PatientQuery:
    """What ``patients`` asks for; ranges are inclusive, ``None`` ends are open."""

    page: int = 1
    page_size: int = 20
    search: str | None = None
    include_deleted: bool = False
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    patients: list[Patient]
    page: int
    page_size: int
    has_more: bool


@dataclass(slots=True)
class _PracticePatients:
    order: list[Patient] = field(default_factory=list)
    active: list[Patient] = field(default_factory=list)
    active_seq: list[int] = field(default_factory=list)
    created_sorted: bool = True


class PatientStore:
    """Every practice's patients."""

    def __init__(self, ids: IdFactory, lock: threading.RLock) -> None:
        self.lock = lock
        self.ids = ids
        self._patients: dict[str, Patient] = {}
        self._practices: dict[str, _PracticePatients] = {}
        self._haystacks: dict[str, tuple[str, str]] = {}
        self._garbage: list[object] = []
        self.changes = 0  # bumped by every change: a long export notices one made meanwhile

    # -- lookups ---------------------------------------------------------------------

    def get(self, practice_id: str, patient_id: str) -> Patient | None:
        """The practice's patient, unless deleted; a foreign one is missing."""
        patient = self._patients.get(patient_id)
        if patient is None or patient.practice_id != practice_id or patient.deleted:
            return None
        return patient

    def find(self, patient_id: str) -> Patient | None:
        """Any practice's patient, deleted too: for the control plane and test tooling."""
        return self._patients.get(patient_id)

    def practice_patients(self, practice_id: str) -> list[Patient]:
        """The practice's patients in creation order, deleted included (for export)."""
        bucket = self._practices.get(practice_id)
        return [] if bucket is None else list(bucket.order)

    def practice_ids(self) -> list[str]:
        return list(self._practices)

    def new_id(self) -> str:
        """A fresh 24-hex id for a patient or one of its records."""
        new_id = self.ids.new_id()
        while new_id in self._patients:
            new_id = self.ids.new_id()
        return new_id

    # -- changes ---------------------------------------------------------------------

    def add(self, patient: Patient) -> Patient:
        """Store a new patient (built by the caller with an id from :meth:`new_id`)."""
        with self.lock:
            if patient.id in self._patients:
                raise ValueError(f"patient {patient.id} already exists")
            self._insert(patient)
            return patient

    def update(self, patient: Patient, changes: dict[str, Any], now: datetime) -> Patient:
        """Apply attribute changes (already validated, at least one) and move ``updatedAt``."""
        with self.lock:
            self.changes += 1
            for name, value in changes.items():
                setattr(patient, name, value)
            patient.updated_at = now
            self._haystacks[patient.id] = _haystack(patient)
            return patient

    def delete(self, patient: Patient, now: datetime) -> Patient:
        """Soft delete: the record stays, listed only with ``includeDeleted``."""
        with self.lock:
            self.changes += 1
            bucket = self._practices[patient.practice_id]
            index = bisect.bisect_left(bucket.active_seq, patient.seq)
            if index < len(bucket.active_seq) and bucket.active_seq[index] == patient.seq:
                del bucket.active[index]
                del bucket.active_seq[index]
            patient.deleted = True
            patient.status = STATUS_DELETED
            patient.updated_at = now
            return patient

    # -- the patients query -------------------------------------------------------------

    def page(self, practice_id: str, query: PatientQuery) -> Page:
        offset = (query.page - 1) * query.page_size
        with self.lock:
            bucket = self._practices.get(practice_id)
            if bucket is None:
                return Page([], query.page, query.page_size, False)
            source = bucket.order if query.include_deleted else bucket.active
            lo, hi = 0, len(source)
            created_pending = query.created_from is not None or query.created_to is not None
            if created_pending and bucket.created_sorted:
                if query.created_from is not None:
                    lo = bisect.bisect_left(source, query.created_from, key=_created_at)
                if query.created_to is not None:
                    hi = max(lo, bisect.bisect_right(source, query.created_to, key=_created_at))
                created_pending = False
            search = (query.search or "").strip()
            updated_pending = query.updated_from is not None or query.updated_to is not None
            if not (search or created_pending or updated_pending):
                start = lo + offset
                end = min(start + query.page_size, hi)
                return Page(source[start:end], query.page, query.page_size, end < hi)
            matches = self._matching(islice(source, lo, hi), query, search, created_pending)
            wanted = list(islice(matches, offset, offset + query.page_size + 1))
            has_more = len(wanted) > query.page_size
            return Page(wanted[: query.page_size], query.page, query.page_size, has_more)

    def _matching(
        self, candidates: Iterable[Patient], query: PatientQuery, search: str, by_created: bool
    ) -> Iterator[Patient]:
        text = search.casefold()
        # fields are joined by the separator: a search holding it would match across two
        spans_fields = FIELD_SEPARATOR in text
        digits = phone_key(search)
        haystacks = self._haystacks
        created_from, created_to = query.created_from, query.created_to
        updated_from, updated_to = query.updated_from, query.updated_to
        for patient in candidates:
            if by_created and (
                (created_from is not None and patient.created_at < created_from)
                or (created_to is not None and patient.created_at > created_to)
            ):
                continue
            if (updated_from is not None and patient.updated_at < updated_from) or (
                updated_to is not None and patient.updated_at > updated_to
            ):
                continue
            if text:
                hay, phones = haystacks[patient.id]
                found = not spans_fields and text in hay
                if not found and not (digits and digits in phones):
                    continue
            yield patient

    # -- reset and bulk load --------------------------------------------------------------

    def insert_loaded(self, patient: Patient) -> None:
        """Add a patient from a state document (validated by the caller), in order."""
        with self.lock:
            self._insert(patient)

    def reset_practice(self, practice_id: str) -> None:
        """Drop one practice's patients."""
        with self.lock:
            self.changes += 1
            bucket = self._practices.pop(practice_id, None)
            if bucket is None:
                return
            for patient in bucket.order:
                del self._patients[patient.id]
                del self._haystacks[patient.id]
            self._garbage.append(bucket)

    def clear(self) -> None:
        """Forget every patient. The old containers are parked, not freed: freeing 10^5
        records takes milliseconds a reset request should not wait for;
        :meth:`collect_garbage` frees them after the response."""
        with self.lock:
            self.changes += 1
            self._garbage.append((self._patients, self._practices, self._haystacks))
            self._patients, self._practices, self._haystacks = {}, {}, {}

    def collect_garbage(self) -> None:
        with self.lock:
            garbage, self._garbage = self._garbage, []
        garbage.clear()

    # -- internals ----------------------------------------------------------------------

    def _insert(self, patient: Patient) -> None:
        self.changes += 1
        bucket = self._practices.get(patient.practice_id)
        if bucket is None:
            bucket = self._practices[patient.practice_id] = _PracticePatients()
        if bucket.order and patient.created_at < bucket.order[-1].created_at:
            bucket.created_sorted = False
        patient.seq = len(bucket.order)
        bucket.order.append(patient)
        if not patient.deleted:
            bucket.active.append(patient)
            bucket.active_seq.append(patient.seq)
        self._patients[patient.id] = patient
        self._haystacks[patient.id] = _haystack(patient)


def _haystack(patient: Patient) -> tuple[str, str]:
    """The text a search looks in: names, email and dob; and the phone numbers."""
    parts = (
        patient.first_name,
        patient.last_name,
        patient.full_name,
        patient.email,
        None if patient.dob is None else format_date(patient.dob),
    )
    text = FIELD_SEPARATOR.join(part.casefold() for part in parts if part)
    phones = FIELD_SEPARATOR.join(
        phone_key(phone.phone_number) for phone in patient.phones if phone.phone_number
    )
    return text, phones
