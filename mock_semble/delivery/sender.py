"""One delivery attempt over HTTP: the client, the request, and what is kept of the answer.

httpx, ssl and socket are imported inside the functions: they are needed only once a
delivery is actually sent, and importing them would slow every server start.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .journal import Attempt
from .lanes import MAX_IN_FLIGHT

if TYPE_CHECKING:
    import httpx

    from ..core.settings import Settings

MAX_RESPONSE_BODY = 4096
RETRY_AFTER_LIMIT = 60.0  # a Retry-After at or above this is ignored (SPEC §2.4)
RETRY_AFTER_STATUSES = frozenset({429, 503})


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port dropped, for forward matching."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port
    if (scheme, port) in (("https", 443), ("http", 80)):
        port = None
    return scheme, (parts.hostname or "").lower(), port


def forward_target(url: str, forwards: Iterable[tuple[str, str]]) -> str:
    """Apply the first ``--forward ORIGIN=BASE`` whose origin matches; keep path and query."""
    origin = _origin(url)
    for source, base in forwards:
        if _origin(source) == origin:
            parts = urlsplit(url)
            return base + parts.path + (f"?{parts.query}" if parts.query else "")
    return url


def retry_after(status: int | None, headers: Mapping[str, str]) -> float | None:
    """Seconds to wait before the next attempt, when the receiver asked and it is < 60 s."""
    if status not in RETRY_AFTER_STATUSES:
        return None
    value = headers.get("retry-after", "").strip()
    if not (value.isascii() and value.isdigit()):
        return None  # HTTP-dates are not honoured: the schedule applies
    seconds = float(value)
    return seconds if seconds < RETRY_AFTER_LIMIT else None


def describe_error(exc: BaseException, timeout: float) -> str:
    """A short journal text for a transport failure: timeout, refused, TLS, DNS, …"""
    import socket
    import ssl

    import httpx

    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"timeout: no complete response within {timeout:g} s"
    cause: BaseException | None = exc
    while cause is not None:  # httpx wraps httpcore wraps the OS / ssl error
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS error: certificate verify failed: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by the receiver"
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup failed: {cause.strerror}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return f"connect error: {exc}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {exc}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return f"connection error: {str(exc) or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def own_address(url: str, listening: Sequence[tuple[str, int]]) -> str | None:
    """``host:port`` of this server when ``url`` points at one of its listening addresses
    (a delivery there could reset or change the mock: SPEC §7), else None. A host name
    is resolved only when the port is one the server listens on."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    candidates = [(h, p) for h, p in listening if p == port]
    if not host or not candidates:
        return None
    addresses = await _addresses(host, port)
    for listen_host, listen_port in candidates:
        if any(_reaches(address, listen_host) for address in addresses):
            return f"{listen_host}:{listen_port}"
    return None


_DEFAULT_PORTS = {"http": 80, "https": 443}
_WILDCARDS = ("", "0.0.0.0", "::")


async def _addresses(
    host: str, port: int | None
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    import socket

    try:
        async with asyncio.timeout(2.0):
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError):
        return []  # unresolvable: the send fails on its own
    found = []
    for info in infos:
        with contextlib.suppress(ValueError):
            found.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
    return found


def _reaches(address: ipaddress.IPv4Address | ipaddress.IPv6Address, listen_host: str) -> bool:
    """Would a connection to ``address`` reach a listener bound to ``listen_host``?"""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if listen_host in _WILDCARDS:
        return address.is_loopback or address.is_unspecified or _is_local(address)
    try:
        listen = ipaddress.ip_address(listen_host)
    except ValueError:
        return False
    return address == listen or (address.is_unspecified and listen.is_loopback)


def _is_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """An address of this machine: one a socket can be bound to."""
    import socket

    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def build_client(settings: Settings) -> httpx.AsyncClient:
    """System trust store plus ``--ca-bundle``; no redirects, no proxies from the env."""
    import ssl

    import httpx

    context = ssl.create_default_context()
    if settings.ca_bundle is not None:
        context.load_verify_locations(cafile=str(settings.ca_bundle))
    # The engine's lanes bound what is in flight; the pool must not queue behind a
    # receiver that hangs (SPEC §2.4), so it admits as many as the lanes allow.
    limit = max(1, settings.delivery_concurrency)
    return httpx.AsyncClient(
        verify=context,
        timeout=httpx.Timeout(settings.delivery_timeout),
        follow_redirects=False,
        trust_env=False,  # deliveries go straight to the receiver, never via a proxy
        limits=httpx.Limits(
            max_connections=max(MAX_IN_FLIGHT, limit), max_keepalive_connections=limit
        ),
    )


async def send(
    client: httpx.AsyncClient, attempt: Attempt, url: str, body: bytes, timeout: float
) -> float | None:
    """Send one attempt, filling in its outcome; return a Retry-After to honour."""
    import httpx

    wait: float | None = None
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):  # httpx times each phase; this the whole
            # Sent as built: no client defaults (Accept, …) and no cookies ever added.
            request = httpx.Request(
                "POST", url, headers=list(attempt.request_headers.items()), content=body
            )
            response = await client.send(request, stream=True)
            try:
                attempt.response_status = response.status_code
                wait = retry_after(response.status_code, response.headers)
                attempt.response_body = await _read_prefix(response)
            finally:
                await response.aclose()
    except Exception as exc:
        attempt.error = describe_error(exc, timeout)
    finally:
        attempt.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    return wait


async def _read_prefix(response: httpx.Response) -> str:
    """The first 4 KiB of the body, without reading the rest of a large answer."""
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= MAX_RESPONSE_BODY:
            break
    return bytes(data[:MAX_RESPONSE_BODY]).decode("utf-8", "replace")
