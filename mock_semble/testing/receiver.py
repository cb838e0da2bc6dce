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
Beyond status codes it can answer slowly (``delay``, ``drip``), hold answers until
released (``hold``), misbehave (``fault``), serve TLS (``tls=``) and accept late
(``accept_delay=``), which is what delivery tests need from a receiver.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ..delivery.signing import DEFAULT_SCHEME, DEFAULT_TOLERANCE, SignatureError, verify
from .receiver_wire import FAULTS, Headers, ReceivedRequest, ReceiverServer, Reply

Responder = Callable[[ReceivedRequest], "Reply | int"]
FILLERS = 3  # connections that fill a zero backlog, so that later ones wait (accept_delay)


@dataclass
class _Script:
    respond: Reply | Responder
    times: int | None  # None: for every request from now on


class WebhookReceiver:
    """An HTTP endpoint on 127.0.0.1 that records requests and plays scripted replies.

    With nothing scripted every request gets ``200 ok``. ``respond_with`` queues
    replies; each answers ``times`` requests (``None``: all further ones), in order.

    ``tls``: serve HTTPS with this server-side context. ``keep``: remember only the
    last ``keep`` requests (``count`` still counts all; incomplete ones are always
    kept), for long runs. ``accept_delay``: accept no connection for this many seconds
    after ``start()`` (clients wait in the kernel's queue, as with an overloaded host).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        keep: int | None = None,
        accept_delay: float = 0.0,
    ) -> None:
        if keep is not None and keep < 0:
            raise ValueError("keep must be 0 or more (or None to keep every request)")
        self.host = host
        self.url = ""
        self._stopping = threading.Event()
        self._port = port
        self._tls = tls
        self._accept_delay = accept_delay
        self._requests: deque[ReceivedRequest] = deque(maxlen=keep)
        self._incomplete: list[ReceivedRequest] = []
        self._count = 0
        self._scripts: list[_Script] = []
        self._holds: set[threading.Event] = set()
        self._cond = threading.Condition()
        self._server: ReceiverServer | None = None
        self._thread: threading.Thread | None = None
        self._serving = False
        self._fillers: list[socket.socket] = []
        self._connections: set[socket.socket] = set()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> WebhookReceiver:
        server = ReceiverServer((self.host, self._port), self, self._tls)
        try:
            server.server_bind()
            if self._accept_delay:
                server.request_queue_size = 0
            server.server_activate()
        except OSError:
            server.server_close()
            raise
        self._server = server
        self._stopping.clear()
        self._serving = False
        if self._accept_delay:
            self._fill_backlog(server.server_port)
        self._thread = threading.Thread(
            target=self._serve,
            name=f"webhook-receiver-{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        scheme = "https" if self._tls is not None else "http"
        self.url = f"{scheme}://{self.host}:{server.server_port}"
        return self

    def _fill_backlog(self, port: int) -> None:
        for _ in range(FILLERS):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex((self.host, port))
            self._fillers.append(filler)

    def _serve(self) -> None:
        if self._accept_delay and self._stopping.wait(self._accept_delay):
            return
        for filler in self._fillers:  # accepted first, they end at once
            filler.close()
        with self._cond:  # stop() either sees this or is seen here: never a lost shutdown
            if self._stopping.is_set() or self._server is None:
                return
            self._serving = True
            server = self._server
        server.serve_forever(poll_interval=0.05)

    @property
    def port(self) -> int:
        """The port it listens on (after ``start()``)."""
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return int(self._server.server_port)

    def stop(self) -> None:
        """Stop serving; held and hanging answers are let go first."""
        if self._server is None:
            return
        with self._cond:
            self._stopping.set()
            serving = self._serving
        self.release()
        if serving:
            self._server.shutdown()
        self._server.server_close()
        with self._cond:
            connections, self._connections = list(self._connections), set()
        for conn in connections:  # wake handler threads blocked on idle connections
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for filler in self._fillers:
            filler.close()
        self._fillers.clear()
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
        status: int | Reply | Responder = 200,
        body: bytes | str | Mapping[str, Any] | list[Any] = b"",
        *,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
        delay: float = 0.0,
        drip: float = 0.0,
        hold: threading.Event | None = None,
        fault: str | None = None,
    ) -> WebhookReceiver:
        """Queue a reply for the next ``times`` requests (``None``: every later one).

        ``status`` may be a :class:`Reply`, or a callable ``f(request) -> Reply | int``
        deciding per request (it runs before the answer, so it can also change the
        mock's state mid-delivery). ``delay`` holds the answer back (to trigger the
        sender's timeout); ``drip`` sends the body in ten slow pieces; ``hold`` answers
        once that event is set (or at :meth:`release`); ``fault`` is one of
        ``"hang"``, ``"reset"``, ``"garbage"``, ``"truncated"``."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for every request)")
        reply: Reply | Responder
        if isinstance(status, Reply) or callable(status):
            reply = status
        else:
            reply = Reply(status, body, dict(headers or {}), delay, drip, hold, fault)
        with self._cond:
            if isinstance(reply, Reply) and reply.hold is not None:
                self._holds.add(reply.hold)
            self._scripts.append(_Script(reply, times))
        return self

    def release(self) -> None:
        """Let every held answer go (the events given as ``hold`` are set)."""
        with self._cond:
            holds = list(self._holds)
        for hold in holds:
            hold.set()

    def clear(self) -> None:
        """Forget recorded requests and scripted replies."""
        with self._cond:
            self._requests.clear()
            self._incomplete.clear()
            self._count = 0
            self._scripts.clear()

    # -- inspection ----------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request so far (the last ``keep``), in arrival order (a copy)."""
        with self._cond:
            return list(self._requests)

    @property
    def count(self) -> int:
        """How many requests arrived, kept or not."""
        with self._cond:
            return self._count

    @property
    def incomplete(self) -> list[ReceivedRequest]:
        """Requests whose connection ended before the whole request arrived."""
        with self._cond:
            return list(self._incomplete)

    def wait_for(self, n: int = 1, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Block until at least ``n`` requests arrived; return the ones kept.

        Raises TimeoutError (naming how many came) when ``timeout`` seconds pass first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._count < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"webhook receiver got {self._count} of {n} request(s) within {timeout} s"
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

    # -- called by the handler threads ---------------------------------------------------

    def _record(self, request: ReceivedRequest) -> Reply:
        """Keep ``request`` and pick its reply (a handler thread calls this)."""
        with self._cond:
            self._count += 1
            self._requests.append(request)
            if not request.complete:
                self._incomplete.append(request)
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
        reply = outcome if isinstance(outcome, Reply) else Reply(int(outcome))
        if reply.hold is not None:
            with self._cond:
                self._holds.add(reply.hold)
            if self._stopping.is_set():
                reply.hold.set()
        return reply

    def _track(self, conn: socket.socket, open_: bool) -> None:
        with self._cond:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


__all__ = ["FAULTS", "Headers", "ReceivedRequest", "Reply", "Responder", "WebhookReceiver"]
