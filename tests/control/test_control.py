"""Control-plane basics: health, reset, practices, tokens, clock, bad input."""

from __future__ import annotations

import httpx
import pytest
from conftest import CREATE, LIST, UPDATE, gql, webhook_input

from mock_semble.webhooks import subscriptions_of

pytestmark = pytest.mark.anyio


async def test_health(client: httpx.AsyncClient) -> None:
    r = await client.get("/__mock/health")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok"
    assert body["version"] == "0.1.0" and body["uptimeSeconds"] >= 0


async def new_practice(client: httpx.AsyncClient, name: str = "P2") -> tuple[str, str]:
    practice = (await client.post("/__mock/practices", json={"name": name})).json()
    token = await client.post(
        "/__mock/tokens",
        json={"practiceId": practice["id"], "permissions": ["seeWebhooks", "createWebhooks"]},
    )
    return practice["id"], token.json()["token"]


async def test_create_practice_and_token(client: httpx.AsyncClient) -> None:
    r = await client.post("/__mock/practices", json={"name": "Clinic", "webhooksEnabled": False})
    assert r.status_code == 201
    practice = r.json()
    assert practice["name"] == "Clinic" and practice["webhooksEnabled"] is False
    assert len(practice["id"]) == 24
    # SPEC §3: reference data is part of a practice; none given, none held.
    assert {k: practice[k] for k in ("labels", "numberTypes", "memberships", "accessGroups")} == {
        "labels": [],
        "numberTypes": [],
        "memberships": [],
        "accessGroups": [],
    }
    r = await client.post(
        "/__mock/tokens",
        json={"practiceId": practice["id"], "permissions": ["seeWebhooks"], "token": "mine"},
    )
    assert r.status_code == 201
    assert r.json() == {
        "token": "mine",
        "practiceId": practice["id"],
        "permissions": ["seeWebhooks"],
        "user": {
            "id": "0000000000000000000000e1",
            "firstName": "Mock",
            "lastName": "User",
            "email": "mock.user@example.com",
        },
    }
    body = await gql(client, LIST, token="mine")
    assert body["errors"][0]["message"] == "Webhooks are not enabled for this practice."


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        ("/__mock/practices", None, 400),
        ("/__mock/practices", {}, 400),
        ("/__mock/practices", {"name": 5}, 400),
        ("/__mock/practices", {"name": " "}, 400),
        ("/__mock/practices", {"name": "x", "webhooksEnabled": "yes"}, 400),
        ("/__mock/tokens", {"practiceId": "0" * 23 + "9", "permissions": []}, 404),
        (
            "/__mock/tokens",
            {"practiceId": "000000000000000000000001", "permissions": ["root"]},
            400,
        ),
        ("/__mock/tokens", {"practiceId": "000000000000000000000001", "permissions": "all"}, 400),
        (
            "/__mock/tokens",
            {"practiceId": "000000000000000000000001", "permissions": [], "token": "test-token"},
            409,
        ),
        # SPEC §4: 1-256 visible ASCII characters, no spaces, not starting with Bearer.
        *[
            ("/__mock/tokens", {"practiceId": "000000000000000000000001", "token": t}, 400)
            for t in ("", "a b", "Bearer-x", "t" * 257, "tok\u00e9n", "tab\t")
        ],
    ],
)
async def test_bad_control_input_is_4xx_json(
    client: httpx.AsyncClient, path: str, payload: object, status: int
) -> None:
    r = await client.post(path, json=payload) if payload is not None else await client.post(path)
    assert r.status_code == status
    assert isinstance(r.json()["error"], str)


async def test_a_token_of_256_visible_characters_is_accepted(client: httpx.AsyncClient) -> None:
    token = "~!" * 128
    r = await client.post(
        "/__mock/tokens",
        json={"practiceId": "000000000000000000000001", "permissions": [], "token": token},
    )
    assert r.status_code == 201 and r.json()["token"] == token


@pytest.mark.parametrize("raw", [b"{", b"[1]", b"\xff", b'"x"'])
async def test_malformed_control_json(client: httpx.AsyncClient, raw: bytes) -> None:
    r = await client.post("/__mock/practices", content=raw)
    assert r.status_code == 400 and "error" in r.json()


