"""How the mock is served (SPEC §7): the listening socket, uvicorn's settings, and the
connection guard against slow or too many clients.

uvicorn closes idle keep-alive connections but waits forever for a request head that
never ends, and accepts until the process runs out of file descriptors (each failed
``accept()`` then logs a traceback). The guard closes a connection whose request head
or body has not fully arrived within :data:`REQUEST_TIMEOUT` seconds and answers 503
to connections beyond :func:`connection_cap`. uvicorn and h11 are imported inside the
functions: importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import logging
import resource
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp

    from .runtime import Runtime
    from .settings import Settings

log = logging.getLogger("mock_semble.server")

REQUEST_TIMEOUT = 10.0  # seconds for a request head and body to arrive, from its first byte
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open (uvicorn's own timer)
GRACEFUL_SHUTDOWN = 5  # seconds uvicorn waits for open requests at shutdown
MAX_CONNECTIONS = 1000
REFUSED_LINGER = 0.5  # seconds a refused connection is kept to read (and drop) its request
LISTENING = "listening"  # Runtime.extensions key: the (host, port) pairs served
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})
_REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: 37\r\n\r\n"
    b'{"error":"too many open connections"}'
)


def is_loopback(host: str) -> bool:
    """A host name or address that only this machine can reach."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def raise_fd_limit() -> int:
    """Raise the soft open-files limit to the hard one; return the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return soft


def connection_cap(fd_limit: int) -> int:
    """Concurrent connections served: at most 1000, and at most half the file
    descriptors, so deliveries, files and refused sockets always find one."""
    return max(8, min(MAX_CONNECTIONS, fd_limit // 2))


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket (OSError when the address is taken or not local)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only when the
    # listener says so; without it keep-alive responses stall ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def mark_listening(runtime: Runtime, sock: socket.socket) -> tuple[str, int]:
    """Tell the runtime where it is served (deliveries never go there: SPEC §7)."""
    host, port = sock.getsockname()[:2]
    runtime.extensions[LISTENING] = ((str(host), int(port)),)
    return str(host), int(port)


@cache
def guarded_protocol(cap: int, timeout: float = REQUEST_TIMEOUT) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a request deadline and a connection cap."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    waiting_for_client = (h11.IDLE, h11.SEND_BODY)

    class GuardedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _refused = False

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            if len(self.connections) > cap:
                self.connections.discard(self)  # not served: it does not count
                self._refuse()
                return
            self._deadline = self.loop.call_later(timeout, self._expire)

        def _refuse(self) -> None:
            """503 at once, then a short linger: closing with the client's request
            unread would reset the connection before it reads the answer."""
            self.transport.write(_REFUSED)
            with contextlib.suppress(OSError, RuntimeError):
                self.transport.write_eof()
            self.loop.call_later(REFUSED_LINGER, self.transport.close)
            self._refused = True  # what it sends is dropped, never parsed

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if self._deadline is None and not self.transport.is_closing():
                self._deadline = self.loop.call_later(timeout, self._expire)
            super().data_received(data)
            if self.conn.their_state not in waiting_for_client:
                self._cancel_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_deadline()
            if not self._refused:
                super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.conn.their_state not in waiting_for_client:
                self._cancel_deadline()

        def _cancel_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if self.transport.is_closing() or self.conn.their_state not in waiting_for_client:
                return
            log.debug("closed a connection: its request did not arrive within %g s", timeout)
            self.transport.close()

    return GuardedH11Protocol


def tune_gc() -> None:
    """Fewer garbage collections for a server that holds many records: what exists
    before serving (a large --state-file) is frozen out of the collector's scans, and
    young collections run every 10,000 allocations instead of 700, so full ones (which
    scan every record) come a fourteenth as often. Measured at 10^5 subscriptions while
    large answers were built: full collections paused the event loop 85-100 ms each
    (and 100-500 ms on a loaded machine); with this, no pause over 50 ms. Thresholds any
    higher kept the cyclic garbage of large documents for longer (+13 MB in the soak's
    large-document test)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def uvicorn_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """uvicorn's settings for the mock: no access log of its own (it logs query strings),
    no server header, the connection guard."""
    import uvicorn

    return uvicorn.Config(
        app,
        log_level="warning" if settings.log_level != "debug" else "info",
        log_config=None,  # core.logs.configure_logging routes uvicorn's records
        access_log=False,
        lifespan="on",
        server_header=False,
        http=guarded_protocol(connection_cap(raise_fd_limit())),
        timeout_keep_alive=KEEP_ALIVE,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
    )


@cache
def server_class() -> type[uvicorn.Server]:
    """uvicorn's Server, plus: a ready callback, work to do before open requests are
    drained at shutdown, and SIGTERM as a normal exit."""
    import uvicorn

    class MockServer(uvicorn.Server):
        on_ready: Callable[[], None] | None = None
        before_drain: Callable[[], Awaitable[None]] | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit and self.on_ready is not None:
                self.on_ready()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # A request waiting for deliveries (``wait: true``) would hold the drain
            # until its timeout: stop the deliveries first, so it answers at once.
            early: asyncio.Task[None] | None = None
            if self.before_drain is not None:
                early = asyncio.ensure_future(self.before_drain())
            try:
                await super().shutdown(sockets=sockets)
            finally:
                if early is not None:
                    await early

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises the signal that stopped it once shutdown is complete, so
            # SIGTERM would end the process with -15 (143) after a clean shutdown. A
            # finished graceful shutdown on SIGTERM is a normal exit (0); Ctrl-C still 130.
            with super().capture_signals():
                yield
                self._captured_signals = [s for s in self._captured_signals if s != signal.SIGTERM]

    return MockServer


def build_server(
    app: ASGIApp,
    settings: Settings,
    *,
    on_ready: Callable[[], None] | None = None,
    before_drain: Callable[[], Awaitable[None]] | None = None,
) -> Any:
    """A configured server: ``asyncio.run(server.serve(sockets=[sock]))`` runs it."""
    server = server_class()(uvicorn_config(app, settings))
    server.on_ready = on_ready  # type: ignore[attr-defined]
    server.before_drain = before_drain  # type: ignore[attr-defined]
    return server
