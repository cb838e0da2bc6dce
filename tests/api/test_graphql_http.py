"""HTTP behaviour of /graphql: body limits, malformed requests, query limits, masking."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import LIST, gql
from graphql import get_introspection_query

pytestmark = pytest.mark.anyio
AUTH = {"x-token": "test-token"}


async def post_raw(
    client: httpx.AsyncClient, content: bytes, content_type: str = "application/json"
) -> httpx.Response:
    return await client.post(
        "/graphql", content=content, headers={**AUTH, "content-type": content_type}
    )


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 400),
        (b"\xff\xfe\x00", 400),
        (b"[]", 400),
        (b'"query"', 400),
        (b"null", 400),
        (b"{}", 400),
        (b'{"query": 5}', 400),
        (b'{"query": ""}', 400),
        (b'{"query": "{ webhooks { id } }", "variables": []}', 400),
        (b'{"query": "{ webhooks { id } }", "operationName": 3}', 400),
        (b"", 400),
    ],
)
async def test_malformed_bodies_are_4xx_json(
    client: httpx.AsyncClient, content: bytes, status: int
) -> None:
    r = await post_raw(client, content)
    assert r.status_code == status
    (error,) = r.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST" and error["message"]


async def test_non_json_content_type_is_415(client: httpx.AsyncClient) -> None:
    r = await post_raw(client, json.dumps({"query": LIST}).encode(), "text/plain")
    assert r.status_code == 415
    assert r.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_body_over_one_mib_is_413(client: httpx.AsyncClient) -> None:
    padding = "x" * (1024 * 1024)
    r = await post_raw(client, json.dumps({"query": LIST, "variables": {"p": padding}}).encode())
    assert r.status_code == 413
    assert r.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_body_over_one_mib_without_content_length_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b" " * 65536
        yield json.dumps({"query": LIST}).encode()

    r = await client.post(
        "/graphql", content=chunks(), headers={**AUTH, "content-type": "application/json"}
    )
    assert r.status_code == 413


async def test_body_just_under_the_limit_is_served(client: httpx.AsyncClient) -> None:
    body = json.dumps({"query": LIST, "variables": {"p": ""}})
    body = body.replace('"p": ""', '"p": "' + "x" * (1024 * 1024 - len(body) - 10) + '"')
    r = await post_raw(client, body.encode())
    assert r.status_code == 200 and r.json() == {"data": {"webhooks": []}}


def nested(depth: int) -> str:
    # webhooks { headers { key } } is depth 2; wrap in fragments-free inline fragments
    inner = "id"
    for _ in range(depth - 1):
        inner = f"... on WebhookSubscription {{ {inner} }}"
    return "{ webhooks { " + inner + " } }"


async def test_depth_limit(client: httpx.AsyncClient) -> None:
    deep = "query { " + "webhooks { headers { key } } " + "}"
    assert "errors" not in await gql(client, deep)
    # Introspection nests ofType; 25 levels is beyond the limit of 20.
    too_deep = "{ __schema { types { " + "ofType { " * 24 + "name" + " }" * 24 + " } } }"
    body = await gql(client, too_deep)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_alias_limit(client: httpx.AsyncClient) -> None:
    ok = "{ " + " ".join(f"a{i}: webhooks {{ id }}" for i in range(30)) + " }"
    assert "errors" not in await gql(client, ok)
    too_many = "{ " + " ".join(f"a{i}: webhooks {{ id }}" for i in range(31)) + " }"
    body = await gql(client, too_many)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "aliases" in body["errors"][0]["message"]


async def test_token_limit(client: httpx.AsyncClient) -> None:
    query = "{ webhooks { " + "id " * 10_001 + "} }"
    body = await gql(client, query)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "tokens" in body["errors"][0]["message"]


async def test_graphiql_introspection_passes(client: httpx.AsyncClient) -> None:
    for options in (
        {},
        {
            "descriptions": True,
            "specified_by_url": True,
            "directive_is_repeatable": True,
            "schema_description": True,
            "input_value_deprecation": True,
        },
    ):
        body = await gql(client, get_introspection_query(**options))
        assert "errors" not in body
        names = {t["name"] for t in body["data"]["__schema"]["types"]}
        assert {"WebhookSubscription", "DateTime", "WebhookEventType"} <= names


async def test_unexpected_errors_are_masked(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mock_semble.webhooks.store import SubscriptionStore as Store

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(Store, "list", boom)
    r = await client.post("/graphql", json={"query": LIST}, headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "Internal server error.",
            "path": ["webhooks"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    assert "passwd" not in r.text and "Traceback" not in r.text


async def test_get_without_html_is_405_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/graphql", headers={"accept": "application/json"})
    assert r.status_code == 405 and r.json()["errors"][0]["message"]


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/nope")
    assert r.status_code == 404 and r.json() == {"error": "Not Found"}


async def test_response_is_compact_json_with_data_first(client: httpx.AsyncClient) -> None:
    r = await client.post("/graphql", json={"query": LIST}, headers=AUTH)
    assert r.headers["content-type"] == "application/json"
    assert r.text == '{"data":{"webhooks":[]}}'


async def test_unknown_fragment_is_a_validation_error(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ webhooks { ...Nope } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_fragment_cycles_are_validation_errors(client: httpx.AsyncClient) -> None:
    query = """{ webhooks { ...A } }
    fragment A on WebhookSubscription { id ...B }
    fragment B on WebhookSubscription { url ...A }"""
    body = await gql(client, query)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_depth_counts_through_fragments(client: httpx.AsyncClient) -> None:
    frags = (
        "\n".join(f"fragment F{i} on __Type {{ ofType {{ ...F{i + 1} }} }}" for i in range(24))
        + "\nfragment F24 on __Type { name }"
    )
    body = await gql(client, "{ __schema { types { ...F0 } } }\n" + frags)
    assert "exceeds maximum operation depth of 20" in body["errors"][0]["message"]
