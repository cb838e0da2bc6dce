"""Semble's webhook rules as pure functions (SPEC §1.4).

Each ``check_*`` returns the cleaned value or raises :class:`RuleError` carrying the
stable message, HTTP-like status and machine code of the payload error.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable, Sequence
from urllib.parse import urlsplit

from ..core.errors import RuleError
from ..core.events import CATALOGUE
from ..core.text import is_blank, utf16_length
from .models import Header

MAX_URL_LENGTH = 2048
MAX_EVENT_TYPES = 10
MAX_LABEL_UNITS = 256
MAX_HEADERS = 20
MAX_HEADER_KEY = 256
MAX_HEADER_VALUE = 4096

MSG_URL = "url must be a valid HTTPS URL"
MSG_EVENT_COUNT = "eventTypes must contain between 1 and 10 event types"
MSG_EVENT_DUPLICATES = "eventTypes must not contain duplicates"
MSG_LABEL = "label must be between 1 and 256 characters"
MSG_CONFLICT = "A webhook subscription with this url and an overlapping event type already exists"
MSG_NOT_FOUND = "Webhook not found"

# Semble's own headers and every signing header of SPEC §2.3: a subscription may not
# override what the mock must control to deliver and sign.
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "transfer-encoding",
        "connection",
        "user-agent",
        "x-webhook-signature",
        "x-webhook-timestamp",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # fullmatch only
# visible ASCII with inner spaces/tabs: anything else could never be sent (SPEC §1.4)
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\x20\x09\x21-\x7e]*[\x21-\x7e])?)?")
_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_DEFAULT_PORTS = {"https": 443, "http": 80}


def invalid_url() -> RuleError:
    return RuleError(MSG_URL, "INVALID_URL")


def not_found() -> RuleError:
    return RuleError(MSG_NOT_FOUND, "NOT_FOUND", 404)


def conflict() -> RuleError:
    return RuleError(MSG_CONFLICT, "CONFLICT", 409)


def _is_local_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback and (address.version == 4 or address == ipaddress.ip_address("::1"))


def check_url(
    url: object, *, allow_http_localhost: bool = False, allow_http_hosts: Collection[str] = ()
) -> str:
    """An absolute https URL with a host, no user-info, at most 2048 characters; ``http://``
    too for loopback hosts (``allow_http_localhost``) and the named ``allow_http_hosts``
    (lower-case names, e.g. ``host.docker.internal``)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise invalid_url()
    if _BAD_URL_CHARS.search(url):
        raise invalid_url()
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        raise invalid_url() from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not host or "@" in parts.netloc or not parts.netloc.strip("[]:"):
        raise invalid_url()
    if port == 0:
        raise invalid_url()
    if scheme == "https":
        return url
    if scheme == "http" and (
        (allow_http_localhost and _is_local_host(host)) or host in allow_http_hosts
    ):
        return url
    raise invalid_url()


def url_key(url: str) -> str:
    """The form two URLs are compared in: scheme and host lower-cased, default port
    dropped; path, query and fragment exactly as given."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    rest = url[len(parts.scheme) + 3 + len(parts.netloc) :]  # path, query, fragment as given
    return f"{scheme}://{netloc}{rest}"


def check_event_types(event_types: Sequence[str] | None) -> tuple[str, ...]:
    """1 to 10 dotted catalogue event types, none repeated (the enum mode's values are
    dotted already; in strings mode an unknown value is a payload error)."""
    if event_types is None or not 1 <= len(event_types) <= MAX_EVENT_TYPES:
        raise RuleError(MSG_EVENT_COUNT, "INVALID_EVENT_TYPES")
    for event_type in event_types:
        if event_type not in CATALOGUE:
            raise RuleError(f"invalid event type: {event_type[:256]}", "INVALID_EVENT_TYPES")
    if len(set(event_types)) != len(event_types):
        raise RuleError(MSG_EVENT_DUPLICATES, "INVALID_EVENT_TYPES")
    return tuple(event_types)


def check_label(label: object) -> str:
    """1 to 256 UTF-16 code units, not only white space (JavaScript's trim() set)."""
    if not isinstance(label, str) or is_blank(label):
        raise RuleError(MSG_LABEL, "INVALID_LABEL")
    if utf16_length(label) > MAX_LABEL_UNITS:
        raise RuleError(MSG_LABEL, "INVALID_LABEL")
    return label


def _header_error(why: str) -> RuleError:
    return RuleError(f"invalid header: {why}", "INVALID_HEADERS")


def check_headers(headers: Iterable[tuple[str, str]] | None) -> tuple[Header, ...] | None:
    """At most 20 headers with token keys, safe values, unique and unreserved keys.

    The order given is kept: it is the order in which they are sent."""
    if headers is None:
        return None
    items = tuple(headers)
    if len(items) > MAX_HEADERS:
        raise _header_error(f"at most {MAX_HEADERS} headers are allowed")
    seen: set[str] = set()
    for key, value in items:
        if not 1 <= len(key) <= MAX_HEADER_KEY:
            raise _header_error(f"key must be between 1 and {MAX_HEADER_KEY} characters")
        if not _TOKEN.fullmatch(key):
            raise _header_error(f"key {key!r} is not a valid HTTP header name")
        lowered = key.lower()
        if lowered in RESERVED_HEADERS:
            raise _header_error(f"key {key!r} is reserved")
        if lowered in seen:
            raise _header_error(f"key {key!r} is given more than once")
        seen.add(lowered)
        if len(value) > MAX_HEADER_VALUE:
            raise _header_error(f"value of {key!r} is longer than {MAX_HEADER_VALUE} characters")
        if not _HEADER_VALUE.fullmatch(value):
            raise _header_error(
                f"value of {key!r} must be visible ASCII with inner spaces or tabs only"
            )
    return tuple(Header(key, value) for key, value in items)
