"""The webhook rules as pure functions: examples plus hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_semble.webhooks.rules import (
    RuleError,
    check_event_types,
    check_headers,
    check_label,
    check_url,
    url_key,
    utf16_length,
)

# Written from SPEC §1.4 and §2.3, never imported from the code under test.
MSG_URL = "url must be a valid HTTPS URL"
MSG_EVENT_COUNT = "eventTypes must contain between 1 and 10 event types"
MSG_EVENT_DUPLICATES = "eventTypes must not contain duplicates"
MSG_LABEL = "label must be between 1 and 256 characters"
RESERVED_HEADERS = (
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
    "user-agent",
    "x-webhook-signature",  # semble, hmac-sha256-hex, hmac-sha256-base64
    "x-webhook-timestamp",  # semble
    "webhook-id",  # standard
    "webhook-timestamp",
    "webhook-signature",
)
TEN_EVENT_TYPES = [
    "patient.created",
    "patient.updated",
    "patient.deleted",
    "patient.archived",
    "patient.unarchived",
    "patient.label.added",
    "patient.label.removed",
    "patient.phone.added",
    "patient.phone.updated",
    "patient.phone.removed",
]
ELEVENTH_EVENT_TYPE = "patient.relationship.added"
TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
hosts = st.from_regex(r"\A[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}\Z")
paths = st.from_regex(r"\A(/[A-Za-z0-9._~-]{0,12}){0,4}\Z")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "https://example.com/hooks?x=1#frag",
        "HTTPS://EXAMPLE.com:8443/a",
        "https://[2001:db8::1]/hook",
        "https://127.0.0.1/h",
    ],
)
def test_valid_https_urls(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://example.com/hook",
        "ftp://example.com",
        "example.com/hook",
        "https://",
        "https:///path",
        "https://user:pw@example.com/",
        "https://user@example.com/",
        "https://exa mple.com/",
        "https://example.com/\nx",
        "https://example.com:99999/",
        "https://example.com:0/",
        "https://[::1/",
        "//example.com/",
        "https://example.com/" + "a" * 2048,
        None,
        42,
    ],
)
def test_invalid_urls(url: object) -> None:
    with pytest.raises(RuleError) as err:
        check_url(url)
    assert err.value.message == MSG_URL
    assert (err.value.code, err.value.status) == ("INVALID_URL", 400)


def test_url_length_limit_is_2048() -> None:
    base = "https://example.com/"
    assert check_url(base + "a" * (2048 - len(base)))
    with pytest.raises(RuleError):
        check_url(base + "a" * (2049 - len(base)))


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://localhost:8080/h", True),
        ("http://127.0.0.1/h", True),
        ("http://127.8.9.10:1/h", True),
        ("http://[::1]:9000/h", True),
        ("http://example.com/h", False),
        ("http://10.0.0.1/h", False),
        ("http://[::2]/h", False),
        ("http://localhost.example.com/h", False),
    ],
)
def test_allow_http_localhost(url: str, allowed: bool) -> None:
    with pytest.raises(RuleError):
        check_url(url)  # never without the option
    if allowed:
        assert check_url(url, allow_http_localhost=True) == url
    else:
        with pytest.raises(RuleError):
            check_url(url, allow_http_localhost=True)


@given(host=hosts, path=paths, port=st.sampled_from(["", ":443", ":8443"]))
def test_https_urls_with_a_host_are_accepted(host: str, path: str, port: str) -> None:
    url = f"https://{host}{port}{path}"
    assert check_url(url) == url


@given(host=hosts, path=paths, user=st.from_regex(r"\A[a-z]{1,8}(:[a-z]{0,8})?\Z"))
def test_user_info_is_always_refused(host: str, path: str, user: str) -> None:
    with pytest.raises(RuleError):
        check_url(f"https://{user}@{host}{path}")


@given(host=hosts, path=paths, query=st.from_regex(r"\A(\?[a-z=&0-9]{0,10})?\Z"))
def test_url_key_normalises_scheme_host_and_default_port_only(
    host: str, path: str, query: str
) -> None:
    plain = f"https://{host}{path}{query}"
    shouted = f"HTTPS://{host.upper()}:443{path}{query}"
    assert url_key(plain) == url_key(shouted)
    assert url_key(plain) != url_key(f"https://{host}:8443{path}{query}")
    if path:
        assert url_key(plain) != url_key(f"https://{host}{path.upper()}x{query}")


def test_url_key_keeps_path_and_query_exact() -> None:
    assert url_key("https://a.com/Hook") != url_key("https://a.com/hook")
    assert url_key("https://a.com/h?a=1") != url_key("https://a.com/h?A=1")
    assert url_key("https://a.com") != url_key("https://a.com/")
    assert url_key("http://a.com:80/x") == url_key("http://A.COM/x")


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], MSG_EVENT_COUNT),
        (None, MSG_EVENT_COUNT),
        (["patient.created"] * 11, MSG_EVENT_COUNT),
        ([*TEN_EVENT_TYPES, ELEVENTH_EVENT_TYPE], MSG_EVENT_COUNT),
        (["patient.created", "patient.created"], MSG_EVENT_DUPLICATES),
    ],
)
def test_event_type_rules(events: list[str] | None, message: str) -> None:
    with pytest.raises(RuleError) as err:
        check_event_types(events)
    assert err.value.message == message
    assert err.value.code == "INVALID_EVENT_TYPES"


def test_ten_distinct_event_types_are_the_most_accepted() -> None:
    assert check_event_types(TEN_EVENT_TYPES) == tuple(TEN_EVENT_TYPES)
    assert check_event_types(TEN_EVENT_TYPES[:1]) == ("patient.created",)


@given(st.lists(st.sampled_from(TEN_EVENT_TYPES), min_size=1, max_size=10, unique=True))
def test_distinct_event_types_are_accepted_in_order(events: list[str]) -> None:
    assert check_event_types(events) == tuple(events)


# -- label: UTF-16 code units, as JavaScript counts ----------------------------

astral = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)
bmp = st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs", "Zs", "Cc"))


@given(st.text(alphabet=st.one_of(astral, bmp), min_size=1, max_size=300))
def test_utf16_length_matches_encoding(text: str) -> None:
    assert utf16_length(text) == len(text.encode("utf-16-le")) // 2


@given(n=st.integers(min_value=1, max_value=128))
def test_label_counts_astral_characters_twice(n: int) -> None:
    label = "\U0001f600" * n  # 2 code units each
    assert check_label(label) == label
    with pytest.raises(RuleError):
        check_label("\U0001f600" * (128 + n))


def test_label_boundaries() -> None:
    assert check_label("a" * 256)
    assert check_label("a" * 254 + "\U0001f600")  # exactly 256 units
    for bad in ("", " ", "\t\n ", "a" * 257, "a" * 255 + "\U0001f600", None):
        with pytest.raises(RuleError) as err:
            check_label(bad)
        assert (err.value.message, err.value.code) == (MSG_LABEL, "INVALID_LABEL")


# -- headers ---------------------------------------------------------------------

header_keys = st.text(alphabet=TCHARS, min_size=1, max_size=40).filter(
    lambda k: k.lower() not in RESERVED_HEADERS
)
VISIBLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))
# SPEC §1.4: visible ASCII with inner spaces/tabs, no leading or trailing white space.
header_values = st.text(alphabet=VISIBLE_ASCII + " \t", max_size=100).map(lambda v: v.strip(" \t"))


@given(
    st.lists(st.tuples(header_keys, header_values), max_size=20, unique_by=lambda h: h[0].lower())
)
def test_valid_headers_are_kept_in_order(headers: list[tuple[str, str]]) -> None:
    assert check_headers(headers) == tuple(headers)


@given(key=header_keys, bad=st.sampled_from(["\r", "\n", "\x00"]), value=header_values)
def test_header_values_refuse_cr_lf_nul(key: str, bad: str, value: str) -> None:
    with pytest.raises(RuleError) as err:
        check_headers([(key, value + bad)])
    assert err.value.message.startswith("invalid header: ")
    assert err.value.code == "INVALID_HEADERS"


@given(key=st.text(min_size=1, max_size=20).filter(lambda k: any(c not in TCHARS for c in k)))
def test_header_keys_must_be_tokens(key: str) -> None:
    with pytest.raises(RuleError):
        check_headers([(key, "v")])


@pytest.mark.parametrize("value", [" v", "v ", "\tv", "v\t", "é", "v\x7f", "v\x01", "\u2028", " "])
def test_header_values_outside_visible_ascii_or_padded_are_refused(value: str) -> None:
    with pytest.raises(RuleError) as err:
        check_headers([("X-A", value)])
    assert err.value.message == (
        "invalid header: value of 'X-A' must be visible ASCII with inner spaces or tabs only"
    )


def test_inner_spaces_and_tabs_and_empty_values_are_kept() -> None:
    assert check_headers([("X-A", "a b\tc"), ("X-B", "")]) == (("X-A", "a b\tc"), ("X-B", ""))


@pytest.mark.parametrize("key", RESERVED_HEADERS)
def test_reserved_header_names_refused_in_any_case(key: str) -> None:
    for variant in (key, key.upper(), key.title()):
        with pytest.raises(RuleError) as err:
            check_headers([(variant, "x")])
        assert "reserved" in err.value.message


def test_header_limits() -> None:
    assert check_headers(None) is None
    assert check_headers([]) == ()
    assert check_headers([(f"X-{i}", "v") for i in range(20)])
    assert check_headers([("K" * 256, "v" * 4096)])
    bad_cases = [
        [(f"X-{i}", "v") for i in range(21)],
        [("K" * 257, "v")],
        [("", "v")],
        [("X-A", "v" * 4097)],
        [("X-Dup", "1"), ("x-dup", "2")],
    ]
    for headers in bad_cases:
        with pytest.raises(RuleError) as err:
            check_headers(headers)
        assert err.value.message.startswith("invalid header: ")
        assert (err.value.code, err.value.status) == ("INVALID_HEADERS", 400)


@pytest.mark.parametrize("key", ["X-A\n", "X-A\r\n", "\nX-A"])
def test_header_keys_with_line_breaks_are_refused(key: str) -> None:
    # a regex ending in "$" matches before a trailing newline: the rule must not
    with pytest.raises(RuleError):
        check_headers([(key, "v")])


def test_object_ids_admit_no_trailing_newline() -> None:
    from mock_semble.core.ids import is_object_id

    assert is_object_id("0" * 24)
    assert not is_object_id("0" * 24 + "\n")
