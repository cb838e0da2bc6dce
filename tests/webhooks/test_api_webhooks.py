"""The webhook contract through the HTTP app: every rule of SPEC §1.4 end to end."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from conftest import CREATE, DELETE, GET, LIST, UPDATE, gql, webhook_input

# SPEC §1.4, written here (never imported from the code under test).
MSG_CONFLICT = "A webhook subscription with this url and an overlapping event type already exists"
MSG_NOT_FOUND = "Webhook not found"


pytestmark = pytest.mark.anyio
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def create(
    client: httpx.AsyncClient, token: str = "test-token", **fields: Any
) -> dict[str, Any]:
    body = await gql(client, CREATE, {"input": webhook_input(**fields)}, token=token)
    return body


async def created(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = await create(client, **fields)
    payload = body["data"]["createWebhook"]
    assert payload["error"] is None, payload
    return payload["data"]


async def listed(client: httpx.AsyncClient, *, all: bool = False) -> list[dict[str, Any]]:
    body = await gql(client, LIST, {"all": all})
    return body["data"]["webhooks"]


def payload_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body.get("extensions", {}).get("payloadErrors", [])


async def test_create_returns_the_full_subscription_with_secret(client: httpx.AsyncClient) -> None:
    sub = await created(
        client, headers=[{"key": "X-B", "value": "2"}, {"key": "X-A", "value": "1"}]
    )
    assert re.fullmatch(r"[0-9a-f]{24}", sub["id"])
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", sub["secret"])
    assert sub["version"] == "1"
    assert sub["deleted"] is False and sub["deliveryPaused"] is False
    assert ISO_MS.match(sub["createdAt"]) and sub["createdAt"] == sub["updatedAt"]
    assert sub["headers"] == [{"key": "X-B", "value": "2"}, {"key": "X-A", "value": "1"}]
    assert sub["eventTypes"] == ["PATIENT_CREATED"]


async def test_secret_is_fresh_per_subscription_and_null_in_queries(
    client: httpx.AsyncClient,
) -> None:
    a = await created(client, url="https://a.example.com/h")
    b = await created(client, url="https://b.example.com/h")
    assert a["secret"] != b["secret"]
    assert all(item["secret"] is None for item in await listed(client))
    body = await gql(client, GET, {"id": a["id"]})
    assert body["data"]["webhook"]["secret"] is None


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"url": "http://example.com/h"}, "INVALID_URL", "url must be a valid HTTPS URL"),
        ({"url": "https://u:p@example.com/h"}, "INVALID_URL", "url must be a valid HTTPS URL"),
        (
            {"eventTypes": []},
            "INVALID_EVENT_TYPES",
            "eventTypes must contain between 1 and 10 event types",
        ),
        (
            {"eventTypes": ["PATIENT_CREATED", "PATIENT_CREATED"]},
            "INVALID_EVENT_TYPES",
            "eventTypes must not contain duplicates",
        ),
        ({"label": "   "}, "INVALID_LABEL", "label must be between 1 and 256 characters"),
        (
            {"label": "\U0001f600" * 129},
            "INVALID_LABEL",
            "label must be between 1 and 256 characters",
        ),
        ({"headers": [{"key": "Content-Type", "value": "x"}]}, "INVALID_HEADERS", None),
        ({"headers": [{"key": "X-A", "value": "a\r\nb"}]}, "INVALID_HEADERS", None),
        ({"headers": [{"key": "bad key", "value": "a"}]}, "INVALID_HEADERS", None),
    ],
)
async def test_create_rule_violations_are_payload_errors_and_change_nothing(
    client: httpx.AsyncClient, fields: dict[str, Any], code: str, message: str | None
) -> None:
    body = await create(client, **fields)
    payload = body["data"]["createWebhook"]
    assert payload["data"] is None
    assert "errors" not in body
    (err,) = payload_errors(body)
    assert err["path"] == ["createWebhook"] and err["status"] == 400 and err["code"] == code
    assert err["message"] == payload["error"]
    if message is not None:
        assert payload["error"] == message
    else:
        assert payload["error"].startswith("invalid header: ")
    assert await listed(client, all=True) == []


async def test_http_localhost_needs_the_option(client: httpx.AsyncClient) -> None:
    body = await create(client, url="http://127.0.0.1:9/h")
    assert payload_errors(body)[0]["code"] == "INVALID_URL"


@pytest.mark.parametrize("settings", [pytest.param(None, id="allow-http-localhost")], indirect=True)
async def test_http_localhost_allowed_with_the_option(client: httpx.AsyncClient) -> None:
    assert (await created(client, url="http://127.0.0.1:9/h"))["url"] == "http://127.0.0.1:9/h"
    body = await create(client, url="http://example.com/h")
    assert payload_errors(body)[0]["code"] == "INVALID_URL"


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Any:
    from mock_semble.core.settings import Settings

    if getattr(request, "param", "x") is None:
        return Settings(allow_http_localhost=True)
    return Settings()


async def test_duplicate_url_with_overlapping_event_conflicts(client: httpx.AsyncClient) -> None:
    await created(
        client, url="https://example.com/h", eventTypes=["PATIENT_CREATED", "PATIENT_UPDATED"]
    )
    body = await create(client, url="HTTPS://EXAMPLE.COM:443/h", eventTypes=["PATIENT_UPDATED"])
    payload = body["data"]["createWebhook"]
    assert payload == {"data": None, "error": MSG_CONFLICT}
    assert payload_errors(body)[0] | {} == {
        "path": ["createWebhook"],
        "status": 409,
        "code": "CONFLICT",
        "message": MSG_CONFLICT,
    }
    # no overlap, or a different path/query: no conflict
    await created(client, url="https://example.com/h", eventTypes=["PATIENT_DELETED"])
    await created(client, url="https://example.com/H", eventTypes=["PATIENT_CREATED"])
    await created(client, url="https://example.com/h?x=1", eventTypes=["PATIENT_CREATED"])
    assert len(await listed(client)) == 4


async def test_paused_subscriptions_still_conflict_deleted_ones_do_not(
    client: httpx.AsyncClient,
) -> None:
    sub = await created(client)
    await gql(client, UPDATE, {"id": sub["id"], "input": {"deliveryPaused": True}})
    assert payload_errors(await create(client))[0]["code"] == "CONFLICT"
    await gql(client, DELETE, {"id": sub["id"]})
    again = await created(client)
    assert again["id"] != sub["id"]


async def test_update_is_partial_and_keeps_the_secret(client: httpx.AsyncClient) -> None:
    sub = await created(client, headers=[{"key": "X-A", "value": "1"}])
    body = await gql(client, UPDATE, {"id": sub["id"], "input": {"label": "renamed"}})
    data = body["data"]["updateWebhook"]["data"]
    assert data["label"] == "renamed" and data["url"] == sub["url"]
    assert data["headers"] == [{"key": "X-A", "value": "1"}]
    assert data["secret"] == sub["secret"]
    assert data["updatedAt"] >= sub["updatedAt"]
    body = await gql(
        client,
        UPDATE,
        {
            "id": sub["id"],
            "input": {"eventTypes": ["PATIENT_DELETED", "PATIENT_UPDATED"], "headers": []},
        },
    )
    data = body["data"]["updateWebhook"]["data"]
    assert data["eventTypes"] == ["PATIENT_DELETED", "PATIENT_UPDATED"] and data["headers"] == []


async def test_empty_update_is_a_no_op(client: httpx.AsyncClient) -> None:
    sub = await created(client)
    body = await gql(client, UPDATE, {"id": sub["id"], "input": {}})
    data = body["data"]["updateWebhook"]["data"]
    assert body["data"]["updateWebhook"]["error"] is None
    assert data["updatedAt"] == sub["updatedAt"] and data["label"] == sub["label"]


async def test_update_rules_apply_to_given_fields_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    sub = await created(client)
    for bad in (
        {"url": "ftp://x"},
        {"eventTypes": []},
        {"label": ""},
        {"headers": [{"key": "Host", "value": "x"}]},
    ):
        body = await gql(
            client, UPDATE, {"id": sub["id"], "input": {**bad, "deliveryPaused": True}}
        )
        assert body["data"]["updateWebhook"]["data"] is None
        assert payload_errors(body)[0]["status"] == 400
    (after,) = await listed(client)
    assert after["deliveryPaused"] is False and after["label"] == sub["label"]


async def test_update_conflict_ignores_itself(client: httpx.AsyncClient) -> None:
    a = await created(client, url="https://example.com/a")
    b = await created(client, url="https://example.com/b")
    body = await gql(client, UPDATE, {"id": a["id"], "input": {"url": "https://example.com/a"}})
    assert body["data"]["updateWebhook"]["error"] is None
    body = await gql(client, UPDATE, {"id": b["id"], "input": {"url": "https://EXAMPLE.com/a"}})
    assert payload_errors(body)[0]["code"] == "CONFLICT"
    assert {s["url"] for s in await listed(client)} == {
        "https://example.com/a",
        "https://example.com/b",
    }


@pytest.mark.parametrize("bad_id", ["nope", "0" * 24, "f" * 25, ""])
async def test_update_and_delete_unknown_ids_are_not_found(
    client: httpx.AsyncClient, bad_id: str
) -> None:
    for query, name in ((UPDATE, "updateWebhook"), (DELETE, "deleteWebhook")):
        variables: dict[str, Any] = {"id": bad_id}
        if name == "updateWebhook":
            variables["input"] = {"label": "x"}
        body = await gql(client, query, variables)
        assert body["data"][name] == {"data": None, "error": MSG_NOT_FOUND}
        assert payload_errors(body)[0] == {
            "path": [name],
            "status": 404,
            "code": "NOT_FOUND",
            "message": MSG_NOT_FOUND,
        }


async def test_soft_delete(client: httpx.AsyncClient) -> None:
    sub = await created(client)
    body = await gql(client, DELETE, {"id": sub["id"]})
    data = body["data"]["deleteWebhook"]["data"]
    assert data["deleted"] is True and data["secret"] is None and data["id"] == sub["id"]
    assert await listed(client) == []
    (kept,) = await listed(client, all=True)
    assert kept["deleted"] is True
    got = (await gql(client, GET, {"id": sub["id"]}))["data"]["webhook"]
    assert got["deleted"] is True
    again = await gql(client, DELETE, {"id": sub["id"]})
    assert again["data"]["deleteWebhook"]["error"] == MSG_NOT_FOUND
    edit = await gql(client, UPDATE, {"id": sub["id"], "input": {"label": "x"}})
    assert edit["data"]["updateWebhook"]["error"] == MSG_NOT_FOUND


async def test_list_is_in_creation_order(client: httpx.AsyncClient) -> None:
    ids = [(await created(client, url=f"https://example.com/{n}"))["id"] for n in (3, 1, 2)]
    await gql(client, UPDATE, {"id": ids[0], "input": {"label": "touched"}})
    assert [s["id"] for s in await listed(client)] == ids


async def test_aliases_get_their_own_payload_error_paths(client: httpx.AsyncClient) -> None:
    fields = 'url: "https://x.com/1", eventTypes: [PATIENT_CREATED]'
    query = f"""mutation {{
      a: createWebhook(input: {{{fields}, label: "a"}}) {{ error }}
      b: createWebhook(input: {{{fields}, label: "b"}}) {{ error }}
    }}"""
    body = await gql(client, query)
    assert body["data"]["a"]["error"] is None
    assert [e["path"] for e in payload_errors(body)] == [["b"]]
