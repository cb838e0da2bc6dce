"""The test handle's own HTTP for its hot paths (``execute`` and the control plane).

httpx costs ~0.5 ms of client-side work per request, more than the mock needs to answer;
a kept-alive ``http.client`` connection costs a tenth of that. One connection per thread
(``http.client`` is not thread-safe), reopened when the server has closed it while idle —
checked before a request is sent, so a request is never sent twice.
"""

from __future__ import annotations

import http.client
import json
import select
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

json_loads = json.loads


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, refusing NaN and infinities (as httpx does)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def query_string(params: Mapping[str, Any]) -> str:
    """``a=1&b=true``: booleans as JSON's words, ``None`` left out (as httpx does)."""
    pairs = [
        (key, ("true" if value else "false") if isinstance(value, bool) else str(value))
        for key, value in params.items()
        if value is not None
    ]
    return urlencode(pairs)


class Transport:
    """``request(method, path, json_body, headers) -> (status, body)`` to one server."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"expected an http:// base URL, got {base_url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None and _closed_by_peer(conn.sock):
            conn.close()  # the server ended the idle keep-alive connection
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        conn = self._connection()
        sent_headers = {"accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json_bytes(body)
            sent_headers["content-type"] = "application/json"
        try:
            conn.request(method, self.prefix + path, body=data, headers=sent_headers)
            response = conn.getresponse()
            payload = response.read()
        except BaseException:
            conn.close()  # a half-used connection is never reused
            raise
        if response.will_close:
            conn.close()
        return response.status, payload

    def close(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        for conn in connections:
            conn.close()


def _closed_by_peer(sock: Any) -> bool:
    """An idle connection whose socket is readable has been closed (or broken) by the
    server: there is no response it could be reading."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
