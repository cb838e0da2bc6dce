"""The patient store's ``patients`` query against a brute-force oracle written from SPEC §3:
creation order, search, inclusive ranges, includeDeleted, page bounds and hasMore."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_semble.core.ids import IdFactory
from mock_semble.patients.models import Patient, Phone
from mock_semble.patients.store import PatientQuery, PatientStore

PRACTICE = "000000000000000000000001"
OTHER_PRACTICE = "000000000000000000000002"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NAMES = ["Ada", "ada", "Bob", "Ærin", "Zoë", "Li", "O'Neil", "van Dyke"]


@dataclass(frozen=True)
class Spec:
    first: str
    last: str
    email: str | None
    dob: date | None
    phone: str | None
    created_minutes: int
    updated_minutes: int
    deleted: bool
    foreign: bool


SPECS = st.builds(
    Spec,
    first=st.sampled_from(NAMES),
    last=st.sampled_from(NAMES),
    email=st.none() | st.sampled_from(["ada@example.com", "BOB@Example.org"]),
    dob=st.none() | st.dates(date(1950, 1, 1), date(2020, 12, 31)),
    phone=st.none() | st.sampled_from(["+44 7700 900123", "(020) 7946-0018", "07700900123"]),
    created_minutes=st.integers(0, 3 * 24 * 60),
    updated_minutes=st.integers(0, 3 * 24 * 60),
    deleted=st.booleans(),
    foreign=st.booleans(),
)


def _build(specs: list[Spec], *, monotonic: bool) -> tuple[PatientStore, list[Patient]]:
    store = PatientStore(IdFactory(1), threading.RLock())
    made = []
    for n, spec in enumerate(specs):
        minutes = n if monotonic else spec.created_minutes
        created = T0 + timedelta(minutes=minutes)
        patient = Patient(
            id=store.new_id(),
            practice_id=OTHER_PRACTICE if spec.foreign else PRACTICE,
            created_at=created,
            updated_at=created + timedelta(minutes=spec.updated_minutes),
            first_name=spec.first,
            last_name=spec.last,
            full_name=f"{spec.first} {spec.last}",
            email=spec.email,
            dob=spec.dob,
            phones=() if spec.phone is None else (Phone("p", "Mobile", spec.phone),),
        )
        store.add(patient)
        if spec.deleted:
            store.delete(patient, patient.updated_at)
        made.append(patient)
    return store, made


def _digits(text: str) -> str:
    return re.sub(r"[\W_]", "", text).casefold()


def _matches(patient: Patient, search: str) -> bool:
    """SPEC §3: case-insensitive substring of first/last/full name, email, dob; or a phone
    number with spaces and punctuation ignored on both sides."""
    text = search.strip().casefold()
    if not text:
        return True
    fields = [patient.first_name, patient.last_name, patient.full_name, patient.email]
    if patient.dob is not None:
        fields.append(patient.dob.isoformat())
    if any(f is not None and text in f.casefold() for f in fields):
        return True
    wanted = _digits(search)
    return bool(wanted) and any(wanted in _digits(p.phone_number or "") for p in patient.phones)


def _oracle(made: list[Patient], query: PatientQuery) -> list[Patient]:
    def keep(p: Patient) -> bool:
        return (
            p.practice_id == PRACTICE
            and (query.include_deleted or not p.deleted)
            and (query.created_from is None or p.created_at >= query.created_from)
            and (query.created_to is None or p.created_at <= query.created_to)
            and (query.updated_from is None or p.updated_at >= query.updated_from)
            and (query.updated_to is None or p.updated_at <= query.updated_to)
            and _matches(p, query.search or "")
        )

    return [p for p in made if keep(p)]


def _all_pages(store: PatientStore, query: PatientQuery) -> list[list[Patient]]:
    """Every page from 1 until the first with hasMore false, checking each page's echo."""
    pages = []
    number = 1
    while True:
        page = store.page(PRACTICE, _with_page(query, number))
        assert (page.page, page.page_size) == (number, query.page_size)
        pages.append(page.patients)
        if not page.has_more:
            return pages
        number += 1


