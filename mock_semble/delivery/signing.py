"""Webhook signing and verification for every scheme the mock can use (SPEC §2.3).

=======================  ================================================  ==================
scheme                   headers (in this order)                           signed bytes
=======================  ================================================  ==================
``semble`` (default)     ``X-Webhook-Signature: t=<unix s>,v1=<hex>``,      ``<t>.<body>``
                         ``X-Webhook-Timestamp: <unix s>``
``standard``             ``webhook-id``, ``webhook-timestamp``,             ``<id>.<t>.<body>``
                         ``webhook-signature: v1,<base64>``
``hmac-sha256-hex``      ``X-Webhook-Signature: sha256=<hex>``              ``<body>``
``hmac-sha256-base64``   ``X-Webhook-Signature: <base64>``                  ``<body>``
=======================  ================================================  ==================

Every MAC is HMAC-SHA256.  The key is the subscription secret encoded as UTF-8, except for
``standard`` (Standard Webhooks 1.0), whose key is the base64 decoding of the part after the
``whsec_`` prefix (a secret without the prefix is decoded as a whole, as the Standard Webhooks
libraries do).  Hex digests are lower-case; base64 is the standard, padded alphabet.

:func:`verify` is strict: signatures are compared in constant time against the canonical
encoding only (so ``A`` for ``a`` in a hex digest, or a non-canonical base64 spelling, is
rejected).  For the timestamped schemes (``semble`` and ``standard``) the signature is checked
first and the timestamp's distance from ``now`` afterwards, so :class:`StaleTimestamp` means
"authentic, but outside the tolerance" and a forged or altered message always gives
:class:`InvalidSignature`.  No exception message ever contains the secret or the expected
signature.

Only the standard library is used, so importing this module is cheap.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

__all__ = [
    "DEFAULT_SCHEME",
    "DEFAULT_TOLERANCE",
    "SIGNING_HEADERS",
    "SIGNING_SCHEMES",
    "InvalidSignature",
    "MissingSignature",
    "SignatureError",
    "StaleTimestamp",
    "sign",
    "verify",
]

SIGNING_SCHEMES: tuple[str, ...] = ("semble", "standard", "hmac-sha256-hex", "hmac-sha256-base64")
DEFAULT_SCHEME = "semble"
DEFAULT_TOLERANCE = 300

_SIG = "X-Webhook-Signature"
_TS = "X-Webhook-Timestamp"
_STD_ID = "webhook-id"
_STD_TS = "webhook-timestamp"
_STD_SIG = "webhook-signature"
_SECRET_PREFIX = "whsec_"
_HEX_PREFIX = "sha256="
# Longest timestamp accepted: keeps int() cheap on hostile input (10**20 s is far beyond 9999 AD).
_MAX_TS_DIGITS = 20

SIGNING_HEADERS: frozenset[str] = frozenset(
    name.lower() for name in (_SIG, _TS, _STD_ID, _STD_TS, _STD_SIG)
)


class SignatureError(ValueError):
    """Base class of every webhook signature verification failure."""


class MissingSignature(SignatureError):
    """A header the scheme requires is absent or empty."""


class InvalidSignature(SignatureError):
    """A signature header is malformed, or no signature in it matches the message."""


class StaleTimestamp(SignatureError):
    """The (authentic) timestamp is further than the tolerance from now, in the past or future."""

    def __init__(self, message: str, *, timestamp: int, now: int, tolerance: int) -> None:
        super().__init__(message)
        self.timestamp = timestamp
        self.now = now
        self.tolerance = tolerance


# --------------------------------------------------------------------------- helpers


def _check_scheme(scheme: str) -> None:
    if scheme not in SIGNING_SCHEMES:
        valid = ", ".join(repr(s) for s in SIGNING_SCHEMES)
        raise ValueError(f"unknown signing scheme {scheme!r}; valid schemes are {valid}")


def _body_bytes(body: bytes | str) -> bytes:
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    raise TypeError(f"body must be bytes or str, not {type(body).__name__}")


def _utf8_key(secret: str) -> bytes:
    if not isinstance(secret, str):
        raise TypeError(f"secret must be a str, not {type(secret).__name__}")
    if not secret:
        raise ValueError("webhook secret may not be empty")
    try:
        return secret.encode("utf-8")
    except UnicodeEncodeError:
        # The codec's own message quotes the offending character; do not leak it.
        raise ValueError("webhook secret is not encodable as UTF-8") from None


def _standard_key(secret: str) -> bytes:
    """Standard Webhooks key: base64 after an optional ``whsec_`` prefix (padding optional)."""
    if not isinstance(secret, str):
        raise TypeError(f"secret must be a str, not {type(secret).__name__}")
    encoded = secret.removeprefix(_SECRET_PREFIX).rstrip("=")
    encoded += "=" * (-len(encoded) % 4)
    try:
        key = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError(
            "webhook secret for the 'standard' scheme must be base64, optionally prefixed "
            f"with {_SECRET_PREFIX!r}"
        ) from None
    if not key:
        raise ValueError("webhook secret may not be empty")
    return key


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _matches(expected: str, candidate: str) -> bool:
    """Constant-time comparison of an ASCII expected value with an untrusted string."""
    if not candidate.isascii():
        return False
    return hmac.compare_digest(expected.encode("ascii"), candidate.encode("ascii"))


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else int(now)


def _sign_timestamp(timestamp: int | None) -> int:
    if timestamp is None:
        return int(time.time())
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise TypeError(f"timestamp must be an int, not {type(timestamp).__name__}")
    if timestamp < 0:
        raise ValueError("timestamp must not be negative")
    return timestamp


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup of ``name`` (lower-case) in any mapping of headers."""
    # Case-insensitive mappings (httpx.Headers, starlette Headers, ...) answer directly.
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if isinstance(key, str) and key.lower() == name:
                value = candidate
                break
    if value is None:
        return None
    if isinstance(value, bytes):  # tolerate raw (ASGI-style) header values
        value = value.decode("latin-1")
    return str(value)


