"""Authentication, permissions, practice scoping and the error channels of SPEC §1.3."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conftest import CREATE, DELETE, GET, LIST, UPDATE, gql, webhook_input

pytestmark = pytest.mark.anyio
ALL = ["seeWebhooks", "createWebhooks", "editWebhooks", "deleteWebhooks"]


async def new_practice(
    client: httpx.AsyncClient, *, enabled: bool = True, perms: list[str] = ALL
) -> str:
    r = await client.post("/__mock/practices", json={"name": "Other", "webhooksEnabled": enabled})
    assert r.status_code == 201, r.text
    practice = r.json()
    r = await client.post(
        "/__mock/tokens", json={"practiceId": practice["id"], "permissions": perms}
    )
    assert r.status_code == 201, r.text
    return r.json()["token"]


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    r = await client.post("/graphql", json={"query": LIST})
    assert r.status_code == 401
    assert r.json() == {
        "errors": [{"message": "Missing token.", "extensions": {"code": "UNAUTHENTICATED"}}]
    }


@pytest.mark.parametrize("token", ["nope", "", "Bearer nope", "test-token-x"])
async def test_unknown_token_is_401(client: httpx.AsyncClient, token: str) -> None:
    r = await client.post("/graphql", json={"query": LIST}, headers={"x-token": token})
    assert r.status_code == 401
    message = "Missing token." if not token else "Invalid token."
    assert r.json()["errors"][0] == {"message": message, "extensions": {"code": "UNAUTHENTICATED"}}


@pytest.mark.parametrize("token", ["test-token", "Bearer test-token", "bearer test-token"])
async def test_bearer_prefix_is_tolerated(client: httpx.AsyncClient, token: str) -> None:
    body = await gql(client, LIST, token=token)
    assert body == {"data": {"webhooks": []}}


CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("seeWebhooks", LIST, {}, "webhooks"),
    ("seeWebhooks", GET, {"id": "0" * 24}, "webhook"),
    ("createWebhooks", CREATE, {"input": webhook_input()}, "createWebhook"),
    ("editWebhooks", UPDATE, {"id": "0" * 24, "input": {}}, "updateWebhook"),
    ("deleteWebhooks", DELETE, {"id": "0" * 24}, "deleteWebhook"),
]


@pytest.mark.parametrize(("permission", "query", "variables", "field"), CASES)
async def test_each_operation_needs_its_permission(
    client: httpx.AsyncClient, permission: str, query: str, variables: dict[str, Any], field: str
) -> None:
    token = await new_practice(client, perms=[p for p in ALL if p != permission])
    body = await gql(client, query, variables, token=token)
    assert body["data"] is None or body["data"][field] is None
    (error,) = body["errors"]
    assert error["message"] == f"Missing permission: {permission}"
    assert error["extensions"] == {"code": "FORBIDDEN"}
    assert error["path"] == [field]
    allowed = await new_practice(client, perms=[permission])
    assert "errors" not in await gql(client, query, variables, token=allowed)


async def test_permission_is_checked_before_lookup(client: httpx.AsyncClient) -> None:
    token = await new_practice(client, perms=["seeWebhooks"])
    body = await gql(client, DELETE, {"id": "not-an-id"}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "extensions" not in body  # no payload error: the lookup never ran


@pytest.mark.parametrize(("permission", "query", "variables", "field"), CASES)
async def test_disabled_practice_is_forbidden(
    client: httpx.AsyncClient, permission: str, query: str, variables: dict[str, Any], field: str
) -> None:
    token = await new_practice(client, enabled=False)
    body = await gql(client, query, variables, token=token)
    (error,) = body["errors"]
    assert error["message"] == "Webhooks are not enabled for this practice."
    assert error["extensions"] == {"code": "FORBIDDEN"}


async def test_practices_are_isolated(client: httpx.AsyncClient) -> None:
    other = await new_practice(client)
    mine = (await gql(client, CREATE, {"input": webhook_input()}))["data"]["createWebhook"]["data"]
    # the same url + event in another practice is no conflict
    theirs = await gql(client, CREATE, {"input": webhook_input()}, token=other)
    assert theirs["data"]["createWebhook"]["error"] is None
    assert [s["id"] for s in (await gql(client, LIST, token=other))["data"]["webhooks"]] == [
        theirs["data"]["createWebhook"]["data"]["id"]
    ]
    # a foreign id is indistinguishable from a missing one
    assert (await gql(client, GET, {"id": mine["id"]}, token=other))["data"]["webhook"] is None
    for query, extra in ((UPDATE, {"input": {"label": "x"}}), (DELETE, {})):
        foreign = await gql(client, query, {"id": mine["id"], **extra}, token=other)
        missing = await gql(client, query, {"id": "f" * 24, **extra}, token=other)
        assert foreign == missing
    got = (await gql(client, GET, {"id": mine["id"]}))["data"]["webhook"]
    assert got["deleted"] is False and got["url"] == mine["url"]


# -- GraphQL-level errors --------------------------------------------------------------


async def test_syntax_error_code(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ webhooks { id ")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


@pytest.mark.parametrize(
    "query",
    [
        "{ nope }",
        "{ webhooks }",
        'mutation { createWebhook(input: {url: "https://x", eventTypes: [NOPE], label: "x"}) '
        "{ error } }",
        'mutation { createWebhook(input: {url: "https://x", label: "x"}) { error } }',
        "subscription { webhooks { id } }",
    ],
)
async def test_validation_error_code(client: httpx.AsyncClient, query: str) -> None:
    body = await gql(client, query)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize(
    "variables",
    [
        {"input": {"url": "https://x.com", "eventTypes": ["NOPE"], "label": "x"}},
        {"input": {"url": "https://x.com", "label": "x"}},
        {"input": {"url": 5, "eventTypes": ["PATIENT_CREATED"], "label": "x"}},
        {},
    ],
)
async def test_bad_variables_are_bad_user_input(
    client: httpx.AsyncClient, variables: dict[str, Any]
) -> None:
    body = await gql(client, CREATE, variables)
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    assert (await gql(client, LIST))["data"]["webhooks"] == []


async def test_unknown_operation_name(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/graphql", json={"query": LIST, "operationName": "Nope"}, headers={"x-token": "test-token"}
    )
    assert r.status_code == 200
    assert r.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_several_operations_need_an_operation_name(client: httpx.AsyncClient) -> None:
    query = "query A { webhooks { id } } query B { webhooks { url } }"
    body = await gql(client, query)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["message"] == "Must provide operation name if query contains multiple operations."
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    r = await client.post(
        "/graphql", json={"query": query, "operationName": "B"}, headers={"x-token": "test-token"}
    )
    assert r.json() == {"data": {"webhooks": []}}