async def test_unknown_control_route_is_404_json(client: httpx.AsyncClient) -> None:
    r = await client.post("/__mock/nope", json={})
    assert r.status_code == 404 and "error" in r.json()


async def test_reset_everything(client: httpx.AsyncClient) -> None:
    _, token = await new_practice(client)
    await gql(client, CREATE, {"input": webhook_input()})
    await gql(client, CREATE, {"input": webhook_input()}, token=token)
    await client.put("/__mock/clock", json={"frozenAt": "2030-01-01T00:00:00Z"})
    r = await client.post("/__mock/reset")
    assert r.status_code == 200
    assert (await client.get("/__mock/requests")).json()["requests"] == []
    assert (await gql(client, LIST))["data"]["webhooks"] == []
    # runtime-added practice and token are gone; the configured ones stay
    assert (
        await client.post("/graphql", json={"query": LIST}, headers={"x-token": token})
    ).status_code == 401
    assert (await client.get("/__mock/clock")).json()["frozen"] is False


async def test_reset_one_practice(client: httpx.AsyncClient) -> None:
    practice_id, token = await new_practice(client)
    await gql(client, CREATE, {"input": webhook_input()})
    await gql(client, CREATE, {"input": webhook_input()}, token=token)
    r = await client.post(f"/__mock/reset?practiceId={practice_id}")
    assert r.status_code == 200
    assert (await gql(client, LIST, token=token))["data"]["webhooks"] == []
    assert len((await gql(client, LIST))["data"]["webhooks"]) == 1
    r = await client.post("/__mock/reset?practiceId=" + "f" * 24)
    assert r.status_code == 404


async def test_frozen_and_advanced_clock_drive_timestamps(client: httpx.AsyncClient) -> None:
    r = await client.put("/__mock/clock", json={"frozenAt": "2026-11-28T15:02:26.123456Z"})
    assert r.status_code == 200 and r.json()["now"] == "2026-11-28T15:02:26.123Z"
    sub = (await gql(client, CREATE, {"input": webhook_input()}))["data"]["createWebhook"]["data"]
    assert sub["createdAt"] == sub["updatedAt"] == "2026-11-28T15:02:26.123Z"
    r = await client.put("/__mock/clock", json={"advanceSeconds": 90.5})
    assert r.json()["now"] == "2026-11-28T15:03:56.623Z"
    body = await gql(client, UPDATE, {"id": sub["id"], "input": {"label": "later"}})
    assert body["data"]["updateWebhook"]["data"]["updatedAt"] == "2026-11-28T15:03:56.623Z"
    r = await client.delete("/__mock/clock")
    assert r.json()["frozen"] is False and r.json()["now"] > "2026-11-28T15:03"


async def test_advance_unfrozen_clock_shifts_real_time(client: httpx.AsyncClient) -> None:
    before = (await client.get("/__mock/clock")).json()["now"]
    r = await client.put("/__mock/clock", json={"advanceSeconds": 86400 * 365})
    assert r.json()["offsetSeconds"] == 86400 * 365 and r.json()["now"][:4] > before[:4]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"frozenAt": "yesterday"},
        {"advanceSeconds": "5"},
        {"advanceSeconds": True},
        {"frozenAt": "2026-01-01T00:00:00Z", "advanceSeconds": 1},
        {"advanceSeconds": 1e300},
    ],
)
async def test_bad_clock_input(client: httpx.AsyncClient, payload: dict[str, object]) -> None:
    r = await client.put("/__mock/clock", json=payload)
    assert r.status_code == 400 and "error" in r.json()
    assert (await client.get("/__mock/clock")).json()["offsetSeconds"] == 0


async def test_reset_frees_the_old_store_after_answering(
    client: httpx.AsyncClient, app: object
) -> None:
    store = subscriptions_of(app.state.runtime)  # type: ignore[attr-defined]
    await gql(client, CREATE, {"input": webhook_input()})
    r = await client.post("/__mock/reset")
    assert r.status_code == 200
    assert store._garbage == []  # the background task ran once the answer was sent
    store.clear()
    assert len(store._garbage) == 1  # parked, not freed inline
    store.collect_garbage()
    assert store._garbage == []
