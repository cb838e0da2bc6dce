"""Run a real mock-semble server inside the current process (a thread), for tests.

``MockSembleServer`` is a context manager usable from pytest, unittest or scripts::

    with MockSembleServer(seed=1) as server:
        httpx.post(server.graphql_url, headers={"x-token": server.token}, json=...)
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
from types import TracebackType
from typing import Any

from .config import Settings


class MockSembleServer:
    """A uvicorn server on a free port, in a daemon thread, with its own runtime.

    Keyword options are :class:`~mock_semble.config.Settings` fields (the CLI's flags
    with underscores), e.g. ``seed=1``, ``delivery_mode="record"``,
    ``allow_http_localhost=True``, ``retry_schedule=()``.
    """

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        base = settings or Settings(allow_http_localhost=True)
        self.settings = dataclasses.replace(base, host="127.0.0.1", port=0, **options)
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> MockSembleServer:
        import uvicorn

        from .app import create_app

        self.app = create_app(self.settings)
        self.runtime = self.app.state.runtime
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="on", server_header=False
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[sock])),
            name=f"mock-semble-{port}",
            daemon=True,
        )
        self._thread.start()
        for _ in range(2000):
            if self._server.started:
                break
            if not self._thread.is_alive():
                raise RuntimeError("mock-semble server thread died during start-up")
            threading.Event().wait(0.005)
        else:
            raise RuntimeError("mock-semble server did not start within 10 s")
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = self._thread = None

    def __enter__(self) -> MockSembleServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- conveniences --------------------------------------------------------------

    @property
    def graphql_url(self) -> str:
        return self.url + "/graphql"

    @property
    def token(self) -> str | None:
        return self.settings.default_token

    @property
    def practice_id(self) -> str | None:
        return self.runtime.default_practice_id
