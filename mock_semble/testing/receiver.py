"""A local webhook receiver for tests: records every request, answers as scripted.

``WebhookReceiver`` is the ``webhook_receiver`` fixture's implementation and works as a
context manager anywhere::

    with WebhookReceiver() as receiver:
        receiver.respond_with(500, times=1)        # first request fails, then 200
        ...                                        # point a subscription at receiver.url
        receiver.wait_for(2)
        receiver.verify(secret)                    # every request correctly signed

It is a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (one thread per connection), so
it needs no event loop and answers while the test thread blocks in ``wait_for``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from ..delivery.signing import DEFAULT_SCHEME, DEFAULT_TOLERANCE, SignatureError, verify

MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT = 5.0  # a kept-alive connection with nothing to say is closed after this


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
    """One request as the receiver got it: the exact body bytes, headers, time."""

    method: str
    path: str
    headers: Headers
    body: bytes
    received_at: float  # time.time()

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
    """A scripted answer: status, body and headers, optionally after a delay."""

    status: int = 200
    body: bytes | str | Mapping[str, Any] | list[Any] = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            return self.body, headers
        if isinstance(self.body, str):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return self.body.encode(), headers
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body).encode(), headers


Responder = Callable[[ReceivedRequest], "Reply | int"]


@dataclass
class _Script:
    respond: Reply | Responder
    times: int | None  # None: for every request from now on


class WebhookReceiver:
    """An HTTP endpoint on 127.0.0.1 that records requests and plays scripted replies.

    With nothing scripted every request gets ``200 ok``. ``respond_with`` queues
    replies; each answers ``times`` requests (``None``: all further ones), in order.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.url = ""
        self._requests: list[ReceivedRequest] = []
        self._scripts: list[_Script] = []
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> WebhookReceiver:
        server = ThreadingHTTPServer((self.host, 0), _handler_for(self))
        server.daemon_threads = True  # stop() must not wait for idle keep-alive threads
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"webhook-receiver-{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        self.url = f"http://{self.host}:{server.server_port}"
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._cond:
            connections, self._connections = list(self._connections), set()
        for conn in connections:  # wake handler threads blocked on idle connections
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- scripting -----------------------------------------------------------------------

    def url_for(self, path: str) -> str:
        """An absolute URL on this receiver: ``url_for("/hooks/a")``."""
        return self.url + "/" + path.lstrip("/")

    def respond_with(
        self,
        status: int | Responder = 200,
        body: bytes | str | Mapping[str, Any] | list[Any] = b"",
        *,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
        delay: float = 0.0,
    ) -> WebhookReceiver:
        """Queue a reply for the next ``times`` requests (``None``: every later one).

        ``status`` may be a callable ``f(request) -> Reply | int`` deciding per request.
        ``delay`` holds the answer back (to trigger the sender's timeout)."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for every request)")
        reply: Reply | Responder
        reply = status if callable(status) else Reply(status, body, dict(headers or {}), delay)
        with self._cond:
            self._scripts.append(_Script(reply, times))
        return self

    def clear(self) -> None:
        """Forget recorded requests and scripted replies."""
        with self._cond:
            self._requests.clear()
            self._scripts.clear()

    # -- inspection ----------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request so far, in arrival order (a copy)."""
        with self._cond:
            return list(self._requests)

    def wait_for(self, n: int = 1, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Block until at least ``n`` requests arrived; return them all.

        Raises TimeoutError (naming how many came) when ``timeout`` seconds pass first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"webhook receiver got {len(self._requests)} of {n} request(s) "
                        f"within {timeout} s"
                    )
                self._cond.wait(left)
            return list(self._requests)

    def verify(
        self,
        secret: str,
        scheme: str = DEFAULT_SCHEME,
        *,
        requests: list[ReceivedRequest] | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        now: int | None = None,
    ) -> int:
        """Check each recorded request's signature with the public :func:`verify`.

        Raises the first :class:`~mock_semble.signing.SignatureError` (a note names the
        request), or AssertionError when there is nothing to verify. Returns how
        many requests were verified. With a frozen mock clock pass ``now=`` (unix s)."""
        batch = self.requests if requests is None else requests
        if not batch:
            raise AssertionError("webhook receiver has no requests to verify")
        for index, request in enumerate(batch):
            try:
                verify(
                    request.body,
                    request.headers,
                    secret,
                    scheme=scheme,
                    tolerance=tolerance,
                    now=now,
                )
            except SignatureError as exc:
                exc.add_note(f"webhook receiver request #{index}: {request.method} {request.path}")
                raise
        return len(batch)

    # -- called by the handler threads -------------------------------------------------------

    def _record(self, request: ReceivedRequest) -> Reply:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
            script = self._scripts[0] if self._scripts else None
            if script is not None and script.times is not None:
                script.times -= 1
                if script.times == 0:
                    self._scripts.pop(0)
        if script is None:
            return Reply(200, b"ok")
        if isinstance(script.respond, Reply):
            return script.respond
        outcome = script.respond(request)
        return outcome if isinstance(outcome, Reply) else Reply(int(outcome))

    def _track(self, conn: socket.socket, open_: bool) -> None:
        with self._cond:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real receiver
        timeout = IDLE_TIMEOUT

        def setup(self) -> None:
            super().setup()
            receiver._track(self.connection, True)

        def finish(self) -> None:
            receiver._track(self.connection, False)
            super().finish()

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline().strip():  # trailers
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(min(length, MAX_BODY))

        def _handle(self) -> None:
            request = ReceivedRequest(
                method=self.command,
                path=self.path,
                headers=Headers(self.headers.items()),
                body=self._read_body(),
                received_at=time.time(),
            )
            reply = receiver._record(request)
            if reply.delay:
                time.sleep(reply.delay)
            body, headers = reply.encoded()
            try:
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                self.close_connection = True  # the sender gave up (its timeout)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests inspect .requests instead

    return Handler
