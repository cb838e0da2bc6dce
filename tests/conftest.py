"""Shared fixtures for the project's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from mock_semble.app import create_app
from mock_semble.config import Settings
from mock_semble.testing import MockSembleServer

GraphQLCall = Callable[..., Any]


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """In-process HTTP client (no socket), lifespan not started."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as c:
        yield c


@pytest.fixture
def live_server() -> Iterator[Callable[..., MockSembleServer]]:
    """Factory: ``live_server(**settings)`` starts a real server on a free port."""
    servers: list[MockSembleServer] = []

    def start(**options: Any) -> MockSembleServer:
        server = MockSembleServer(**options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
