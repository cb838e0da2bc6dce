"""Fixtures of the reliability suite (issue 7): figures, CLI-started servers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_semble.testing import MockSembleServer

from .helpers import CliServer, Figures

FIGURES_ENV = "MOCK_SEMBLE_RELIABILITY_FIGURES"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reliability: fuzz, race, fault and soak tests (issue 7)")
    config.addinivalue_line("markers", "soak: the 60-second soak; runs in CI like every test")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="session")
def figures(tmp_path_factory: pytest.TempPathFactory) -> Figures:
    """Where tests write their figures: $MOCK_SEMBLE_RELIABILITY_FIGURES, or a file in
    pytest's temporary directory."""
    given = os.environ.get(FIGURES_ENV)
    path = Path(given) if given else tmp_path_factory.getbasetemp() / "reliability-figures.json"
    return Figures(path)


@pytest.fixture
def cli_server(tmp_path: Path) -> Iterator[Callable[..., CliServer]]:
    """Factory: ``cli_server(*flags, name=...)`` starts ``mock-semble serve`` in its own
    process; every one still running is stopped with SIGTERM at the end of the test."""
    started: list[CliServer] = []

    def start(*args: str, name: str = "server", extra: dict[str, Any] | None = None) -> CliServer:
        server = CliServer(
            *args, log_dir=tmp_path / "logs", name=f"{name}-{len(started)}", extra=extra
        )
        started.append(server)
        return server.start()

    yield start
    for server in started:
        if server.proc is not None and server.proc.poll() is None:
            try:
                server.terminate()
            finally:
                server.kill()


@pytest.fixture(scope="module")
def server() -> Iterator[MockSembleServer]:
    """One in-process server per module, in record mode (deliveries signed, not sent)."""
    with MockSembleServer(delivery_mode="record") as running:
        yield running


@pytest.fixture
def http(server: MockSembleServer) -> Iterator[httpx.Client]:
    """A client of the module's server, reset before and after the test."""
    server.reset()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
    server.reset()