def _required(headers: Mapping[str, str], name: str, display: str) -> str:
    value = _header(headers, name)
    if value is None or not value.strip():
        raise MissingSignature(f"missing or empty {display} header")
    return value.strip()


def _parse_timestamp(raw: str, display: str) -> int:
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_TS_DIGITS):
        raise InvalidSignature(f"{display} is not a Unix timestamp in whole seconds")
    return int(raw)


def _check_tolerance(timestamp: int, now: int, tolerance: int) -> None:
    delta = now - timestamp
    if abs(delta) > tolerance:
        where = f"{delta} s in the past" if delta > 0 else f"{-delta} s in the future"
        raise StaleTimestamp(
            f"webhook timestamp {timestamp} is {where}; the tolerance is {tolerance} s",
            timestamp=timestamp,
            now=now,
            tolerance=tolerance,
        )


# --------------------------------------------------------------------------- public API


def sign(
    body: bytes | str,
    secret: str,
    *,
    scheme: str = DEFAULT_SCHEME,
    timestamp: int | None = None,
    message_id: str | None = None,
) -> dict[str, str]:
    """Return the headers that sign ``body`` under ``scheme``, in the SPEC table's order.

    ``timestamp`` (Unix seconds) defaults to now; it is ignored by the untimestamped schemes.
    ``message_id`` (the event id) is required by ``standard`` and ignored by the others.
    Raises :class:`ValueError` for an unknown scheme, an unusable secret, or a missing or
    malformed ``message_id``.
    """
    _check_scheme(scheme)
    data = _body_bytes(body)

    if scheme == "semble":
        key = _utf8_key(secret)
        ts = str(_sign_timestamp(timestamp))
        digest = _mac(key, ts.encode("ascii") + b"." + data).hex()
        return {_SIG: f"t={ts},v1={digest}", _TS: ts}

    if scheme == "standard":
        key = _standard_key(secret)
        if not message_id:
            raise ValueError("the 'standard' signing scheme needs a message_id (the event id)")
        if not isinstance(message_id, str):
            raise TypeError(f"message_id must be a str, not {type(message_id).__name__}")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in message_id):
            raise ValueError("message_id must not contain control characters")
        try:
            id_bytes = message_id.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("message_id is not encodable as UTF-8") from None
        ts = str(_sign_timestamp(timestamp))
        signature = _b64(_mac(key, id_bytes + b"." + ts.encode("ascii") + b"." + data))
        return {_STD_ID: message_id, _STD_TS: ts, _STD_SIG: f"v1,{signature}"}

    key = _utf8_key(secret)
    if scheme == "hmac-sha256-hex":
        return {_SIG: _HEX_PREFIX + _mac(key, data).hex()}
    return {_SIG: _b64(_mac(key, data))}  # hmac-sha256-base64


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    scheme: str = DEFAULT_SCHEME,
    tolerance: int = DEFAULT_TOLERANCE,
    now: int | None = None,
) -> None:
    """Check that ``headers`` carry a valid ``scheme`` signature of ``body``; return None if so.

    Header names are matched case-insensitively in any mapping (a dict, ``httpx.Headers``,
    starlette ``Headers``, ...).  ``tolerance`` is the largest accepted distance, in seconds,
    between the signed timestamp and ``now`` (default: the current time), in either direction.

    Raises :class:`MissingSignature` when a required header is absent or empty,
    :class:`InvalidSignature` when a header is malformed or no signature matches, and
    :class:`StaleTimestamp` when an authentic timestamp is outside the tolerance (all are
    :class:`SignatureError`, itself a :class:`ValueError`).  An unknown scheme, an unusable
    secret or a negative tolerance raise a plain :class:`ValueError`.
    """
    _check_scheme(scheme)
    data = _body_bytes(body)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise ValueError("tolerance must be a non-negative int (seconds)")

    if scheme == "semble":
        _verify_semble(data, headers, _utf8_key(secret), tolerance, _now(now))
    elif scheme == "standard":
        _verify_standard(data, headers, _standard_key(secret), tolerance, _now(now))
    elif scheme == "hmac-sha256-hex":
        key = _utf8_key(secret)
        value = _required(headers, _SIG.lower(), _SIG)
        if not value.startswith(_HEX_PREFIX):
            raise InvalidSignature(f"{_SIG} header must have the form 'sha256=<hex>'")
        if not _matches(_mac(key, data).hex(), value[len(_HEX_PREFIX) :]):
            raise InvalidSignature(f"{_SIG} signature does not match the body")
    else:  # hmac-sha256-base64
        key = _utf8_key(secret)
        value = _required(headers, _SIG.lower(), _SIG)
        if not _matches(_b64(_mac(key, data)), value):
            raise InvalidSignature(f"{_SIG} signature does not match the body")


