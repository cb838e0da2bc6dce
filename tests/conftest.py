"""Shared fixtures for the project's own tests."""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from mock_semble.app import create_app
from mock_semble.core.settings import Settings
from mock_semble.testing import MockSembleServer
from mock_semble.testing.documents import (
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    GET_WEBHOOK,
    LIST_WEBHOOKS,
    UPDATE_WEBHOOK,
)

GraphQLCall = Callable[..., Any]

# -- Hypothesis ---------------------------------------------------------------------------------
# CI (the CI variable set): derandomised, so a red build draws the same examples again, and
# twice the default examples for tests that do not set their own. Elsewhere: random
# examples from one seed per run, printed with each failure so it can be replayed.
# No deadline in either: on shared CI cores a slow example is not a failure.
hypothesis_settings.register_profile(
    "ci", derandomize=True, max_examples=200, deadline=None, print_blob=True
)
hypothesis_settings.register_profile("dev", deadline=None, print_blob=True)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Choose the run's seed before Hypothesis reads ``--hypothesis-seed``; xdist workers
    take the controller's."""
    from_controller = getattr(config, "workerinput", {}).get("hypothesis_seed")
    if from_controller is not None:
        config.option.hypothesis_seed = from_controller
    elif config.getoption("hypothesis_seed", None) is None:
        config.option.hypothesis_seed = str(random.SystemRandom().randrange(2**32))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: hand the controller's seed to each worker."""
    node.workerinput["hypothesis_seed"] = node.config.getoption("hypothesis_seed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        if hypothesis_settings.default.derandomize:
            how = f"derandomised profile: CI=1 pytest {item.nodeid!r} draws the same examples"
        else:
            seed = item.config.getoption("hypothesis_seed")
            how = f"pytest --hypothesis-seed={seed} {item.nodeid!r}"
        report.sections.append(("Hypothesis: to replay", how))


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


TOKEN = "test-token"
PRACTICE_ID = "000000000000000000000001"

# The operations' documents (mock_semble.testing.documents), by their short test names
CREATE = CREATE_WEBHOOK
UPDATE = UPDATE_WEBHOOK
DELETE = DELETE_WEBHOOK
LIST = LIST_WEBHOOKS
GET = GET_WEBHOOK


def webhook_input(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "url": "https://example.com/hooks",
        "eventTypes": ["PATIENT_CREATED"],
        "label": "hook",
    }
    base.update(overrides)
    return base


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = TOKEN,
) -> dict[str, Any]:
    """POST a GraphQL operation; returns the JSON body (asserting a 200)."""
    headers = {} if token is None else {"x-token": token}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
