"""Drive mock-semble from tests: an HTTP client and an in-process server.

``MockSembleServer`` is a context manager usable from pytest, unittest or scripts::

    with MockSembleServer(seed=1) as server:
        server.execute("{ webhooks { id } }")
        server.fire("PATIENT_CREATED")

``MockSembleClient`` has the same conveniences for a server that runs elsewhere (a
container, ``mock-semble serve``). The pytest plugin's ``mock_semble`` fixture *is*
a ``MockSembleServer``, so the fixture and the context manager share every method.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from ..app import create_app
from ..control.inspector import stop_streams
from ..core.errors import ConfigError
from ..core.events import to_dotted, to_enum_name
from ..core.server import build_server, listening_socket, mark_listening
from ..core.settings import Settings, normalise_options
from ..delivery.engine import engine_of
from .client import MockSembleClient

# What the pytest fixture starts with (README, "Testing with pytest"): receivers are
# local, and failed deliveries retry within a fraction of a second, not 31 s.
PYTEST_DEFAULTS: dict[str, Any] = {
    "allow_http_localhost": True,
    "retry_schedule": (0.05, 0.1, 0.2),
    "delivery_timeout": 5.0,
}


def settings_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Check and normalise Settings options given as Python values or as strings (from
    an ini file): ``retry_schedule="0.1,0.5"``, ``state_file="s.json"``, ``seed="1"``…"""
    return normalise_options(options)


def api_event_types(event_types: Iterable[str], mode: str) -> list[str]:
    """Event types as the API version ``mode`` takes them: dotted strings for ``strings``,
    enum names for ``enum`` (a type without one is left as given, for the API to refuse)."""
    dotted = [to_dotted(t) for t in event_types]
    if mode == "strings":
        return dotted
    return [to_enum_name(t) or t for t in dotted]


class MockSembleServer(MockSembleClient):
    """A uvicorn server on a free port, in a daemon thread, with its own runtime.

    Keyword options are :class:`~mock_semble.config.Settings` fields (the CLI's flags
    with underscores), e.g. ``seed=1``, ``delivery_mode="record"``,
    ``retry_schedule=(0.1, 0.5)``, ``state_file="state.json"``. Without ``settings``
    the base is the CLI's defaults plus ``allow_http_localhost=True``.
    """

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        base = settings or Settings(allow_http_localhost=True)
        options = settings_options(options)
        if "host" in options or "port" in options:
            raise ConfigError("MockSembleServer always listens on 127.0.0.1, on a free port")
        self.settings = Settings.from_options({**options, "host": "127.0.0.1", "port": 0}, base)
        super().__init__(token=self.settings.default_token, admin_token=self.settings.admin_token)
        self._thread: threading.Thread | None = None
        self._server: Any = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> MockSembleServer:
        self.app = create_app(self.settings)  # ConfigError for a bad state file
        self.runtime = self.app.state.runtime  # in-process escape hatch
        # A --state-file brings its own tokens: the default token is its first one.
        self.token = self.runtime.default_token
        self.practice_id = self.runtime.default_practice_id
        # the same serving as `mock-semble serve`: connection guard, deliveries stopped
        # before open requests drain, no delivery to our own address
        sock = listening_socket("127.0.0.1", 0)
        port = mark_listening(self.runtime, sock)[1]
        self._server = build_server(
            self.app, self.settings, before_drain=engine_of(self.runtime).stop
        )
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
        self.close()
        if self._server is not None and self._thread is not None:
            stop_streams(self.app)  # an open /__mock/stream would hold the shutdown
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = self._thread = None

    def create_webhook(
        self,
        url: str,
        event_types: Iterable[str] = ("PATIENT_CREATED",),
        *,
        label: str = "test webhook",
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """:meth:`MockSembleClient.create_webhook` taking event types in either form
        (``PATIENT_CREATED`` or ``patient.created``): they are sent in the form this
        server's API version (``event_types``) takes, so a test runs in both modes."""
        return super().create_webhook(
            url,
            api_event_types(event_types, self.settings.event_types),
            label=label,
            headers=headers,
            token=token,
        )

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> MockSembleServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
