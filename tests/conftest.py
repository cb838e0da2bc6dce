"""Shared fixtures for the project's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from mock_semble.app import create_app
from mock_semble.core.settings import Settings
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


TOKEN = "test-token"
PRACTICE_ID = "000000000000000000000001"

CREATE = """
mutation Create($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    data { id secret url label eventTypes headers { key value } version createdAt updatedAt
           deleted deliveryPaused }
    error
  }
}"""
UPDATE = """
mutation Update($id: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(id: $id, input: $input) {
    data { id secret url label eventTypes headers { key value } updatedAt deleted deliveryPaused }
    error
  }
}"""
DELETE = """
mutation Delete($id: ID!) {
  deleteWebhook(id: $id) { data { id secret deleted updatedAt } error }
}"""
LIST = """
query List($all: Boolean) {
  webhooks(includeDeleted: $all) { id secret url label eventTypes deleted deliveryPaused }
}"""
GET = "query Get($id: ID!) { webhook(id: $id) { id secret url deleted } }"


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