def _with_page(query: PatientQuery, number: int) -> PatientQuery:
    return PatientQuery(
        page=number,
        page_size=query.page_size,
        search=query.search,
        include_deleted=query.include_deleted,
        created_from=query.created_from,
        created_to=query.created_to,
        updated_from=query.updated_from,
        updated_to=query.updated_to,
    )


MOMENTS = st.none() | st.integers(0, 4 * 24 * 60).map(lambda m: T0 + timedelta(minutes=m))
QUERIES = st.builds(
    PatientQuery,
    page=st.just(1),
    page_size=st.integers(1, 7),
    search=st.none()
    | st.sampled_from(
        ["", "  ", "ada", "ADA", "zo", "æ", "example.", "19", "-0", "7700 900", "02079"]
    ),
    include_deleted=st.booleans(),
    created_from=MOMENTS,
    created_to=MOMENTS,
    updated_from=MOMENTS,
    updated_to=MOMENTS,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(SPECS, max_size=25), QUERIES, st.booleans())
def test_every_match_is_on_exactly_one_page_in_creation_order(
    specs: list[Spec], query: PatientQuery, monotonic: bool
) -> None:
    store, made = _build(specs, monotonic=monotonic)
    expected = _oracle(made, query)
    pages = _all_pages(store, query)
    assert [p for page in pages for p in page] == expected
    # every page but the last is full; the last is full only when nothing follows
    assert all(len(page) == query.page_size for page in pages[:-1])
    assert len(pages) == max(1, -(-len(expected) // query.page_size))


@given(st.lists(SPECS, max_size=15), QUERIES, st.integers(1, 5))
def test_a_page_past_the_end_is_empty(specs: list[Spec], query: PatientQuery, extra: int) -> None:
    store, made = _build(specs, monotonic=True)
    count = len(_oracle(made, query))
    last = max(1, -(-count // query.page_size))
    page = store.page(PRACTICE, _with_page(query, last + extra))
    assert page.patients == []
    assert page.has_more is False


def test_an_empty_practice_has_one_empty_page() -> None:
    store = PatientStore(IdFactory(1), threading.RLock())
    page = store.page(PRACTICE, PatientQuery())
    assert (page.patients, page.page, page.page_size, page.has_more) == ([], 1, 20, False)


def test_a_changed_patient_is_searched_by_its_new_name() -> None:
    spec = Spec("Ada", "B", None, None, None, 0, 0, deleted=False, foreign=False)
    store, made = _build([spec], monotonic=True)
    patient = made[0]
    assert store.page(PRACTICE, PatientQuery(search="quent")).patients == []
    store.update(patient, {"first_name": "Quentin", "full_name": "Quentin X"}, T0)
    assert store.page(PRACTICE, PatientQuery(search="quent")).patients == [patient]


def test_get_hides_deleted_and_foreign_patients() -> None:
    specs = [
        Spec("A", "B", None, None, None, 0, 0, deleted=False, foreign=False),
        Spec("A", "B", None, None, None, 0, 0, deleted=True, foreign=False),
        Spec("A", "B", None, None, None, 0, 0, deleted=False, foreign=True),
    ]
    store, made = _build(specs, monotonic=True)
    assert store.get(PRACTICE, made[0].id) is made[0]
    assert store.get(PRACTICE, made[1].id) is None
    assert store.get(PRACTICE, made[2].id) is None
    assert store.get(OTHER_PRACTICE, made[2].id) is made[2]
    assert made[1].status == "deleted"


def test_reset_practice_keeps_other_practices() -> None:
    specs = [
        Spec("A", "B", None, None, None, 0, 0, deleted=False, foreign=False),
        Spec("C", "D", None, None, None, 0, 0, deleted=False, foreign=True),
    ]
    store, made = _build(specs, monotonic=True)
    store.reset_practice(PRACTICE)
    assert store.find(made[0].id) is None
    assert store.find(made[1].id) is made[1]
    assert store.page(PRACTICE, PatientQuery()).patients == []
    store.clear()
    assert store.find(made[1].id) is None


# -- edges the generated examples may miss --------------------------------------------------


def _one(first: str = "Ada", last: str = "Lovelace", *, created: datetime = T0) -> Patient:
    return Patient(
        id=f"{abs(hash((first, last, created))) % 16**24:024x}",
        practice_id=PRACTICE,
        created_at=created,
        updated_at=created,
        first_name=first,
        last_name=last,
        full_name=f"{first} {last}",
    )


def test_range_bounds_are_inclusive_on_both_search_paths() -> None:
    """Created bounds are searched by bisection when creation order is sorted, and by a
    scan when a state document loaded patients out of order; both include the bounds."""
    for loaded_out_of_order in (False, True):
        store = PatientStore(IdFactory(1), threading.RLock())
        times = [T0 + timedelta(minutes=m) for m in (0, 10, 20)]
        if loaded_out_of_order:
            times.reverse()
        made = [_one(f"P{m}", created=at) for m, at in enumerate(times)]
        for patient in made:
            store.insert_loaded(patient)
        middle = T0 + timedelta(minutes=10)
        for query in (
            PatientQuery(created_from=middle, created_to=middle),
            PatientQuery(updated_from=middle, updated_to=middle),
            PatientQuery(created_from=middle, created_to=middle, search="p"),
        ):
            found = store.page(PRACTICE, query).patients
            assert [p.created_at for p in found] == [middle], (loaded_out_of_order, query)


def test_a_search_holding_the_field_separator_matches_nothing() -> None:
    store = PatientStore(IdFactory(1), threading.RLock())
    store.add(_one())
    assert store.page(PRACTICE, PatientQuery(search="lace")).patients != []
    assert store.page(PRACTICE, PatientQuery(search="ada\x00lovelace")).patients == []


def test_store_changes_keep_their_invariants() -> None:
    store = PatientStore(IdFactory(1), threading.RLock())
    first, second = _one("Ada"), _one("Bob")
    store.add(first)
    store.add(second)
    try:
        store.add(_one("Ada"))
        raise AssertionError("a second add of one id must be refused")
    except ValueError as exc:
        assert str(exc) == f"patient {first.id} already exists"
    later = T0 + timedelta(hours=1)
    store.update(first, {"email": "ada@example.com"}, later)
    assert first.updated_at == later
    store.delete(second, later)
    store.delete(second, later)  # again (the last one created): the other stays listed
    assert store.page(PRACTICE, PatientQuery()).patients == [first]
    store.reset_practice("0" * 24)  # a practice without patients: nothing to drop
    assert store.practice_patients(PRACTICE) == [first, second]
    assert store.practice_patients("0" * 24) == []
    store.clear()
    store.collect_garbage()
    assert store.practice_ids() == [] and store.find(first.id) is None


def test_a_search_looks_past_patients_that_do_not_match() -> None:
    store = PatientStore(IdFactory(1), threading.RLock())
    ada, bob = _one("Ada", "Lovelace"), _one("Bob", "Smith")
    store.add(ada)
    store.add(bob)
    assert store.page(PRACTICE, PatientQuery(search="smith")).patients == [bob]


def test_a_patient_is_found_by_date_of_birth() -> None:
    store = PatientStore(IdFactory(1), threading.RLock())
    patient = _one()
    patient.dob = date(1990, 5, 17)
    store.add(patient)
    assert store.page(PRACTICE, PatientQuery(search="1990-05-17")).patients == [patient]


def test_new_ids_skip_ids_already_taken() -> None:
    store = PatientStore(IdFactory(7), threading.RLock())
    taken = IdFactory(7).new_id()  # the id the store would draw first
    store.insert_loaded(_one())
    clash = _one("Bob")
    clash.id = taken
    store.insert_loaded(clash)
    fresh = store.new_id()
    assert re.fullmatch(r"[0-9a-f]{24}", fresh)
    assert fresh not in (taken, clash.id)
