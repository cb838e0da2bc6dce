"""The event catalogue (SPEC §1.5, §2.5, semble-events.tsv): contents, type names, Event.

Expected values are written from the TSV and SPEC, never taken from the code under test;
the TSV is re-read here with a separate, simpler reading to compare.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mock_semble.core.events import (
    CATALOGUE,
    DELIVERY_FAILED,
    ENUM_NAMES,
    EVENT_TYPES,
    SUBSCRIPTION_UPDATED,
    Event,
    MetadataField,
    UnknownEventType,
    parse_event_type,
    to_dotted,
    to_enum_name,
)

SHARED_TSV = Path(__file__).resolve().parents[3] / "shared" / "semble-events.tsv"


def shipped_tsv() -> str:
    return (files("mock_semble.core") / "semble-events.tsv").read_text(encoding="utf-8")


def tsv_rows() -> list[list[str]]:
    lines = [x for x in shipped_tsv().splitlines() if x and not x.startswith("#")]
    assert lines[0] == "event_type\tidentifiers\tmetadata\tsource\tconfidence"
    return [x.split("\t") for x in lines[1:]]


# --- the catalogue is the TSV ------------------------------------------------------------


def test_shipped_tsv_is_a_copy_of_the_shared_one() -> None:
    if not SHARED_TSV.exists():
        pytest.skip("no ../shared checkout (CI has only the packaged copy)")
    assert shipped_tsv() == SHARED_TSV.read_text(encoding="utf-8")


def test_catalogue_has_the_100_tsv_types_in_tsv_order() -> None:
    rows = tsv_rows()
    assert len(rows) == 100
    assert len(CATALOGUE) == 100
    assert list(CATALOGUE) == [r[0] for r in rows]
    assert list(EVENT_TYPES) == [r[0] for r in rows]
    assert EVENT_TYPES[:3] == ("patient.created", "patient.updated", "patient.deleted")
    assert EVENT_TYPES[-1] == "clinicalReport.status.updated"


def test_every_spec_holds_its_row() -> None:
    for event_type, identifiers, metadata, source, confidence in tsv_rows():
        spec = CATALOGUE[event_type]
        tokens = identifiers.split(",")
        assert spec.type == event_type
        assert spec.required == tuple(t for t in tokens if "?" not in t and "|" not in t)
        assert spec.optional == tuple(t.rstrip("?") for t in tokens if t.endswith("?"))
        assert spec.alternatives == tuple(tuple(t.split("|")) for t in tokens if "|" in t)
        assert spec.identifier_keys == tuple(k for t in tokens for k in t.rstrip("?").split("|"))
        assert [f"{m.key}{'?' if m.optional else ''} ({m.type})" for m in spec.metadata] == (
            metadata.split(",") if metadata else []
        )
        assert spec.source == source
        assert spec.confidence == confidence
        assert spec.group == event_type.split(".")[0]
        assert spec.is_system == event_type.startswith("webhook.")


def test_spot_checks_from_the_tsv() -> None:
    report = CATALOGUE["clinicalReport.submittedForApproval"]
    assert report.required == (
        "clinicalReportId",
        "patientId",
        "practiceId",
        "reportType",
        "submittedBy",
        "submittedAt",
    )
    assert report.optional == ()
    assert report.alternatives == ()
    assert report.metadata == ()
    assert report.group == "clinicalReport"
    assert report.source == "webhooks/events/clinical-report/"

    booking = CATALOGUE["booking.patientJourney.noShow"]
    assert (booking.required, booking.optional) == (("bookingId",), ("patientId", "doctorId"))
    assert booking.group == "booking"

    blocker = CATALOGUE["availability.blocker.updated"]
    assert blocker.required == ()
    assert blocker.alternatives == (("availabilityId", "bookingId"),)
    assert blocker.optional == ("patientId", "doctorId")
    assert blocker.identifier_keys == ("availabilityId", "bookingId", "patientId", "doctorId")

    merged = CATALOGUE["patient.merged"]
    assert merged.required == ("sourcePatientId", "targetPatientId")

    lab = CATALOGUE["lab.results.added"]
    assert lab.confidence == "I"
    assert lab.source == "API/enums/webhook-event-type/ (LAB_RESULTS_ADDED)"
    assert CATALOGUE["patient.created"].confidence == "C"


def test_system_events_and_their_metadata() -> None:
    assert SUBSCRIPTION_UPDATED == "webhook.subscription.updated"
    assert DELIVERY_FAILED == "webhook.event.deliveryFailed"
    assert {t for t, s in CATALOGUE.items() if s.is_system} == {
        "webhook.subscription.updated",
        "webhook.event.deliveryFailed",
    }
    assert {t for t, s in CATALOGUE.items() if s.has_metadata} == {
        "webhook.subscription.updated",
        "webhook.event.deliveryFailed",
    }
    failed = CATALOGUE["webhook.event.deliveryFailed"]
    assert failed.required == ("subscriptionId", "outboxId")
    assert failed.group == "webhook"
    assert failed.metadata == (
        MetadataField("failedEventType", "string", optional=False),
        MetadataField("httpStatusCode", "number", optional=True),
    )
    updated = CATALOGUE["webhook.subscription.updated"]
    assert updated.required == ("subscriptionId",)
    assert updated.metadata == (MetadataField("deliveryPaused", "boolean", optional=False),)


def test_groups() -> None:
    assert {s.group for s in CATALOGUE.values()} == {
        "patient",
        "patientDocument",
        "booking",
        "invoice",
        "letter",
        "prescription",
        "questionnaire",
        "lab",
        "product",
        "locationGroup",
        "location",
        "episode",
        "pathway",
        "contact",
        "paymentOnAccount",
        "webhook",
        "availability",
        "clinicalReport",
    }


def test_the_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        CATALOGUE["x.y"] = CATALOGUE["patient.created"]  # type: ignore[index]
    with pytest.raises(TypeError):
        ENUM_NAMES["X"] = "x.y"  # type: ignore[index]
    with pytest.raises(AttributeError):
        CATALOGUE["patient.created"].required = ()  # type: ignore[misc]


# --- names: enum and dotted ----------------------------------------------------------------


def test_enum_names() -> None:
    assert dict(ENUM_NAMES) == {
        "PATIENT_CREATED": "patient.created",
        "PATIENT_UPDATED": "patient.updated",
        "PATIENT_DELETED": "patient.deleted",
    }
    assert to_enum_name("patient.updated") == "PATIENT_UPDATED"
    assert to_enum_name("patient.archived") is None
    assert to_enum_name("PATIENT_CREATED") is None
    assert to_dotted("PATIENT_DELETED") == "patient.deleted"
    assert to_dotted("booking.created") == "booking.created"


@pytest.mark.parametrize(
    ("text", "dotted"),
    [
        ("PATIENT_CREATED", "patient.created"),
        ("PATIENT_UPDATED", "patient.updated"),
        ("PATIENT_DELETED", "patient.deleted"),
        ("patient.created", "patient.created"),
        ("availability.resourceAvailability.deleted", "availability.resourceAvailability.deleted"),
        ("webhook.event.deliveryFailed", "webhook.event.deliveryFailed"),
    ],
)
def test_parse_event_type_examples(text: str, dotted: str) -> None:
    assert parse_event_type(text) == dotted


@given(st.sampled_from(EVENT_TYPES))
def test_every_dotted_type_parses_to_itself(event_type: str) -> None:
    assert parse_event_type(event_type) == event_type


@given(st.sampled_from(EVENT_TYPES))
def test_enum_round_trip(event_type: str) -> None:
    name = to_enum_name(event_type)
    if name is None:
        assert event_type not in {"patient.created", "patient.updated", "patient.deleted"}
    else:
        assert to_dotted(name) == event_type
        assert parse_event_type(name) == event_type


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "patient.craeted",
            "unknown event type: 'patient.craeted' (did you mean 'patient.created'?)",
        ),
        (
            "Patient.Created",
            "unknown event type: 'Patient.Created' (did you mean 'patient.created'?)",
        ),
        (
            "PATIENT_ARCHIVED",
            "unknown event type: 'PATIENT_ARCHIVED' (did you mean 'patient.archived'?)",
        ),
        (
            "patient_created",
            "unknown event type: 'patient_created' (did you mean 'patient.created'?)",
        ),
        (
            "booking.patientjourney.noshow",
            "unknown event type: 'booking.patientjourney.noshow' "
            "(did you mean 'booking.patientJourney.noShow'?)",
        ),
        (
            " patient.created",
            "unknown event type: ' patient.created' (did you mean 'patient.created'?)",
        ),
    ],
)
def test_unknown_types_name_the_closest(text: str, message: str) -> None:
    with pytest.raises(UnknownEventType) as caught:
        parse_event_type(text)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


@given(st.sampled_from([*EVENT_TYPES, "PATIENT_CREATED", "PATIENT_UPDATED"]), st.data())
def test_case_changes_are_refused_and_the_original_suggested(
    event_type: str, data: st.DataObject
) -> None:
    flips = data.draw(st.sets(st.integers(0, len(event_type) - 1), min_size=1))
    changed = "".join(c.swapcase() if i in flips else c for i, c in enumerate(event_type))
    assume(changed != event_type)
    with pytest.raises(UnknownEventType) as caught:
        parse_event_type(changed)
    assert caught.value.suggestion == to_dotted(event_type)
    assert caught.value.value == changed


@given(st.text(max_size=60))
def test_any_other_text_is_refused_with_a_catalogue_suggestion(text: str) -> None:
    assume(text not in CATALOGUE and text not in {"PATIENT_CREATED", "PATIENT_UPDATED"})
    assume(text != "PATIENT_DELETED")
    with pytest.raises(UnknownEventType) as caught:
        parse_event_type(text)
    assert caught.value.suggestion in CATALOGUE
    assert "\n" not in str(caught.value)


def test_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(UnknownEventType) as caught:
        parse_event_type("x" * 100_000)
    assert len(str(caught.value)) < 250


@pytest.mark.parametrize("value", [None, 5, ["patient.created"], b"patient.created"])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(UnknownEventType, match="event type must be a string"):
        parse_event_type(value)


# --- Event --------------------------------------------------------------------------------


def test_event_holds_read_only_copies() -> None:
    identifiers = {"patientId": "0123456789abcdef01234567"}
    event = Event("000000000000000000000001", "patient.created", identifiers)
    identifiers["patientId"] = "changed"
    assert event.identifiers == {"patientId": "0123456789abcdef01234567"}
    assert event.metadata is None
    assert event.subscription_id is None
    assert event.spec is CATALOGUE["patient.created"]
    with pytest.raises(TypeError):
        event.identifiers["patientId"] = "x"  # type: ignore[index]
    system = Event(
        "000000000000000000000001",
        "webhook.subscription.updated",
        {"subscriptionId": "0123456789abcdef01234567"},
        {"deliveryPaused": True},
        subscription_id="0123456789abcdef01234567",
    )
    assert system.metadata == {"deliveryPaused": True}


@pytest.mark.parametrize("event_type", ["PATIENT_CREATED", "patient.craeted", ""])
def test_event_needs_a_dotted_catalogue_type(event_type: str) -> None:
    with pytest.raises(ValueError, match="dotted catalogue type"):
        Event("000000000000000000000001", event_type, {})
