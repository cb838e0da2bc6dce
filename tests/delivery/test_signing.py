"""Tests for mock_semble.signing (SPEC §2.3).

The expected signatures are computed here independently of ``signing.sign``: with
``hmac.new`` straight from the SPEC table for ``semble`` and the plain HMAC schemes, and with
the ``standardwebhooks`` reference library for ``standard``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import mock_semble
from mock_semble.delivery import signing
from mock_semble.delivery.signing import (
    DEFAULT_SCHEME,
    DEFAULT_TOLERANCE,
    SIGNING_HEADERS,
    SIGNING_SCHEMES,
    InvalidSignature,
    MissingSignature,
    SignatureError,
    StaleTimestamp,
    sign,
    verify,
)

T0 = 1_700_000_000
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
BODY = b'{"eventType":"patient.created","data":{"id":"p_1"}}'
TIMESTAMPED = ("semble", "standard")
UNTIMESTAMPED = ("hmac-sha256-hex", "hmac-sha256-base64")
SIG_HEADER = {
    "semble": "X-Webhook-Signature",
    "standard": "webhook-signature",
    "hmac-sha256-hex": "X-Webhook-Signature",
    "hmac-sha256-base64": "X-Webhook-Signature",
}
TS_HEADER = {"semble": "X-Webhook-Timestamp", "standard": "webhook-timestamp"}
REQUIRED = {
    "semble": ["X-Webhook-Signature"],
    "standard": ["webhook-id", "webhook-timestamp", "webhook-signature"],
    "hmac-sha256-hex": ["X-Webhook-Signature"],
    "hmac-sha256-base64": ["X-Webhook-Signature"],
}


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def _sign(body: bytes, scheme: str, secret: str = SECRET, ts: int = T0) -> dict[str, str]:
    return sign(body, secret, scheme=scheme, timestamp=ts, message_id="evt_123")


# --------------------------------------------------------------------------- strategies

bodies = st.binary(max_size=300)
utf8_secrets = st.text(min_size=1, max_size=60)
std_secrets = st.builds(
    lambda raw, prefixed: ("whsec_" if prefixed else "") + base64.b64encode(raw).decode(),
    st.binary(min_size=1, max_size=64),
    st.booleans(),
)
timestamps = st.integers(min_value=0, max_value=2**40)
message_ids = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40
)
# Any character a header value could be mutated to (no lone surrogates).
replacement_chars = st.characters(max_codepoint=0x2FF)


@st.composite
def scheme_and_secret(draw: st.DrawFn, schemes: tuple[str, ...] = SIGNING_SCHEMES) -> tuple:
    scheme = draw(st.sampled_from(schemes))
    secret = draw(std_secrets if scheme == "standard" else st.one_of(utf8_secrets, std_secrets))
    return scheme, secret


def _mutate(text: str, index: int, char: str) -> str:
    return text[:index] + char + text[index + 1 :]


# --------------------------------------------------------------------------- constants


def test_public_constants() -> None:
    assert SIGNING_SCHEMES == ("semble", "standard", "hmac-sha256-hex", "hmac-sha256-base64")
    assert DEFAULT_SCHEME == "semble"
    assert DEFAULT_TOLERANCE == 300
    expected_headers = {
        "x-webhook-signature",
        "x-webhook-timestamp",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
    assert isinstance(SIGNING_HEADERS, frozenset)
    assert expected_headers == SIGNING_HEADERS
    for exc in (MissingSignature, InvalidSignature, StaleTimestamp):
        assert issubclass(exc, SignatureError)
    assert issubclass(SignatureError, ValueError)


def test_lazy_package_exports() -> None:
    assert mock_semble.sign is sign
    assert mock_semble.verify is verify
    assert mock_semble.StaleTimestamp is StaleTimestamp


@pytest.mark.parametrize(
    ("scheme", "names"),
    [
        ("semble", ["X-Webhook-Signature", "X-Webhook-Timestamp"]),
        ("standard", ["webhook-id", "webhook-timestamp", "webhook-signature"]),
        ("hmac-sha256-hex", ["X-Webhook-Signature"]),
        ("hmac-sha256-base64", ["X-Webhook-Signature"]),
    ],
)
def test_headers_in_table_order(scheme: str, names: list[str]) -> None:
    headers = _sign(BODY, scheme)
    assert list(headers) == names
    assert {name.lower() for name in headers} <= SIGNING_HEADERS
    assert all(isinstance(v, str) for v in headers.values())


def test_signing_headers_is_union_of_all_schemes() -> None:
    seen = {name.lower() for s in SIGNING_SCHEMES for name in _sign(BODY, s)}
    assert seen == SIGNING_HEADERS


def test_import_is_stdlib_only() -> None:
    root = Path(signing.__file__).resolve().parent.parent
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import mock_semble.delivery.signing\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "bad = new - set(sys.stdlib_module_names) - {'mock_semble'}\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=root)


# --------------------------------------------------------------------------- semble scheme


def _independent_semble_check(body: bytes, headers: Mapping[str, str], secret: str) -> None:
    """Verify from the SPEC table only: t=<unix s>,v1=<hex>; HMAC-SHA256(secret, "<t>.<body>")."""
    match = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", headers["X-Webhook-Signature"])
    assert match, headers
    t, sig = match.groups()
    assert headers["X-Webhook-Timestamp"] == t
    expected = hmac.new(secret.encode("utf-8"), t.encode() + b"." + body, hashlib.sha256)
    assert sig == expected.hexdigest()


def test_semble_known_answer() -> None:
    headers = sign(BODY, SECRET, timestamp=T0)  # semble is the default scheme
    _independent_semble_check(BODY, headers, SECRET)
    assert headers["X-Webhook-Timestamp"] == str(T0)


@given(body=bodies, secret=st.one_of(utf8_secrets, std_secrets), ts=timestamps)
def test_semble_matches_spec_table(body: bytes, secret: str, ts: int) -> None:
    _independent_semble_check(body, sign(body, secret, scheme="semble", timestamp=ts), secret)


def test_semble_verify_accepts_hand_built_headers() -> None:
    t = str(T0)
    digest = hmac.new(SECRET.encode(), f"{t}.".encode() + BODY, hashlib.sha256).hexdigest()
    verify(
        BODY,
        {"X-Webhook-Signature": f"t={t},v1={digest}", "X-Webhook-Timestamp": t},
        SECRET,
        now=T0,
    )
    # X-Webhook-Timestamp is optional; extra versions are ignored; several v1 entries allowed.
    verify(BODY, {"X-Webhook-Signature": f"t={t},v1={digest}"}, SECRET, now=T0)
    verify(BODY, {"X-Webhook-Signature": f"t={t},v0=abc,v1={'0' * 64},v1={digest}"}, SECRET, now=T0)
    verify(BODY, {"X-Webhook-Signature": f"t={t}, v1={digest}"}, SECRET, now=T0)


def test_semble_timestamp_header_must_equal_t() -> None:
    headers = _sign(BODY, "semble")
    headers["X-Webhook-Timestamp"] = str(T0 + 1)
    with pytest.raises(InvalidSignature, match="X-Webhook-Timestamp"):
        verify(BODY, headers, SECRET, now=T0)


@pytest.mark.parametrize(
    "value",
    [
        "v1=" + "0" * 64,  # no t
        f"t={T0}",  # no v1
        f"t={T0},t={T0},v1=" + "0" * 64,  # duplicate t
        "t=abc,v1=" + "0" * 64,  # non-numeric t
        "t=-5,v1=" + "0" * 64,
        "t=1e9,v1=" + "0" * 64,
        "t=1_000,v1=" + "0" * 64,
        "t=\uff11\uff17\uff10\uff10,v1=" + "0" * 64,
        f"t={T0};v1=" + "0" * 64,
        "garbage",
        f"t={'9' * 500},v1=" + "0" * 64,
    ],
)
def test_semble_malformed_header(value: str) -> None:
    with pytest.raises(InvalidSignature):
        verify(BODY, {"X-Webhook-Signature": value}, SECRET, now=T0)


def test_semble_rejects_uppercase_hex() -> None:
    digest = hmac.new(SECRET.encode(), f"{T0}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert re.search("[a-f]", digest)
    with pytest.raises(InvalidSignature):
        verify(BODY, {"X-Webhook-Signature": f"t={T0},v1={digest.upper()}"}, SECRET, now=T0)


# --------------------------------------------------------------------------- plain HMAC schemes


@given(body=bodies, secret=st.one_of(utf8_secrets, std_secrets))
def test_hmac_hex_matches_spec_table(body: bytes, secret: str) -> None:
    headers = sign(body, secret, scheme="hmac-sha256-hex")
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    assert headers == {"X-Webhook-Signature": "sha256=" + expected}


@given(body=bodies, secret=st.one_of(utf8_secrets, std_secrets))
def test_hmac_base64_matches_spec_table(body: bytes, secret: str) -> None:
    headers = sign(body, secret, scheme="hmac-sha256-base64")
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest())
    assert headers == {"X-Webhook-Signature": expected.decode("ascii")}


def test_plain_hmac_verify_accepts_hand_built_headers() -> None:
    mac = _hmac(SECRET.encode(), BODY)
    verify(BODY, {"x-webhook-signature": "sha256=" + mac.hex()}, SECRET, scheme="hmac-sha256-hex")
    verify(
        BODY,
        {"X-WEBHOOK-SIGNATURE": base64.b64encode(mac).decode()},
        SECRET,
        scheme="hmac-sha256-base64",
    )
    with pytest.raises(InvalidSignature):  # wrong prefix
        verify(BODY, {"X-Webhook-Signature": "sha1=" + mac.hex()}, SECRET, scheme="hmac-sha256-hex")
    with pytest.raises(InvalidSignature):  # hex is for the other scheme
        verify(BODY, {"X-Webhook-Signature": mac.hex()}, SECRET, scheme="hmac-sha256-base64")


def test_plain_hmac_schemes_ignore_timestamps() -> None:
    for scheme in UNTIMESTAMPED:
        headers = sign(BODY, SECRET, scheme=scheme, timestamp=0)
        assert headers == sign(BODY, SECRET, scheme=scheme, timestamp=T0)
        verify(BODY, headers, SECRET, scheme=scheme, now=T0 * 2, tolerance=0)


# --------------------------------------------------------------------------- standard scheme


def test_standard_known_answer_from_standard_webhooks_suite() -> None:
    # Test vector used across the Standard Webhooks / Svix reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = sign(
        b'{"test": 2432232314}',
        secret,
        scheme="standard",
        timestamp=1614265330,
        message_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
    )
    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_standard_verified_by_standardwebhooks_library() -> None:
    now = int(datetime.now(UTC).timestamp())  # the library checks against the real clock
    payload = {"eventType": "patient.updated", "data": {"id": "p_9", "name": "Zoë"}}
    body = json.dumps(payload).encode()
    headers = sign(body, SECRET, scheme="standard", timestamp=now, message_id="evt_abc")
    assert Webhook(SECRET).verify(body, headers) == payload
    # The library also takes the secret without its whsec_ prefix, and so do we.
    bare = SECRET.removeprefix("whsec_")
    assert sign(body, bare, scheme="standard", timestamp=now, message_id="evt_abc") == headers
    # ... and it rejects our signature for another body or secret.
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body + b" ", headers)
    other = "whsec_" + base64.b64encode(b"\x01" * 32).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)


@settings(max_examples=60)
@given(body=st.text(max_size=200), secret=std_secrets, msg_id=message_ids)
def test_standard_property_against_standardwebhooks(body: str, secret: str, msg_id: str) -> None:
    now = int(datetime.now(UTC).timestamp())
    headers = sign(body.encode(), secret, scheme="standard", timestamp=now, message_id=msg_id)
    Webhook(secret).verify(body.encode(), headers, json_parse=False)

    # The reverse direction: the library signs, we verify.
    ts = datetime.fromtimestamp(T0, tz=UTC)
    lib_sig = Webhook(secret).sign(msg_id, ts, body)
    lib_headers = {"webhook-id": msg_id, "webhook-timestamp": str(T0), "webhook-signature": lib_sig}
    verify(body.encode(), lib_headers, secret, scheme="standard", now=T0)
    verify(body, lib_headers, secret, scheme="standard", now=T0)


def test_standard_accepts_library_signature_among_several() -> None:
    ts = datetime.fromtimestamp(T0, tz=UTC)
    good = Webhook(SECRET).sign("evt_1", ts, BODY.decode())
    old_secret = "whsec_" + base64.b64encode(b"old-secret-rotated-away-32bytes!").decode()
    stale = Webhook(old_secret).sign("evt_1", ts, BODY.decode())
    for value in (f"{stale} {good}", f"{good} {stale}", f"v1a,xyz {good}", f"{stale}  {good}"):
        headers = {"webhook-id": "evt_1", "webhook-timestamp": str(T0), "webhook-signature": value}
        verify(BODY, headers, SECRET, scheme="standard", now=T0)
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(T0), "webhook-signature": stale}
    with pytest.raises(InvalidSignature):
        verify(BODY, headers, SECRET, scheme="standard", now=T0)


@pytest.mark.parametrize(
    "value", ["v1a,abc", "v2," + "A" * 44, "nocomma", "v1" + "A" * 44, "V1," + "A" * 44]
)
def test_standard_no_v1_signature(value: str) -> None:
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(T0), "webhook-signature": value}
    with pytest.raises(InvalidSignature):
        verify(BODY, headers, SECRET, scheme="standard", now=T0)


@pytest.mark.parametrize("ts", ["abc", "1.5e9", "-1", "1_700_000_000", "\uff11\uff17\uff10\uff10"])
def test_standard_malformed_timestamp(ts: str) -> None:
    headers = _sign(BODY, "standard")
    headers["webhook-timestamp"] = ts
    with pytest.raises(InvalidSignature):
        verify(BODY, headers, SECRET, scheme="standard", now=T0)


def test_standard_needs_message_id() -> None:
    for bad in (None, ""):
        with pytest.raises(ValueError, match="message_id"):
            sign(BODY, SECRET, scheme="standard", timestamp=T0, message_id=bad)
    with pytest.raises(ValueError, match="control"):
        sign(BODY, SECRET, scheme="standard", timestamp=T0, message_id="evt\r\nX-Evil: 1")


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", "", "whsec_abcde"])
def test_standard_rejects_unusable_secret(secret: str) -> None:
    with pytest.raises(ValueError) as sign_err:
        sign(BODY, secret, scheme="standard", timestamp=T0, message_id="evt_1")
    assert not isinstance(sign_err.value, SignatureError)
    with pytest.raises(ValueError) as verify_err:
        verify(BODY, _sign(BODY, "standard"), secret, scheme="standard", now=T0)
    assert not isinstance(verify_err.value, SignatureError)
    if len(secret) > len("whsec_"):
        assert secret not in str(sign_err.value) and secret not in str(verify_err.value)


def test_standard_secret_padding_optional() -> None:
    raw = b"0123456789abcdefghijklmnopqrstu"  # 31 bytes -> base64 ends with "="
    padded = "whsec_" + base64.b64encode(raw).decode()
    assert padded.endswith("=")
    args = {"scheme": "standard", "timestamp": T0, "message_id": "evt_1"}
    assert sign(BODY, padded.rstrip("="), **args) == sign(BODY, padded, **args)


# --------------------------------------------------------------------------- round trips


@given(data=scheme_and_secret(), body=bodies, ts=timestamps, msg_id=message_ids)
def test_round_trip_every_scheme(data: tuple, body: bytes, ts: int, msg_id: str) -> None:
    scheme, secret = data
    headers = sign(body, secret, scheme=scheme, timestamp=ts, message_id=msg_id)
    verify(body, headers, secret, scheme=scheme, now=ts)
    verify(body, headers, secret, scheme=scheme, now=ts + DEFAULT_TOLERANCE)
    verify(body, headers, secret, scheme=scheme, now=ts - DEFAULT_TOLERANCE, tolerance=300)


@given(data=scheme_and_secret(), body=st.text(max_size=100))
def test_str_body_is_utf8(data: tuple, body: str) -> None:
    scheme, secret = data
    headers = _sign(body.encode("utf-8"), scheme, secret)
    assert sign(body, secret, scheme=scheme, timestamp=T0, message_id="evt_123") == headers
    verify(body, headers, secret, scheme=scheme, now=T0)


@given(data=scheme_and_secret(), other=st.one_of(utf8_secrets, std_secrets), body=bodies)
def test_wrong_secret_fails(data: tuple, other: str, body: bytes) -> None:
    scheme, secret = data
    headers = _sign(body, scheme, secret)
    if scheme == "standard":
        try:
            keys = [signing._standard_key(s) for s in (secret, other)]
        except ValueError:
            keys = [b"", b""]
        assume(keys[0])
    else:
        keys = [s.encode() for s in (secret, other)]
    # HMAC zero-pads short keys, so "k" and "k\x00" are the same key; skip such pairs.
    assume(keys[0].rstrip(b"\0") != keys[1].rstrip(b"\0"))
    with pytest.raises(InvalidSignature):
        verify(body, headers, other, scheme=scheme, now=T0)


def test_default_timestamp_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signing.time, "time", lambda: T0 + 0.9)
    for scheme in TIMESTAMPED:
        headers = sign(BODY, SECRET, scheme=scheme, message_id="evt_1")
        assert headers[TS_HEADER[scheme]] == str(T0)
        verify(BODY, headers, SECRET, scheme=scheme)  # now defaults to the clock too
    monkeypatch.setattr(signing.time, "time", lambda: T0 + 301.0)
    for scheme in TIMESTAMPED:
        with pytest.raises(StaleTimestamp):
            verify(BODY, _sign(BODY, scheme), SECRET, scheme=scheme)


def test_each_call_restamps() -> None:
    first = _sign(BODY, "semble", ts=T0)
    second = _sign(BODY, "semble", ts=T0 + 60)  # a retry: same body, new attempt time
    assert first != second
    verify(BODY, second, SECRET, now=T0 + 60, tolerance=0)


# --------------------------------------------------------------------------- tampering


@given(
    data=scheme_and_secret(),
    body=st.binary(min_size=1, max_size=200),
    index=st.integers(min_value=0),
    delta=st.integers(min_value=1, max_value=255),
)
def test_any_body_byte_change_fails(data: tuple, body: bytes, index: int, delta: int) -> None:
    scheme, secret = data
    headers = _sign(body, scheme, secret)
    i = index % len(body)
    tampered = body[:i] + bytes([body[i] ^ delta]) + body[i + 1 :]
    with pytest.raises(InvalidSignature):
        verify(tampered, headers, secret, scheme=scheme, now=T0)


def _timestamp_locations(scheme: str, headers: dict[str, str]) -> Iterator[tuple[str, int]]:
    """(header, index) of every character of the timestamp, wherever the scheme carries it."""
    ts_header = TS_HEADER[scheme]
    for i in range(len(headers[ts_header])):
        yield ts_header, i
    if scheme == "semble":
        value = headers["X-Webhook-Signature"]
        start = value.index("t=") + 2
        for i in range(start, value.index(",")):
            yield "X-Webhook-Signature", i


@given(
    data=scheme_and_secret(TIMESTAMPED),
    ts=timestamps,
    pick=st.integers(min_value=0),
    char=replacement_chars,
)
@example(data=("semble", SECRET), ts=T0, pick=0, char="2")
@example(data=("standard", SECRET), ts=T0, pick=9, char="1")
def test_any_timestamp_byte_change_fails(data: tuple, ts: int, pick: int, char: str) -> None:
    scheme, secret = data
    headers = _sign(BODY, scheme, secret, ts=ts)
    locations = list(_timestamp_locations(scheme, headers))
    name, i = locations[pick % len(locations)]
    assume(headers[name][i] != char)
    headers[name] = _mutate(headers[name], i, char)
    # a one-digit timestamp turned into white space reads as a missing header
    with pytest.raises((InvalidSignature, StaleTimestamp, MissingSignature)):
        verify(BODY, headers, secret, scheme=scheme, now=ts)


@given(data=scheme_and_secret(TIMESTAMPED), shift=st.integers(-(10**6), 10**6).filter(bool))
def test_consistent_restamping_fails(data: tuple, shift: int) -> None:
    """Moving every copy of the timestamp (a replay made to look fresh) breaks the MAC."""
    scheme, secret = data
    headers = _sign(BODY, scheme, secret, ts=T0)
    new = str(T0 + shift)
    headers = {k: v.replace(str(T0), new) for k, v in headers.items()}
    with pytest.raises(InvalidSignature):
        verify(BODY, headers, secret, scheme=scheme, now=T0 + shift)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    data=scheme_and_secret(),
    body=bodies,
    pick=st.integers(min_value=0),
    char=replacement_chars,
)
def test_any_signature_byte_change_fails(data: tuple, body: bytes, pick: int, char: str) -> None:
    scheme, secret = data
    headers = _sign(body, scheme, secret)
    name = SIG_HEADER[scheme]
    i = pick % len(headers[name])
    assume(headers[name][i] != char)
    headers[name] = _mutate(headers[name], i, char)
    with pytest.raises(InvalidSignature):
        verify(body, headers, secret, scheme=scheme, now=T0)


@pytest.mark.parametrize("scheme", SIGNING_SCHEMES)
def test_every_signature_position_and_case_flip(scheme: str) -> None:
    """Exhaustive single-character variants of a real signature header (incl. case flips)."""
    headers = _sign(BODY, scheme)
    name = SIG_HEADER[scheme]
    original = headers[name]
    alphabet = set("0123456789abcdefABCDEF+/=,; tv") | {c.swapcase() for c in original}
    for i, c in enumerate(original):
        for r in alphabet - {c}:
            tampered = {**headers, name: _mutate(original, i, r)}
            with pytest.raises(InvalidSignature):
                verify(BODY, tampered, SECRET, scheme=scheme, now=T0)


def test_standard_message_id_change_fails() -> None:
    headers = _sign(BODY, "standard")
    for i in range(len(headers["webhook-id"])):
        tampered = {**headers, "webhook-id": _mutate(headers["webhook-id"], i, "Z")}
        with pytest.raises(InvalidSignature):
            verify(BODY, tampered, SECRET, scheme="standard", now=T0)


# --------------------------------------------------------------------------- missing headers


@pytest.mark.parametrize(("scheme", "name"), [(s, n) for s in SIGNING_SCHEMES for n in REQUIRED[s]])
@pytest.mark.parametrize("how", ["absent", "empty", "blank"])
def test_missing_header(scheme: str, name: str, how: str) -> None:
    headers = _sign(BODY, scheme)
    if how == "absent":
        del headers[name]
    else:
        headers[name] = "" if how == "empty" else "   "
    with pytest.raises(MissingSignature, match=name):
        verify(BODY, headers, SECRET, scheme=scheme, now=T0)


@pytest.mark.parametrize("scheme", SIGNING_SCHEMES)
def test_no_headers_at_all(scheme: str) -> None:
    with pytest.raises(MissingSignature):
        verify(BODY, {}, SECRET, scheme=scheme, now=T0)
    with pytest.raises(MissingSignature):  # unrelated headers only
        verify(BODY, {"content-type": "application/json"}, SECRET, scheme=scheme, now=T0)


def test_semble_timestamp_header_optional() -> None:
    headers = _sign(BODY, "semble")
    del headers["X-Webhook-Timestamp"]
    verify(BODY, headers, SECRET, now=T0)


# --------------------------------------------------------------------------- tolerance


@pytest.mark.parametrize("scheme", TIMESTAMPED)
def test_default_tolerance_boundaries(scheme: str) -> None:
    headers = _sign(BODY, scheme)
    for now in (T0 - 300, T0 - 1, T0, T0 + 1, T0 + 300):
        verify(BODY, headers, SECRET, scheme=scheme, now=now)
    with pytest.raises(StaleTimestamp, match="in the past") as past:
        verify(BODY, headers, SECRET, scheme=scheme, now=T0 + 301)
    assert (past.value.timestamp, past.value.now, past.value.tolerance) == (T0, T0 + 301, 300)
    with pytest.raises(StaleTimestamp, match="in the future"):
        verify(BODY, headers, SECRET, scheme=scheme, now=T0 - 301)


@given(
    scheme=st.sampled_from(TIMESTAMPED),
    tolerance=st.integers(min_value=0, max_value=10**6),
    skew=st.integers(min_value=-(2 * 10**6), max_value=2 * 10**6),
)
def test_tolerance_parameter_respected(scheme: str, tolerance: int, skew: int) -> None:
    headers = _sign(BODY, scheme)
    if abs(skew) <= tolerance:
        verify(BODY, headers, SECRET, scheme=scheme, tolerance=tolerance, now=T0 + skew)
    else:
        with pytest.raises(StaleTimestamp):
            verify(BODY, headers, SECRET, scheme=scheme, tolerance=tolerance, now=T0 + skew)


def test_tolerance_zero_and_large() -> None:
    headers = _sign(BODY, "semble")
    verify(BODY, headers, SECRET, tolerance=0, now=T0)
    with pytest.raises(StaleTimestamp):
        verify(BODY, headers, SECRET, tolerance=0, now=T0 + 1)
    verify(BODY, headers, SECRET, tolerance=86_400, now=T0 + 86_400)


@pytest.mark.parametrize("tolerance", [-1, 1.5, True])
def test_bad_tolerance(tolerance: object) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        verify(BODY, _sign(BODY, "semble"), SECRET, tolerance=tolerance, now=T0)  # type: ignore[arg-type]


def test_forged_stale_message_is_invalid_not_stale() -> None:
    """A bad signature is reported as such even when the timestamp is also out of range."""
    headers = _sign(BODY, "semble", ts=T0)
    headers["X-Webhook-Signature"] = f"t={T0},v1=" + "0" * 64
    with pytest.raises(InvalidSignature):
        verify(BODY, headers, SECRET, now=T0 + 10_000)


# --------------------------------------------------------------------------- header mappings


class CaseSensitiveMapping(Mapping[str, str]):
    """A Mapping that is not a dict and does not fold case itself."""

    def __init__(self, data: dict[str, str]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def _case_variants(headers: dict[str, str]) -> list[Mapping[str, str]]:
    return [
        {k.lower(): v for k, v in headers.items()},
        {k.upper(): v for k, v in headers.items()},
        {k.title(): v for k, v in headers.items()},
        CaseSensitiveMapping({k.upper(): v for k, v in headers.items()}),
    ]


@pytest.mark.parametrize("scheme", SIGNING_SCHEMES)
def test_case_insensitive_headers(scheme: str) -> None:
    headers = _sign(BODY, scheme)
    for variant in _case_variants(headers):
        verify(BODY, variant, SECRET, scheme=scheme, now=T0)
    # Case folding also applies to the optional X-Webhook-Timestamp consistency check.
    if scheme == "semble":
        bad = {"x-webhook-signature": headers["X-Webhook-Signature"], "X-WEBHOOK-TIMESTAMP": "1"}
        with pytest.raises(InvalidSignature):
            verify(BODY, bad, SECRET, now=T0)


@pytest.mark.parametrize("scheme", SIGNING_SCHEMES)
def test_httpx_and_starlette_headers(scheme: str) -> None:
    httpx = pytest.importorskip("httpx")
    starlette_datastructures = pytest.importorskip("starlette.datastructures")
    headers = _sign(BODY, scheme)
    verify(BODY, httpx.Headers(headers), SECRET, scheme=scheme, now=T0)
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    verify(BODY, starlette_datastructures.Headers(raw=raw), SECRET, scheme=scheme, now=T0)
    # Round trip through a real request's headers.
    request = httpx.Request("POST", "http://example.test/hook", content=BODY, headers=headers)
    verify(request.content, request.headers, SECRET, scheme=scheme, now=T0)


# --------------------------------------------------------------------------- scheme errors


def test_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unknown signing scheme") as err:
        sign(BODY, SECRET, scheme="hmac-sha1", timestamp=T0)
    assert not isinstance(err.value, SignatureError)
    for scheme in SIGNING_SCHEMES:
        assert repr(scheme) in str(err.value)
    with pytest.raises(ValueError, match="unknown signing scheme"):
        verify(BODY, _sign(BODY, "semble"), SECRET, scheme="Semble", now=T0)


@pytest.mark.parametrize("scheme", (*UNTIMESTAMPED, "semble"))
def test_empty_or_unencodable_secret(scheme: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        sign(BODY, "", scheme=scheme, timestamp=T0)
    with pytest.raises(ValueError) as err:
        sign(BODY, "XQ\ud800ZW", scheme=scheme, timestamp=T0)
    assert "XQ" not in str(err.value) and "\ud800" not in str(err.value)


def test_bad_sign_timestamp() -> None:
    with pytest.raises(ValueError):
        sign(BODY, SECRET, timestamp=-1)
    with pytest.raises(TypeError):
        sign(BODY, SECRET, timestamp=1.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- secrecy


def _failures(scheme: str, secret: str) -> Iterator[SignatureError]:
    good = _sign(BODY, scheme, secret)
    name = SIG_HEADER[scheme]
    cases: list[tuple[bytes, dict[str, str], int]] = [
        (BODY + b"x", good, T0),
        (BODY, {**good, name: good[name][:-2] + "zz"}, T0),
        (BODY, {k: v for k, v in good.items() if k != name}, T0),
        (BODY, {**good, name: "nonsense"}, T0),
    ]
    if scheme in TIMESTAMPED:
        cases.append((BODY, good, T0 + 10_000))
    for body, headers, now in cases:
        with pytest.raises(SignatureError) as err:
            verify(body, headers, secret, scheme=scheme, now=now)
        yield err.value


@given(data=scheme_and_secret(), raw=st.binary(min_size=32, max_size=32))
def test_messages_never_leak_secret_or_expected_signature(data: tuple, raw: bytes) -> None:
    scheme, _ = data
    secret = "whsec_" + base64.b64encode(raw).decode()  # the SPEC's secret format
    good = _sign(BODY, scheme, secret)
    expected_sig = good[SIG_HEADER[scheme]]
    expected_parts = {
        expected_sig,
        expected_sig.split("v1=")[-1],
        expected_sig.split(",")[-1],
        expected_sig.removeprefix("sha256="),
    }
    for exc in _failures(scheme, secret):
        for text in (str(exc), repr(exc), repr(exc.args)):
            assert secret not in text
            assert secret.removeprefix("whsec_") not in text
            for part in expected_parts:
                assert part not in text
