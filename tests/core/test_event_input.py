"""Identifiers and metadata of fired events (SPEC §2.5): generation, bounds, refusals.

Expected values are written from SPEC and the TSV, never taken from the code under test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mock_semble.core.event_input import EventInputError, build_identifiers, build_metadata
from mock_semble.core.events import CATALOGUE, EVENT_TYPES, EventSpec

HEX24 = re.compile(r"[0-9a-f]{24}")
PRACTICE = "00000000000000000000000a"
NOW = datetime(2026, 11, 28, 15, 2, 26, 123456, tzinfo=UTC)
NOW_TEXT = "2026-11-28T15:02:26.123Z"
ALL_TYPES = st.sampled_from(EVENT_TYPES)
hex24 = st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)


def counter_ids() -> Callable[[], str]:
    numbers: Iterator[int] = iter(range(1, 10_000))
    return lambda: f"{next(numbers):024x}"


def no_ids() -> str:
    raise AssertionError("refused input must not draw ids")


def build(
    spec: EventSpec, given: object, new_id: Callable[[], str] | None = None
) -> dict[str, str]:
    return build_identifiers(
        spec,
        given,  # type: ignore[arg-type]  # bad shapes on purpose
        practice_id=PRACTICE,
        now=NOW,
        new_id=new_id or counter_ids(),
    )


def refused(spec: EventSpec, given: object) -> EventInputError:
    with pytest.raises(EventInputError) as caught:
        build(spec, given, no_ids)
    assert "\n" not in str(caught.value)
    return caught.value


def tsv_generated_keys(spec: EventSpec) -> list[str]:
    """Required keys plus the first of each ``a|b``, in TSV order."""
    firsts = {a for a, _ in spec.alternatives}
    return [k for k in spec.identifier_keys if k in spec.required or k in firsts]


def valid_value(key: str) -> st.SearchStrategy[str]:
    if key == "practiceId":
        return st.just(PRACTICE)
    if key == "reportType":
        return st.sampled_from(["InitialReport", "RFATReport", "DischargeReport"])
    if key == "submittedAt":
        return st.just("2025-01-02T03:04:05.678Z")
    if key.endswith("Id") or key == "submittedBy":
        return hex24
    return st.text(max_size=256)


# --- generation ---------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_nothing_given_yields_exactly_the_required_keys(event_type: str) -> None:
    spec = CATALOGUE[event_type]
    identifiers = build(spec, None)
    assert list(identifiers) == tsv_generated_keys(spec)
    assert build(spec, {}) == identifiers
    for key, value in identifiers.items():
        if key.endswith("Id") or key == "submittedBy":
            assert HEX24.fullmatch(value), (key, value)
    for key in spec.optional:
        assert key not in identifiers
    for _, second in spec.alternatives:
        assert second not in identifiers


def test_generated_values_follow_spec_and_tsv_order() -> None:
    spec = CATALOGUE["clinicalReport.submittedForApproval"]
    assert build(spec, None) == {
        "clinicalReportId": "000000000000000000000001",
        "patientId": "000000000000000000000002",
        "practiceId": PRACTICE,
        "reportType": "InitialReport",
        "submittedBy": "000000000000000000000003",
        "submittedAt": NOW_TEXT,
    }
    assert build(CATALOGUE["availability.blocker.created"], None) == {
        "availabilityId": "000000000000000000000001"
    }
    assert build(CATALOGUE["patient.merged"], None) == {
        "sourcePatientId": "000000000000000000000001",
        "targetPatientId": "000000000000000000000002",
    }


def test_event_time_is_utc_with_milliseconds() -> None:
    spec = CATALOGUE["clinicalReport.submittedForApproval"]
    plus_two = timezone(timedelta(hours=2))

    def at(now: datetime) -> str:
        ids = counter_ids()
        return build_identifiers(spec, None, practice_id=PRACTICE, now=now, new_id=ids)[
            "submittedAt"
        ]

    assert at(datetime(2026, 11, 28, 17, 2, 26, 123999, tzinfo=plus_two)) == NOW_TEXT
    assert at(datetime(2026, 11, 28, 15, 2, 26, 123456)) == NOW_TEXT  # naive = UTC
    assert at(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05.000Z"


@settings(max_examples=200)
@given(ALL_TYPES, st.data())
def test_given_keys_are_kept_and_only_missing_required_ones_generated(
    event_type: str, data: st.DataObject
) -> None:
    spec = CATALOGUE[event_type]
    choices = [*spec.required, *spec.optional]
    for pair in spec.alternatives:
        choices.append(data.draw(st.sampled_from(pair)))
    keys = data.draw(st.sets(st.sampled_from(choices)) if choices else st.just(set[str]()))
    given_ids = {k: data.draw(valid_value(k)) for k in keys}
    identifiers = build(spec, given_ids)
    for key, value in given_ids.items():
        assert identifiers[key] == value
    expected_keys = set(given_ids) | set(spec.required)
    for first, second in spec.alternatives:
        if second not in given_ids:
            expected_keys.add(first)
    assert set(identifiers) == expected_keys
    assert list(identifiers) == [k for k in spec.identifier_keys if k in expected_keys]


@given(ALL_TYPES, st.integers(0, 2**32))
def test_same_id_source_same_identifiers(event_type: str, seed: int) -> None:
    import random

    def seeded() -> Callable[[], str]:
        rng = random.Random(seed)
        return lambda: rng.randbytes(12).hex()

    spec = CATALOGUE[event_type]
    assert build(spec, None, seeded()) == build(spec, None, seeded())


def test_null_values_count_as_absent() -> None:
    spec = CATALOGUE["booking.created"]
    assert build(spec, {"patientId": None, "doctorId": None}) == {
        "bookingId": "000000000000000000000001"
    }
    blocker = CATALOGUE["availability.blocker.removed"]
    assert build(blocker, {"availabilityId": None, "bookingId": "0123456789abcdef01234567"}) == {
        "bookingId": "0123456789abcdef01234567"
    }


@pytest.mark.parametrize("report_type", ["InitialReport", "RFATReport", "DischargeReport"])
def test_the_three_report_types_are_accepted(report_type: str) -> None:
    spec = CATALOGUE["clinicalReport.submittedForApproval"]
    assert build(spec, {"reportType": report_type})["reportType"] == report_type


# --- refusals -----------------------------------------------------------------------------


@given(ALL_TYPES, st.text(min_size=0, max_size=30), st.text(max_size=30))
def test_unknown_keys_are_refused(event_type: str, key: str, value: str) -> None:
    spec = CATALOGUE[event_type]
    assume(key not in spec.identifier_keys)
    error = refused(spec, {key: value})
    assert error.key == key
    assert "unknown identifier" in str(error)


@given(ALL_TYPES, st.data())
def test_over_long_values_are_refused(event_type: str, data: st.DataObject) -> None:
    spec = CATALOGUE[event_type]
    key = data.draw(st.sampled_from(spec.identifier_keys))
    value = data.draw(st.text(min_size=257, max_size=400))
    error = refused(spec, {key: value})
    assert error.key == key
    assert f"identifier {key!r} is longer than 256 characters" in str(error)


@given(
    ALL_TYPES,
    st.data(),
    st.one_of(
        st.text(alphabet="0123456789ABCDEF", min_size=24, max_size=24).filter(
            lambda s: s != s.lower()
        ),
        st.text(alphabet="0123456789abcdef", max_size=23),
        st.text(alphabet="0123456789abcdef", min_size=25, max_size=40),
        hex24.map(lambda s: s + "\n"),
        hex24.map(lambda s: " " + s[1:]),
        hex24.map(lambda s: s[:5] + "g" + s[6:]),
    ),
)
def test_ids_must_be_24_lower_case_hex(event_type: str, data: st.DataObject, bad: str) -> None:
    spec = CATALOGUE[event_type]
    id_keys = [k for k in spec.identifier_keys if k.endswith("Id") or k == "submittedBy"]
    key = data.draw(st.sampled_from(id_keys))
    error = refused(spec, {key: bad})
    assert error.key == key
    assert "24-hex" in str(error)


@given(st.sampled_from([t for t in EVENT_TYPES if CATALOGUE[t].alternatives]), hex24, hex24)
def test_both_alternatives_are_refused(event_type: str, first: str, second: str) -> None:
    spec = CATALOGUE[event_type]
    a, b = spec.alternatives[0]
    error = refused(spec, {a: first, b: second})
    assert a in str(error) and b in str(error)


@given(ALL_TYPES, st.integers(21, 60))
def test_more_than_20_keys_are_refused(event_type: str, count: int) -> None:
    spec = CATALOGUE[event_type]
    error = refused(spec, {f"k{i}": "x" for i in range(count)})
    assert "at most 20" in str(error)


@given(ALL_TYPES, st.data())
def test_values_must_be_strings(event_type: str, data: st.DataObject) -> None:
    spec = CATALOGUE[event_type]
    key = data.draw(st.sampled_from(spec.identifier_keys))
    value = data.draw(st.one_of(st.integers(), st.booleans(), st.lists(st.integers())))
    error = refused(spec, {key: value})
    assert error.key == key
    assert "must be a string" in str(error)


@pytest.mark.parametrize(
    ("given_ids", "key", "fragment"),
    [
        ({"reportType": "initialReport"}, "reportType", "InitialReport, RFATReport"),
        ({"reportType": ""}, "reportType", "must be one of"),
        ({"practiceId": "00000000000000000000000b"}, "practiceId", "event's practice"),
        ({"submittedAt": "yesterday"}, "submittedAt", "ISO-8601"),
        ({"submittedBy": "someone"}, "submittedBy", "24-hex"),
    ],
)
def test_non_id_values_are_checked(given_ids: dict[str, str], key: str, fragment: str) -> None:
    error = refused(CATALOGUE["clinicalReport.submittedForApproval"], given_ids)
    assert error.key == key
    assert fragment in str(error)


@pytest.mark.parametrize("given_ids", [["patientId"], "patientId", 5, {5: "x"}])
def test_identifiers_must_be_an_object_with_string_keys(given_ids: object) -> None:
    refused(CATALOGUE["patient.created"], given_ids)


def test_submitted_at_given_is_kept() -> None:
    spec = CATALOGUE["clinicalReport.submittedForApproval"]
    assert build(spec, {"submittedAt": "2025-01-02T03:04:05.678Z"})["submittedAt"] == (
        "2025-01-02T03:04:05.678Z"
    )


# --- metadata -----------------------------------------------------------------------------


@given(st.sampled_from([t for t in EVENT_TYPES if not t.startswith("webhook.")]))
def test_events_without_metadata_have_none_and_refuse_it(event_type: str) -> None:
    spec = CATALOGUE[event_type]
    assert build_metadata(spec, None) is None
    assert build_metadata(spec, {}) is None
    with pytest.raises(EventInputError, match="has no metadata"):
        build_metadata(spec, {"deliveryPaused": True})


def test_hand_fired_system_events_get_sample_metadata() -> None:
    assert build_metadata(CATALOGUE["webhook.subscription.updated"], None) == {
        "deliveryPaused": False
    }
    assert build_metadata(CATALOGUE["webhook.event.deliveryFailed"], None) == {
        "failedEventType": "patient.created"
    }
    assert build_metadata(CATALOGUE["webhook.event.deliveryFailed"], {"httpStatusCode": None}) == {
        "failedEventType": "patient.created"
    }


@given(st.booleans())
def test_given_metadata_is_kept(paused: bool) -> None:
    spec = CATALOGUE["webhook.subscription.updated"]
    assert build_metadata(spec, {"deliveryPaused": paused}) == {"deliveryPaused": paused}


@given(st.text(max_size=256), st.one_of(st.none(), st.integers(100, 599)))
def test_delivery_failed_metadata(failed: str, status: int | None) -> None:
    spec = CATALOGUE["webhook.event.deliveryFailed"]
    given_meta: dict[str, object] = {"failedEventType": failed}
    expected: dict[str, object] = {"failedEventType": failed}
    if status is not None:
        given_meta["httpStatusCode"] = status
        expected["httpStatusCode"] = status
    assert build_metadata(spec, given_meta) == expected


@pytest.mark.parametrize(
    ("event_type", "given_meta", "key"),
    [
        ("webhook.subscription.updated", {"deliveryPaused": "false"}, "deliveryPaused"),
        ("webhook.subscription.updated", {"deliveryPaused": 0}, "deliveryPaused"),
        ("webhook.subscription.updated", {"paused": True}, "paused"),
        ("webhook.event.deliveryFailed", {"httpStatusCode": True}, "httpStatusCode"),
        ("webhook.event.deliveryFailed", {"httpStatusCode": "500"}, "httpStatusCode"),
        ("webhook.event.deliveryFailed", {"httpStatusCode": 500.0}, "httpStatusCode"),
        ("webhook.event.deliveryFailed", {"httpStatusCode": 2**60}, "httpStatusCode"),
        ("webhook.event.deliveryFailed", {"failedEventType": 5}, "failedEventType"),
        ("webhook.event.deliveryFailed", {"failedEventType": "x" * 257}, "failedEventType"),
    ],
)
def test_bad_metadata_is_refused(event_type: str, given_meta: dict[str, object], key: str) -> None:
    with pytest.raises(EventInputError) as caught:
        build_metadata(CATALOGUE[event_type], given_meta)
    assert caught.value.key == key
    assert key in str(caught.value)


def test_more_than_20_metadata_keys_are_refused() -> None:
    with pytest.raises(EventInputError, match="at most 20"):
        build_metadata(
            CATALOGUE["webhook.subscription.updated"], {f"k{i}": True for i in range(21)}
        )
