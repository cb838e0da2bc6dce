"""The patient rules of SPEC §3 (messages, codes and statuses are stable API)."""

from __future__ import annotations

import string
import time as clock
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_semble.core.errors import RuleError
from mock_semble.patients import rules
from mock_semble.patients.models import PatientRelationshipType

SSN_ALPHABET = "0123456789AB"
WHITESPACE = " \t\n\r\x0b\x0c\u00a0\u2003"
ATOM = st.text(alphabet=string.ascii_letters + string.digits + "+-_", min_size=1, max_size=20)
LABEL = st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12)


def _error(exc: pytest.ExceptionInfo[RuleError]) -> tuple[str, str, int]:
    return exc.value.message, exc.value.code, exc.value.status


# -- error constructors: SPEC §3's table ---------------------------------------------------


def test_error_constructors_match_the_table() -> None:
    cases = {
        rules.patient_not_found(): ("Patient not found", "NOT_FOUND", 404),
        rules.record_not_found("Phone"): ("Phone not found", "NOT_FOUND", 404),
        rules.unknown_reference("membership", "0000000000000000000000c9"): (
            "Unknown membership: 0000000000000000000000c9",
            "INVALID_REFERENCE",
            400,
        ),
        rules.mixed_arguments(): (
            "patientData cannot be combined with other arguments",
            "INVALID_ARGUMENTS",
            400,
        ),
        rules.names_required(): ("first and last names are required", "INVALID_PATIENT", 400),
        rules.invalid_email(): ("invalid email", "INVALID_PATIENT", 400),
        rules.invalid_ssn(): (
            "socialSecurityNumber must be 15 characters of digits, A or B",
            "INVALID_PATIENT",
            400,
        ),
        rules.already_archived(): ("Patient is already archived", "INVALID_STATE", 409),
        rules.not_archived(): ("Patient is not archived", "INVALID_STATE", 409),
    }
    for error, expected in cases.items():
        assert (error.message, error.code, error.status) == expected


def test_a_long_unknown_reference_is_cut_in_the_message() -> None:
    error = rules.unknown_reference("label definition", "x" * 1000)
    assert error.message == "Unknown label definition: " + "x" * 64 + "…"


# -- names ---------------------------------------------------------------------------------


@given(st.text(alphabet=WHITESPACE, max_size=10))
def test_blank_names_are_refused(name: str) -> None:
    with pytest.raises(RuleError) as exc:
        rules.check_name(name)
    assert _error(exc) == ("first and last names are required", "INVALID_PATIENT", 400)


def test_a_missing_name_is_refused() -> None:
    with pytest.raises(RuleError, match=r"^first and last names are required$"):
        rules.check_name(None)


@given(st.text(min_size=1).filter(lambda s: s.strip() != ""))
def test_names_with_content_are_kept_as_given(name: str) -> None:
    assert rules.check_name(name) == name


# -- email ---------------------------------------------------------------------------------


@given(
    ATOM,
    LABEL,
    st.lists(
        st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=6), min_size=1, max_size=3
    ),
)
def test_addresses_are_accepted(local: str, host: str, tlds: list[str]) -> None:
    email = f"{local}@{host}." + ".".join(tlds)
    assert rules.check_email(email) == email


@given(
    st.one_of(
        ATOM,  # no @
        st.builds(lambda a, b: f"{a}@{b}", ATOM, LABEL),  # no dot in the domain
        st.builds(lambda a, b: f"{a}@@{b}.com", ATOM, LABEL),
        st.builds(lambda a, b: f"{a} x@{b}.com", ATOM, LABEL),
        st.builds(lambda a, b: f"{a}@{b}..com", ATOM, LABEL),
        st.builds(lambda a: f"@{a}.com", LABEL),
        st.builds(lambda a: f"{a}@.com", ATOM),
    )
)
def test_non_addresses_are_refused(email: str) -> None:
    with pytest.raises(RuleError) as exc:
        rules.check_email(email)
    assert _error(exc) == ("invalid email", "INVALID_PATIENT", 400)


def test_an_address_over_254_characters_is_refused() -> None:
    email = "a" * 246 + "@ex.ample"  # 255 characters
    with pytest.raises(RuleError, match=r"^invalid email$"):
        rules.check_email(email)
    assert rules.check_email(email[1:]) == email[1:]


def test_an_empty_email_means_none() -> None:
    assert rules.check_email("") is None
    assert rules.check_email(None) is None


# -- social security number ----------------------------------------------------------------


@given(st.text(alphabet=SSN_ALPHABET, min_size=15, max_size=15))
def test_fifteen_digits_a_or_b_are_accepted(ssn: str) -> None:
    assert rules.check_ssn(ssn) == ssn


