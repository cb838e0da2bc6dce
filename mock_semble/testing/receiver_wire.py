"""The HTTP side of :class:`~mock_semble.testing.receiver.WebhookReceiver`.

What a request looked like on arrival (:class:`ReceivedRequest`: exact body bytes,
headers in arrival order, whether it arrived whole) and how to answer it
(:class:`Reply`: a status after an optional delay, a body dripped slowly, an answer
held until released, or a transport fault). A stdlib ``ThreadingHTTPServer``, one
thread per connection, optionally TLS (the handshake runs in that thread, so a client
that fails it holds up nobody).
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT = 5.0  # a kept-alive connection with nothing to say is closed after this
HOLD_LIMIT = 60.0  # a held or hanging answer lets go after this long, whatever happens
FAULTS = ("hang", "reset", "garbage", "truncated")
GARBAGE = b"\x16\x03\x01\x00\xffNOT HTTP AT ALL\r\n\x00\x01\x02\r\n\r\n"
TRUNCATED = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part"


class Headers(dict[str, str]):
    """Request headers in arrival order, looked up case-insensitively."""

    def __getitem__(self, key: str) -> str:
        for name, value in self.items():
            if name.lower() == key.lower():
                return value
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the receiver got it: the exact body bytes, headers, time.

    ``raw_headers`` are the header lines exactly as sent (order, case and repeats);
    ``complete`` is False when the connection ended before the whole request (request
    line, header block and the declared body) arrived."""

    method: str
    path: str
    headers: Headers
    body: bytes
    received_at: float  # time.time()
    raw_headers: tuple[tuple[str, str], ...] = ()
    complete: bool = True

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def json(self) -> Any:
        """The body decoded as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Reply:
    """A scripted answer: status, body and headers, optionally after a delay.

    ``drip`` sends the body in ten pieces this many seconds apart (the headers go at
    once); ``hold`` answers only once the event is set (or the receiver is released or
    stopped); ``fault`` misbehaves instead of answering: ``"hang"`` (never answer),
    ``"reset"`` (TCP reset), ``"garbage"`` (bytes that are not HTTP) or
    ``"truncated"`` (a response shorter than its Content-Length)."""

    status: int = 200
    body: bytes | str | Mapping[str, Any] | list[Any] = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drip: float = 0.0
    hold: threading.Event | None = None
    fault: str | None = None

    def __post_init__(self) -> None:
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}, got {self.fault!r}")
        if self.delay < 0 or self.drip < 0:
            raise ValueError("delay and drip must not be negative")

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            return self.body, headers
        if isinstance(self.body, str):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return self.body.encode(), headers
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body).encode(), headers


class Recorder(Protocol):
    """What the handler threads need of the receiver."""

    _stopping: threading.Event

    def _record(self, request: ReceivedRequest) -> Reply: ...

    def _track(self, conn: socket.socket, open_: bool) -> None: ...


class LineTracker:
    """The connection's reader, remembering the last line read: a header block that
    ended without its blank line was cut off."""

    def __init__(self, raw: io.BufferedIOBase) -> None:
        self.raw = raw
        self.last_line = b""

    def readline(self, size: int = -1) -> bytes:
        self.last_line = self.raw.readline(size)
        return self.last_line

    def read(self, size: int = -1) -> bytes:
        return self.raw.read(size)

    @property
    def closed(self) -> bool:
        return self.raw.closed

    def close(self) -> None:
        self.raw.close()


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True  # stop() must not wait for idle keep-alive threads

    def __init__(
        self, address: tuple[str, int], recorder: Recorder, tls: ssl.SSLContext | None
    ) -> None:
        self.recorder = recorder
        self.tls = tls
        super().__init__(address, ReceiverHandler, bind_and_activate=False)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        if self.tls is not None:  # handshake in the handler thread, not the accept loop
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # failed handshakes and dropped connections are part of testing
        super().handle_error(request, client_address)


class ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real receiver
    timeout = IDLE_TIMEOUT
    server: ReceiverServer

    def setup(self) -> None:
        super().setup()
        self.lines = LineTracker(self.rfile)
        self.rfile = self.lines  # type: ignore[assignment]
        self.server.recorder._track(self.connection, True)

    def finish(self) -> None:
        self.server.recorder._track(self.connection, False)
        super().finish()

    def _read_body(self) -> tuple[bytes, bool]:
        """The body and whether all of it came."""
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._read_chunks()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, MAX_BODY))
            return body, len(body) == min(length, MAX_BODY)
        except (OSError, ValueError):
            return b"", False

    def _read_chunks(self) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        while True:
            line = self.rfile.readline()
            if not line:
                return b"".join(chunks), False
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers
                    pass
                return b"".join(chunks), True
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _handle(self) -> None:
        ended = self.lines.last_line in (b"\r\n", b"\n")  # the header block's blank line
        request_line: bytes = getattr(self, "raw_requestline", b"")
        head_whole = request_line.endswith(b"\n") and ended
        body, body_whole = self._read_body()
        request = ReceivedRequest(
            method=self.command,
            path=self.path,
            headers=Headers(self.headers.items()),
            body=body,
            received_at=time.time(),
            raw_headers=tuple(self.headers.items()),
            complete=head_whole and body_whole,
        )
        reply = self.server.recorder._record(request)
        if not request.complete:
            self.close_connection = True
            return
        self._answer(reply)

    def _answer(self, reply: Reply) -> None:
        stopping = self.server.recorder._stopping
        if reply.hold is not None:
            reply.hold.wait(HOLD_LIMIT)
        if reply.delay:
            stopping.wait(reply.delay)
        try:
            if reply.fault is not None:
                self.close_connection = True
                self._misbehave(reply.fault)
                return
            body, headers = reply.encoded()
            self.send_response(reply.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not reply.drip:
                self.wfile.write(body)
                return
            step = max(1, len(body) // 10)
            for start in range(0, len(body), step):
                self.wfile.write(body[start : start + step])
                self.wfile.flush()
                stopping.wait(reply.drip)
        except OSError:
            self.close_connection = True  # the sender gave up (its timeout)

    def _misbehave(self, fault: str) -> None:
        if fault == "hang":
            self.server.recorder._stopping.wait(HOLD_LIMIT)
        elif fault == "reset":  # SO_LINGER 0: close() sends RST, not FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                self.connection.close()
        elif fault == "garbage":
            self.wfile.write(GARBAGE)
        else:
            self.wfile.write(TRUNCATED)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests inspect .requests instead
