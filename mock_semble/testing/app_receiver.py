"""Serve *your* web app for the length of a test, so the mock delivers into it.

``app_receiver(app)`` (the pytest fixture) or ``with serve_app(app) as url:`` runs an
ASGI app (FastAPI, Starlette, …; under uvicorn) or a WSGI app (Flask, Django, …; under
the standard library's wsgiref) on ``127.0.0.1`` and a free port, in a thread of the
test process, and gives its base URL::

    def test_my_endpoint(mock_semble, app_receiver):
        url = app_receiver(app)                         # http://127.0.0.1:PORT
        mock_semble.create_webhook(url + "/semble/webhooks")
        [delivery] = mock_semble.fire("PATIENT_CREATED")
        assert delivery["status"] == "succeeded"        # your app answered 2xx

The app is stopped when the test ends (or the ``with`` block is left).
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any, Literal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import uvicorn

Interface = Literal["auto", "asgi", "wsgi"]
START_TIMEOUT_S = 10.0


def detect_interface(app: Any) -> Literal["asgi3", "wsgi"]:
    """ASGI apps are coroutine callables (``async def __call__``); anything else that is
    callable is taken for WSGI (``app(environ, start_response)``)."""
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else type(app).__call__
    return "asgi3" if inspect.iscoroutinefunction(call) else "wsgi"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # no line per request
        pass


class AppServer:
    """One app in a daemon thread (uvicorn for ASGI, wsgiref for WSGI); ``.url`` once
    started."""

    def __init__(self, app: Any, *, interface: Interface = "auto") -> None:
        if not callable(app):
            raise TypeError(f"app_receiver needs an ASGI or WSGI app, got {type(app).__name__}")
        if interface == "auto":
            self.interface = detect_interface(app)
        else:
            self.interface = "asgi3" if interface == "asgi" else "wsgi"
        self.app = app
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._wsgi: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def start(self) -> AppServer:
        if self.interface == "wsgi":
            return self._start_wsgi()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app, interface="asgi3", lifespan="auto", log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        self._server = server

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # reported by start(), not lost in the thread
                self._failure = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name=f"app-receiver-{port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the app under test did not start: {self._failure!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the app under test did not start within {START_TIMEOUT_S} s")
            time.sleep(0.005)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def _start_wsgi(self) -> AppServer:
        wsgi = make_server(
            "127.0.0.1",
            0,
            self.app,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        self._wsgi = wsgi
        self._thread = threading.Thread(
            target=wsgi.serve_forever, name=f"app-receiver-{wsgi.server_port}", daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{wsgi.server_port}"
        return self

    def stop(self) -> None:
        if self._wsgi is not None:
            self._wsgi.shutdown()
            self._wsgi.server_close()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._server = self._wsgi = self._thread = None

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def serve_app(app: Any, *, interface: Interface = "auto") -> Iterator[str]:
    """``with serve_app(app) as url:`` — the app served on a free local port."""
    with AppServer(app, interface=interface) as server:
        yield server.url


class AppReceivers:
    """What the ``app_receiver`` fixture gives: call it with an app, get its URL. Every
    app it started is stopped when the test ends."""

    def __init__(self) -> None:
        self._servers: list[AppServer] = []

    def __call__(self, app: Any, *, interface: Interface = "auto") -> str:
        server = AppServer(app, interface=interface).start()
        self._servers.append(server)
        return server.url

    def close(self) -> None:
        while self._servers:
            self._servers.pop().stop()