@given(
    st.one_of(
        st.text(alphabet=SSN_ALPHABET, min_size=1, max_size=30).filter(lambda s: len(s) != 15),
        st.tuples(
            st.text(alphabet=SSN_ALPHABET, min_size=14, max_size=14),
            st.characters().filter(lambda c: c not in SSN_ALPHABET),
            st.integers(0, 14),
        ).map(lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]),
    )
)
def test_anything_else_is_refused(ssn: str) -> None:
    with pytest.raises(RuleError) as exc:
        rules.check_ssn(ssn)
    assert _error(exc) == (
        "socialSecurityNumber must be 15 characters of digits, A or B",
        "INVALID_PATIENT",
        400,
    )


def test_lower_case_a_and_b_are_refused() -> None:
    with pytest.raises(RuleError):
        rules.check_ssn("12345678901234a")


# -- pagination ----------------------------------------------------------------------------


def test_pagination_defaults() -> None:
    assert rules.check_pagination(None, None) == (1, 20)


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=100))
def test_pagination_in_bounds_is_kept(page: int, size: int) -> None:
    assert rules.check_pagination(page, size) == (page, size)


@given(st.integers(max_value=0), st.none() | st.integers(1, 100))
def test_a_page_below_one_is_refused(page: int, size: int | None) -> None:
    with pytest.raises(rules.PaginationError, match=r"^page must be at least 1$"):
        rules.check_pagination(page, size)


@given(st.none() | st.integers(min_value=1), st.integers(max_value=0) | st.integers(min_value=101))
def test_a_page_size_out_of_bounds_is_refused(page: int | None, size: int) -> None:
    with pytest.raises(rules.PaginationError, match=r"^pageSize must be between 1 and 100$"):
        rules.check_pagination(page, size)


# -- derived values ------------------------------------------------------------------------


def test_full_name_joins_the_given_parts() -> None:
    assert rules.full_name("Dr", "Ada", "Lovelace") == "Dr Ada Lovelace"
    assert rules.full_name(None, "Ada", "Lovelace") == "Ada Lovelace"
    assert rules.full_name("", "Ada", "Lovelace") == "Ada Lovelace"


@given(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-11))])))
def test_a_date_time_keeps_its_utc_date(moment: datetime) -> None:
    assert rules.utc_date(moment) == moment.astimezone(UTC).date()


@given(st.dates())
def test_a_plain_date_range_covers_the_whole_day(day: date) -> None:
    start = rules.range_start(day)
    end = rules.range_end(day)
    assert start == datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert end == datetime(day.year, day.month, day.day, 23, 59, 59, 999000, tzinfo=UTC)


def test_date_time_range_ends_are_kept() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    assert rules.range_start(moment) == moment
    assert rules.range_end(moment) == moment
    assert rules.range_start(None) is None


@given(
    st.text(alphabet=string.digits, min_size=1, max_size=15),
    st.lists(st.sampled_from(" -().+/"), max_size=8),
    st.randoms(use_true_random=False),
)
def test_phone_keys_ignore_spaces_and_punctuation(
    digits: str, noise: list[str], rnd: object
) -> None:
    chars = list(digits)
    for mark in noise:
        chars.insert(rnd.randint(0, len(chars)), mark)  # type: ignore[attr-defined]
    assert rules.phone_key("".join(chars)) == digits


def test_relationship_labels() -> None:
    other = PatientRelationshipType.OTHER
    assert rules.relationship_label(other, "Godmother") == "Godmother"
    assert rules.relationship_label(other, None) == "Other"
    assert rules.relationship_label(other, "  ") == "Other"
    assert rules.relationship_label(PatientRelationshipType.GP, "ignored") == "GP"
    assert rules.relationship_label(PatientRelationshipType.NEXT_OF_KIN, None) == "Next of kin"


# -- edges the generated examples may miss -----------------------------------------------------


def test_the_edges_of_pagination_echoed_ids_and_empty_numbers() -> None:
    assert rules.check_pagination(1, 100) == (1, 100)
    assert rules.check_pagination(1, 1) == (1, 1)
    exact = rules.unknown_reference("label definition", "x" * 64)
    assert exact.message == "Unknown label definition: " + "x" * 64  # 64: shown whole
    assert rules.check_ssn("") is None
    assert rules.check_ssn(None) is None


@pytest.fixture
def new_york_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is not UTC (a naive value must not take it)."""
    monkeypatch.setenv("TZ", "America/New_York")
    clock.tzset()
    yield
    monkeypatch.undo()
    clock.tzset()


@pytest.mark.usefixtures("new_york_local_time")
def test_a_naive_date_time_is_utc_and_an_offset_is_kept() -> None:
    assert rules.utc_date(datetime(2026, 1, 1, 23, 30)) == date(2026, 1, 1)  # NY: Jan 1
    naive = datetime(2026, 1, 2, 2, 30)  # 21:30 the day before in New York
    assert rules.utc_date(naive) == date(2026, 1, 2)
    as_utc = datetime(2026, 1, 2, 2, 30, tzinfo=UTC)
    for bound in (rules.range_start, rules.range_end):
        assert bound(naive) == as_utc
        kept = bound(naive.replace(tzinfo=timezone(timedelta(hours=2))))
        assert kept is not None and kept.utcoffset() == timedelta(hours=2)
        assert kept == as_utc - timedelta(hours=2)
