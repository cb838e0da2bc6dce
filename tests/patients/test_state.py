"""The ``patients`` section of state documents: exact round trips, refusals that name
the problem, and loads that leave the parsed records untouched."""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_semble.core.context import RequestContext
from mock_semble.core.runtime import Runtime
from mock_semble.core.settings import Settings
from mock_semble.core.statedoc import StateError
from mock_semble.patients import DOMAIN
from mock_semble.patients import operations as ops
from mock_semble.patients import record_operations as rec
from mock_semble.patients.models import (
    PatientArchiveReason,
    PatientINSStatus,
    PatientRelationshipType,
    PatientUnarchiveReason,
)
from mock_semble.patients.state import PatientSection
from mock_semble.patients.store import PatientStore

PRACTICE = "000000000000000000000001"
SECTION = PatientSection()
TEXT = st.text(alphabet=string.ascii_letters + " éß-'", min_size=1, max_size=12).filter(
    lambda s: s.strip() != ""
)


def _runtime() -> tuple[Runtime, RequestContext]:
    runtime = Runtime(Settings(seed=7), [DOMAIN])
    runtime.load_startup(runtime.startup)
    token = runtime.tenancy.token("test-token")
    assert token is not None
    return runtime, RequestContext(runtime, token, runtime.tenancy.practices[PRACTICE])


def _store(runtime: Runtime) -> PatientStore:
    return runtime.store("patients", PatientStore)


def _exported(runtime: Runtime) -> list[Any]:
    """The section as a state document holds it."""
    return [SECTION.record_json(p) for p in SECTION.records(_store(runtime))]


def _roundtrip(runtime: Runtime) -> tuple[list[Any], list[Any]]:
    exported = _exported(runtime)
    document = json.loads(json.dumps(exported))
    records = SECTION.parse(document, set(runtime.tenancy.practices), runtime.settings, 2)
    fresh, _ = _runtime()
    SECTION.load(_store(fresh), records)
    return exported, _exported(fresh)


Step = Callable[[RequestContext, str], object]
STEPS: list[Step] = [
    lambda ctx, pid: rec.add_label(ctx, pid, "0000000000000000000000a2"),
    lambda ctx, pid: rec.add_phone(ctx, pid, "+44 20 7946 0018", "Home"),
    lambda ctx, pid: rec.add_attribute(ctx, pid, {"title": "T", "text": "x", "response": "y"}),
    lambda ctx, pid: rec.add_number(ctx, pid, "0000000000000000000000b1", "485 777 3456"),
    lambda ctx, pid: rec.add_access_group(ctx, pid, "0000000000000000000000d1"),
    lambda ctx, pid: rec.add_membership(ctx, pid, "0000000000000000000000c1", "2025-02-03", "x"),
    lambda ctx, pid: rec.add_relationship(
        ctx, pid, PatientRelationshipType.OTHER, "Aunt", {"first_name": "May", "email": "m@x.io"}
    ),
    lambda ctx, pid: ops.archive_patient(ctx, pid, PatientArchiveReason.DECEASED_PATIENT, "c"),
    lambda ctx, pid: ops.unarchive_patient(ctx, pid, PatientUnarchiveReason.OTHER),
    lambda ctx, pid: ops.update_patient(ctx, pid, {"ins": {"status": PatientINSStatus.VALIDATED}}),
    lambda ctx, pid: ops.delete_patient(ctx, pid),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.fixed_dictionaries(
            {"first": TEXT, "last": TEXT},
            optional={
                "title": TEXT,
                "email": st.just("a.b@example.com"),
                "dob": st.dates(),
                "city": TEXT,
                "comments": st.text(max_size=30),
                "place_of_birth": st.fixed_dictionaries({"name": TEXT}),
                "communication_preferences": st.fixed_dictionaries(
                    {"receive_sms": st.booleans(), "privacy_policy": TEXT}
                ),
            },
        ),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.integers(0, len(STEPS) - 1), max_size=8),
)
def test_every_export_imports_back_identically(
    inputs: list[dict[str, Any]], steps: list[int]
) -> None:
    runtime, ctx = _runtime()
    made = [ops.create_patient(ctx, patient_data=data, flat={}) for data in inputs]
    for n, step in enumerate(steps):
        patient = made[n % len(made)]
        try:
            STEPS[step](ctx, patient.id)
        except Exception as exc:  # refused steps (deleted, already archived) change nothing
            assert type(exc).__name__ == "RuleError"
    exported, again = _roundtrip(runtime)
    assert again == exported
    assert len(exported) == len(inputs)


