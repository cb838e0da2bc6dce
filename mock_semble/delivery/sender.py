"""One delivery attempt over HTTP: the client, the request, and what is kept of the answer.

httpx, ssl and socket are imported inside the functions: they are needed only once a
delivery is actually sent, and importing them would slow every server start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .journal import Attempt

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


def build_client(settings: Settings) -> httpx.AsyncClient:
    """System trust store plus ``--ca-bundle``; no redirects, no proxies from the env."""
    import ssl

    import httpx

    context = ssl.create_default_context()
    if settings.ca_bundle is not None:
        context.load_verify_locations(cafile=str(settings.ca_bundle))
    limit = max(1, settings.delivery_concurrency)
    return httpx.AsyncClient(
        verify=context,
        timeout=httpx.Timeout(settings.delivery_timeout),
        follow_redirects=False,
        trust_env=False,  # deliveries go straight to the receiver, never via a proxy
        limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
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