def _verify_semble(
    data: bytes, headers: Mapping[str, str], key: bytes, tolerance: int, now: int
) -> None:
    value = _required(headers, _SIG.lower(), _SIG)
    ts_raw: str | None = None
    candidates: list[str] = []
    for item in value.split(","):
        name, sep, content = item.partition("=")
        name = name.strip()
        if not sep:
            raise InvalidSignature(f"{_SIG} header must have the form 't=<unix s>,v1=<hex>'")
        if name == "t":
            if ts_raw is not None:
                raise InvalidSignature(f"{_SIG} header has more than one t= entry")
            ts_raw = content.strip()
        elif name == "v1":
            candidates.append(content.strip())
        # Entries for other (future) versions are ignored, as with Stripe-style headers.
    if ts_raw is None:
        raise InvalidSignature(f"{_SIG} header has no t= entry")
    if not candidates:
        raise InvalidSignature(f"{_SIG} header has no v1= signature")
    timestamp = _parse_timestamp(ts_raw, f"the t= value of {_SIG}")

    ts_header = _header(headers, _TS.lower())
    if ts_header is not None and ts_header.strip() != ts_raw:
        raise InvalidSignature(f"{_TS} header does not equal the t= value of {_SIG}")

    expected = _mac(key, ts_raw.encode("ascii") + b"." + data).hex()
    # Check every candidate (no early exit) so timing does not reveal which one matched.
    matched = False
    for candidate in candidates:
        matched |= _matches(expected, candidate)
    if not matched:
        raise InvalidSignature(f"no v1 signature in {_SIG} matches the body and timestamp")
    _check_tolerance(timestamp, now, tolerance)


def _verify_standard(
    data: bytes, headers: Mapping[str, str], key: bytes, tolerance: int, now: int
) -> None:
    msg_id = _required(headers, _STD_ID, _STD_ID)
    ts_raw = _required(headers, _STD_TS, _STD_TS)
    value = _required(headers, _STD_SIG, _STD_SIG)
    timestamp = _parse_timestamp(ts_raw, _STD_TS)
    try:
        id_bytes = msg_id.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidSignature(f"{_STD_ID} header is not valid text") from None

    candidates: list[str] = []
    for entry in value.split():
        version, sep, signature = entry.partition(",")
        if sep and version == "v1":
            candidates.append(signature)
        # Other versions (e.g. v1a asymmetric signatures) are ignored, per Standard Webhooks.
    if not candidates:
        raise InvalidSignature(f"{_STD_SIG} header has no 'v1,<base64>' signature")

    expected = _b64(_mac(key, id_bytes + b"." + ts_raw.encode("ascii") + b"." + data))
    matched = False
    for candidate in candidates:
        matched |= _matches(expected, candidate)
    if not matched:
        raise InvalidSignature(f"no v1 signature in {_STD_SIG} matches the message")
    _check_tolerance(timestamp, now, tolerance)