def _one_patient_document() -> tuple[Runtime, list[dict[str, Any]]]:
    runtime, ctx = _runtime()
    ops.create_patient(ctx, patient_data={"first": "Ada", "last": "Lovelace"}, flat={})
    return runtime, json.loads(json.dumps(_exported(runtime)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("email"), "patients[0]: missing key(s): email"),
        (lambda p: p.update(extra=1), "patients[0]: unknown key(s): extra"),
        (lambda p: p.update(id="nope"), "patients[0].id: must be 24 lower-case hex digits"),
        (
            lambda p: p.update(practiceId="0000000000000000000000ff"),
            "patients[0].practiceId: unknown practice 0000000000000000000000ff",
        ),
        (
            lambda p: p.update(firstName="  "),
            "patients[0].firstName: first and last names are required",
        ),
        (lambda p: p.update(email="nope"), "patients[0].email: invalid email"),
        (lambda p: p.update(dob="2020-13-01"), "patients[0].dob: must be a date, YYYY-MM-DD"),
        (
            lambda p: p.update(status="archived"),
            'patients[0].status: must be "active" (it follows deleted and archived)',
        ),
        (lambda p: p.update(archived="yes"), "patients[0].archived: must be a boolean or null"),
        (lambda p: p.update(phones={}), "patients[0].phones: must be an array"),
        (
            lambda p: p.update(archivedInfo={"archivedReason": "BORED"}),
            "patients[0].archivedInfo: missing key(s)",
        ),
    ],
)
def test_a_bad_patient_is_refused_naming_where(
    change: Callable[[dict[str, Any]], object], message: str
) -> None:
    runtime, document = _one_patient_document()
    change(document[0])
    with pytest.raises(StateError) as exc:
        SECTION.parse(document, {PRACTICE}, runtime.settings, 2)
    assert str(exc.value).startswith(message)


def test_a_bad_enum_value_is_refused() -> None:
    runtime, ctx = _runtime()
    patient = ops.create_patient(ctx, patient_data={"first": "A", "last": "B"}, flat={})
    ops.archive_patient(ctx, patient.id, PatientArchiveReason.OTHER, None)
    document = json.loads(json.dumps(_exported(runtime)))
    document[0]["archivedInfo"]["archivedReason"] = "BORED"
    with pytest.raises(StateError, match=r"^patients\[0\]\.archivedInfo\.archivedReason: must"):
        SECTION.parse(document, {PRACTICE}, runtime.settings, 2)


def test_duplicate_ids_are_refused() -> None:
    runtime, document = _one_patient_document()
    document.append(copy.deepcopy(document[0]))
    with pytest.raises(StateError, match=r"^patients\[1\]\.id: duplicate patient id"):
        SECTION.parse(document, {PRACTICE}, runtime.settings, 2)


def test_loading_copies_so_the_parsed_records_stay_as_parsed() -> None:
    runtime, document = _one_patient_document()
    records = SECTION.parse(document, {PRACTICE}, runtime.settings, 2)
    fresh, ctx = _runtime()
    SECTION.load(_store(fresh), records)
    ops.update_patient(ctx, records[0].id, {"first": "Changed"})
    assert records[0].first_name == "Ada"
    assert _store(fresh).get(PRACTICE, records[0].id).first_name == "Changed"  # type: ignore[union-attr]


def test_load_for_one_practice_loads_only_its_patients() -> None:
    runtime, document = _one_patient_document()
    records = SECTION.parse(document, {PRACTICE}, runtime.settings, 2)
    fresh, _ = _runtime()
    SECTION.load(_store(fresh), records, "0000000000000000000000ff")
    assert _exported(fresh) == []
