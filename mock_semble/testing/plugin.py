"""pytest plugin (registered through the ``pytest11`` entry point): fixtures
``mock_semble``, ``mock_semble_server``, ``webhook_receiver`` and ``app_receiver``.

- One mock-semble server per test session (per xdist worker: each worker is its own
  process), started on first use on a free port in a thread; ``mock_semble`` resets it
  before every test, so tests never see each other's data.
- ``@pytest.mark.mock_semble(**options)`` runs a test against a server with those
  Settings options; one such server is started per distinct option set, also reset
  before each test.
- ini ``mock_semble_options`` (lines of ``name=value``) changes the session defaults.
- ini ``mock_semble_process`` (or ``--mock-semble-process``): ``thread`` (default: the
  server runs in this process, ``.runtime`` is at hand and a reset is a function call)
  or ``subprocess`` (its own process: calls do not compete with the test for the GIL).

Imports of the server stack happen inside the fixtures, so merely having the package
installed costs a pytest run nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .app_receiver import AppReceivers
    from .receiver import WebhookReceiver
    from .server import MockSembleServer

MARKER = "mock_semble"
INI_OPTIONS = "mock_semble_options"
INI_PROCESS = "mock_semble_process"
PROCESS_MODES = ("thread", "subprocess")
RESET_TIMEOUT_S = 30.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_OPTIONS,
        type="linelist",
        default=[],
        help="mock-semble server options for the mock_semble fixture, one name=value per "
        "line (Settings fields, e.g. seed=1, signing_scheme=standard)",
    )
    parser.addini(
        INI_PROCESS,
        default="thread",
        help="where the mock_semble fixture's server runs: thread (this process; .runtime "
        "available) or subprocess (its own process; faster calls)",
    )
    parser.addoption(
        "--mock-semble-process",
        choices=PROCESS_MODES,
        default=None,
        help=f"overrides the {INI_PROCESS} ini option",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): run against a mock-semble server started with these options "
        "(Settings fields, e.g. seed=1, delivery_mode='record'); the mock_semble fixture "
        "gives that server",
    )


def parse_ini_options(lines: list[str]) -> dict[str, str]:
    """``["seed=1", "delivery_mode = record"]`` -> ``{"seed": "1", ...}``."""
    options: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            pytest.fail(f"{INI_OPTIONS}: expected name=value, got {line!r}", pytrace=False)
        options[name.strip()] = value.strip()
    return options


class ServerPool:
    """The session's servers, one per distinct option set, started on first use."""

    def __init__(self, defaults: Mapping[str, Any], process: str = "thread") -> None:
        self.defaults = dict(defaults)
        self.process = process
        self._servers: dict[str, MockSembleServer] = {}

    def get(self, options: Mapping[str, Any] | None = None) -> MockSembleServer:
        from ..core.errors import ConfigError
        from .server import MockSembleServer, settings_options
        from .subprocess_server import SubprocessServer

        try:
            merged = settings_options({**self.defaults, **(options or {})})
        except ConfigError as exc:
            # A one-line test error, not a traceback into the plugin.
            pytest.fail(f"mock_semble options: {exc}", pytrace=False)
        key = repr(sorted(merged.items()))
        server = self._servers.get(key)
        if server is not None and not server.running:
            raise RuntimeError(f"the mock-semble server at {server.url} has stopped")
        if server is None:
            try:
                kind = SubprocessServer if self.process == "subprocess" else MockSembleServer
                server = kind(**merged).start()
            except ConfigError as exc:  # e.g. a bad state_file
                pytest.fail(f"mock_semble options: {exc}", pytrace=False)
            self._servers[key] = server
        return server

    def close(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()


@pytest.fixture(scope="session")
def _mock_semble_pool(pytestconfig: pytest.Config) -> Iterator[ServerPool]:
    """Every mock-semble server of this session (stopped when the session ends)."""
    from .server import PYTEST_DEFAULTS

    ini = parse_ini_options(pytestconfig.getini(INI_OPTIONS))
    process = pytestconfig.getoption("--mock-semble-process") or pytestconfig.getini(INI_PROCESS)
    if process not in PROCESS_MODES:
        pytest.fail(f"{INI_PROCESS} must be one of {', '.join(PROCESS_MODES)}", pytrace=False)
    pool = ServerPool({**PYTEST_DEFAULTS, **ini}, str(process))
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def mock_semble_server(_mock_semble_pool: ServerPool) -> MockSembleServer:
    """The session's default server, *not* reset between tests (for session fixtures;
    tests normally want ``mock_semble``, which resets it)."""
    return _mock_semble_pool.get()


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    """Options of the closest ``mock_semble`` markers (test over class over module)."""
    markers = list(request.node.iter_markers(MARKER))
    if not markers:
        return None
    options: dict[str, Any] = {}
    for marker in reversed(markers):  # farthest first, so the closest wins
        if marker.args:
            pytest.fail(f"@pytest.mark.{MARKER} takes keyword options only", pytrace=False)
        options.update(marker.kwargs)
    return options


@pytest.fixture
def mock_semble(request: pytest.FixtureRequest, _mock_semble_pool: ServerPool) -> MockSembleServer:
    """A running mock-semble server, reset to its start-up state for this test.

    ``.url``, ``.graphql_url``, ``.token``, ``.practice_id``, ``.execute()``,
    ``.new_practice()``, ``.fire()``, ``.deliveries()``, ``.freeze_clock()``, ``.reset()``…
    (see :class:`mock_semble.testing.MockSembleClient`)."""
    options = _marker_options(request)
    server = _mock_semble_pool.get(options)
    reset(server)
    return server


def reset(server: MockSembleServer) -> None:
    """Back to the start-up state. In this process: the ``Runtime.reset`` that
    ``POST /__mock/reset`` runs, handed to the server's event loop (so it never races a
    delivery task) without an HTTP round trip; in a subprocess: the HTTP call."""
    runtime = server.__dict__.get("runtime")  # a subprocess server has none
    uvicorn_server = server.__dict__.get("_server")
    listeners = getattr(uvicorn_server, "servers", None)
    if runtime is None or not listeners:
        server.reset()
        return
    done: Future[None] = Future()

    def on_loop() -> None:
        try:
            runtime.reset()
        except BaseException as exc:  # reported in the test, not lost on the loop
            done.set_exception(exc)
            return
        done.set_result(None)
        runtime.collect_garbage()  # after the test may go on, like the HTTP route's

    listeners[0].get_loop().call_soon_threadsafe(on_loop)
    done.result(timeout=RESET_TIMEOUT_S)


@pytest.fixture
def app_receiver() -> Iterator[AppReceivers]:
    """Serve your own ASGI/WSGI app for this test: ``url = app_receiver(app)``."""
    from .app_receiver import AppReceivers

    receivers = AppReceivers()
    yield receivers
    receivers.close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local HTTP endpoint that records every request and answers as scripted."""
    from .receiver import WebhookReceiver

    with WebhookReceiver() as receiver:
        yield receiver
