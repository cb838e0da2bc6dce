"""A minimal blocking HTTP/1.1 keep-alive client on a raw socket, and small statistics.

The sequential-latency figures are a few hundred microseconds, so the client must cost
far less than that: no httpx here (it adds ~100 µs per request of its own). Requests are
pre-built bytes; responses are read by ``Content-Length`` (Starlette always sends one).
``pipeline`` sends batches of requests back to back for fast bulk loading.
"""

from __future__ import annotations

import json
import math
import socket
import statistics
import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

PIPELINE_BATCH = 100  # requests per pipelined batch: bounded so no socket buffer fills


class HttpError(RuntimeError):
    """A response that is not what a benchmark step expects."""


class Closed(HttpError):
    """The server closed the connection before answering."""


def build(
    method: str,
    path: str,
    body: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    host: str = "bench",
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines.extend(f"{k}: {v}" for k, v in headers)
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def graphql_request(
    query: str, variables: dict[str, Any] | None = None, *, token: str = "test-token"
) -> bytes:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    return build(
        "POST",
        "/graphql",
        json.dumps(payload, separators=(",", ":")).encode(),
        [("Content-Type", "application/json"), ("x-token", token)],
    )


def json_request(method: str, path: str, document: Any = None) -> bytes:
    body = b"" if document is None else json.dumps(document, separators=(",", ":")).encode()
    headers = [("Content-Type", "application/json")] if document is not None else []
    return build(method, path, body, headers)


class Conn:
    """One keep-alive connection."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.timeout = timeout
        self.sock = self._connect()
        self._buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _reconnect(self) -> None:
        """uvicorn closes a keep-alive connection idle for 5 s: open a new one."""
        self.sock.close()
        self.sock = self._connect()
        self._buffer = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_response(self) -> tuple[int, bytes]:
        buffer = self._buffer
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            chunk = self.sock.recv(262144)
            if not chunk:
                raise Closed("connection closed by the server")
            buffer += chunk
        head = buffer[:end]
        status = int(head[9:12])
        length = -1
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
                break
        if length < 0:
            raise HttpError("response without Content-Length")
        start = end + 4
        while len(buffer) < start + length:
            chunk = self.sock.recv(max(262144, start + length - len(buffer)))
            if not chunk:
                raise HttpError("connection closed mid-body")
            buffer += chunk
        self._buffer = buffer[start + length :]
        return status, buffer[start : start + length]

    def send(self, request: bytes) -> tuple[int, bytes]:
        return self.timed(request)[1:]

    def timed(self, request: bytes) -> tuple[float, int, bytes]:
        """(seconds, status, body) of one request on this warm connection. A connection
        the server closed while idle is reopened and the request sent again, untimed
        set-up excluded (a closed idle connection never saw the request)."""
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.sock.sendall(request)
                status, body = self._read_response()
            except (Closed, ConnectionResetError, BrokenPipeError):
                if attempt == 2 or self._buffer:
                    raise
                self._reconnect()
                continue
            return time.perf_counter() - started, status, body
        raise AssertionError("unreachable")

    def call(self, request: bytes, expect: int = 200) -> Any:
        """Send, check the status, and decode the JSON body."""
        status, body = self.send(request)
        if status != expect:
            raise HttpError(f"HTTP {status}: {body[:300]!r}")
        return json.loads(body) if body else None

    def pipeline(self, requests: Sequence[bytes]) -> list[tuple[int, bytes]]:
        """Send requests back to back in batches, reading each batch's responses."""
        results: list[tuple[int, bytes]] = []
        if requests:  # the first alone: it reopens a connection closed while idle
            results.append(self.send(requests[0]))
        for first in range(1, len(requests), PIPELINE_BATCH):
            batch = requests[first : first + PIPELINE_BATCH]
            self.sock.sendall(b"".join(batch))
            results.extend(self._read_response() for _ in batch)
        return results


def gql(conn: Conn, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
    """One GraphQL call that must succeed without ``errors``; returns ``data``."""
    answer = conn.call(graphql_request(query, variables, **kw))
    if answer.get("errors"):
        raise HttpError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


# -- statistics ----------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))
