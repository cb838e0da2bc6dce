"""Tests written for mutants that survived the suite (docs/mutation.md): exact messages
and codes, and the edges of the input checks. Expected values come from SPEC §1.4, §1.5
and §2.3, or from the documented public API of ``sign``."""

from __future__ import annotations

import pytest

from mock_semble import sign
from mock_semble.core.errors import RuleError
from mock_semble.webhooks.rules import check_event_types

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"eventType":"patient.created"}'
T0 = 1_700_000_000


# -- event types (SPEC §1.5: an unknown value is "invalid event type: <value>") ---------


def test_an_unknown_event_type_names_itself_with_its_code() -> None:
    with pytest.raises(RuleError) as info:
        check_event_types(["patient.created", "patient.exploded"])
    assert (info.value.message, info.value.code) == (
        "invalid event type: patient.exploded",
        "INVALID_EVENT_TYPES",
    )


def test_a_long_unknown_event_type_is_echoed_up_to_256_characters() -> None:
    unknown = "x" * 300
    with pytest.raises(RuleError) as info:
        check_event_types([unknown])
    assert info.value.message == "invalid event type: " + "x" * 256


# -- sign(): the standard scheme's message id ------------------------------------------------


def test_the_standard_scheme_without_a_message_id_says_so() -> None:
    with pytest.raises(ValueError) as info:
        sign(BODY, SECRET, scheme="standard", timestamp=T0)
    assert str(info.value) == "the 'standard' signing scheme needs a message_id (the event id)"


def test_a_message_id_that_is_not_text_is_a_type_error() -> None:
    with pytest.raises(TypeError) as info:
        sign(BODY, SECRET, scheme="standard", timestamp=T0, message_id=42)  # type: ignore[arg-type]
    assert str(info.value) == "message_id must be a str, not int"


@pytest.mark.parametrize("control", ["\x00", "\x1f", "\x7f", "\n"])
def test_control_characters_in_a_message_id_are_refused(control: str) -> None:
    with pytest.raises(ValueError) as info:
        sign(BODY, SECRET, scheme="standard", timestamp=T0, message_id=f"evt{control}1")
    assert str(info.value) == "message_id must not contain control characters"


@pytest.mark.parametrize("edge", [" ", "\x80", "é"])
def test_space_and_characters_past_delete_are_allowed_in_a_message_id(edge: str) -> None:
    headers = sign(BODY, SECRET, scheme="standard", timestamp=T0, message_id=f"evt{edge}1")
    assert headers["webhook-id"] == f"evt{edge}1"


def test_a_message_id_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValueError) as info:
        sign(BODY, SECRET, scheme="standard", timestamp=T0, message_id="evt\ud800")
    assert str(info.value) == "message_id is not encodable as UTF-8"
