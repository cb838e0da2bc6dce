"""The delivery control plane in record mode (SPEC §2.1-2.4, §4): nothing is sent, so
these run in-process; sending is covered by test_delivery_send.py."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mock_semble import verify
from mock_semble.app import create_app
from mock_semble.core.settings import Settings
from mock_semble.delivery.signing import SIGNING_SCHEMES
from mock_semble.webhooks import subscriptions_of

pytestmark = pytest.mark.anyio

HEX24 = re.compile(r"^[0-9a-f]{24}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CREATE = """mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) { data { id secret } error } }"""
UPDATE = """mutation($id: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(id: $id, input: $input) { error } }"""
DELETE = "mutation($id: ID!) { deleteWebhook(id: $id) { error } }"
DELIVERY_KEYS = [
    "id",
    "eventId",
    "eventType",
    "subscriptionId",
    "practiceId",
    "url",
    "targetUrl",
    "status",
    "body",
    "createdAt",
    "attempts",
]
ATTEMPT_KEYS = [
    "number",
    "at",
    "requestHeaders",
    "responseStatus",
    "responseBody",
    "durationMs",
    "error",
]


@pytest.fixture
def settings() -> Settings:
    return Settings(delivery_mode="record")


async def open_client(**options: Any) -> httpx.AsyncClient:
    app = create_app(Settings(delivery_mode="record", **options))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock")


@pytest.fixture
async def seeded() -> AsyncIterator[httpx.AsyncClient]:
    async with await open_client(seed=7) as c:
        yield c


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str = "test-token"
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"x-token": token}
    )
    result: dict[str, Any] = response.json()
    assert "errors" not in result, result
    data: dict[str, Any] = result["data"]
    return data


async def subscribe(
    client: httpx.AsyncClient,
    url: str = "https://hooks.example.com/in",
    events: tuple[str, ...] = ("PATIENT_CREATED",),
    headers: list[tuple[str, str]] | None = None,
    token: str = "test-token",
) -> dict[str, str]:
    given: dict[str, Any] = {"url": url, "eventTypes": list(events), "label": "t"}
    if headers is not None:
        given["headers"] = [{"key": k, "value": v} for k, v in headers]
    payload = (await gql(client, CREATE, {"input": given}, token))["createWebhook"]
    assert payload["error"] is None, payload
    return payload["data"]  # type: ignore[no-any-return]


async def fire(client: httpx.AsyncClient, **body: Any) -> list[dict[str, Any]]:
    body.setdefault("eventType", "PATIENT_CREATED")
    response = await client.post("/__mock/events", json=body)
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]  # type: ignore[no-any-return]


PATIENT = "abcdef0123456789abcdef01"


async def journal(client: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    response = await client.get("/__mock/deliveries", params=filters)
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]  # type: ignore[no-any-return]


async def new_practice(client: httpx.AsyncClient, enabled: bool = True) -> tuple[str, str]:
    practice = (
        await client.post("/__mock/practices", json={"name": "B", "webhooksEnabled": enabled})
    ).json()
    token = await client.post(
        "/__mock/tokens",
        json={"practiceId": practice["id"], "permissions": ["seeWebhooks", "createWebhooks"]},
    )
    return practice["id"], token.json()["token"]


# -- shape and signing ----------------------------------------------------------------


async def test_recorded_delivery_has_the_spec_shape_and_a_verifiable_signature(
    client: httpx.AsyncClient,
) -> None:
    sub = await subscribe(client, headers=[("X-Tenant", "a"), ("x-trace", "b")])
    [delivery] = await fire(client, identifiers={"patientId": PATIENT, "extra": None})
    assert list(delivery) == DELIVERY_KEYS
    assert HEX24.match(delivery["id"]) and HEX24.match(delivery["eventId"])
    assert delivery["eventType"] == "patient.created"
    assert delivery["subscriptionId"] == sub["id"]
    assert delivery["practiceId"] == "000000000000000000000001"
    assert delivery["url"] == delivery["targetUrl"] == "https://hooks.example.com/in"
    assert delivery["status"] == "recorded"
    assert ISO_MS.match(delivery["createdAt"])
    # Compact JSON in the SPEC's key order; a null identifier is omitted, never null.
    assert delivery["body"] == (
        f'{{"subscriptionId":"{sub["id"]}","eventId":"{delivery["eventId"]}",'
        '"eventType":"patient.created","identifiers":{"patientId":"' + PATIENT + '"}}'
    )
    [attempt] = delivery["attempts"]
    assert list(attempt) == ATTEMPT_KEYS
    assert attempt["number"] == 1 and ISO_MS.match(attempt["at"])
    assert attempt["responseStatus"] is None and attempt["responseBody"] is None
    assert attempt["error"] is None
    headers = attempt["requestHeaders"]
    assert list(headers) == [
        "Content-Type",
        "User-Agent",
        "X-Tenant",
        "x-trace",
        "X-Webhook-Signature",
        "X-Webhook-Timestamp",
    ]
    assert headers["Content-Type"] == "application/json"
    assert re.fullmatch(r"mock-semble/\d+\.\d+\.\d+\S*", headers["User-Agent"])
    timestamp = int(headers["X-Webhook-Timestamp"])
    verify(delivery["body"], headers, sub["secret"], now=timestamp)
    # The journal shows signatures, never the secret (nor its base64 key part).
    everything = json.dumps(await journal(client))
    assert sub["secret"] not in everything
    assert sub["secret"].removeprefix("whsec_") not in everything


@pytest.mark.parametrize("scheme", SIGNING_SCHEMES)
async def test_every_signing_scheme_is_used_for_deliveries(scheme: str) -> None:
    async with await open_client(signing_scheme=scheme) as client:
        sub = await subscribe(client)
        [delivery] = await fire(client)
        headers = delivery["attempts"][0]["requestHeaders"]
        stamp = headers.get("X-Webhook-Timestamp") or headers.get("webhook-timestamp")
        verify(delivery["body"], headers, sub["secret"], scheme=scheme, now=int(stamp or 0))
        if scheme == "standard":
            assert headers["webhook-id"] == delivery["eventId"]


async def test_signature_timestamp_follows_the_control_plane_clock(
    client: httpx.AsyncClient,
) -> None:
    await subscribe(client)
    await client.put("/__mock/clock", json={"frozenAt": "2030-01-02T03:04:05.678Z"})
    [delivery] = await fire(client)
    assert delivery["createdAt"] == delivery["attempts"][0]["at"] == "2030-01-02T03:04:05.678Z"
    assert delivery["attempts"][0]["requestHeaders"]["X-Webhook-Timestamp"] == "1893553445"


# -- fan-out ----------------------------------------------------------------------------


async def test_fan_out_skips_paused_deleted_unlisted_and_foreign(
    client: httpx.AsyncClient,
) -> None:
    listed = await subscribe(client, "https://a.example.com/", ("PATIENT_CREATED",))
    both = await subscribe(client, "https://b.example.com/", ("PATIENT_UPDATED", "PATIENT_CREATED"))
    await subscribe(client, "https://c.example.com/", ("PATIENT_DELETED",))
    paused = await subscribe(client, "https://d.example.com/")
    deleted = await subscribe(client, "https://e.example.com/")
    await gql(client, UPDATE, {"id": paused["id"], "input": {"deliveryPaused": True}})
    await gql(client, DELETE, {"id": deleted["id"]})
    other_practice, other_token = await new_practice(client)
    await subscribe(client, "https://f.example.com/", token=other_token)

    deliveries = await fire(client, eventType="patient.created")
    by_sub = {d["subscriptionId"]: d for d in deliveries}
    assert list(by_sub) == [listed["id"], both["id"], paused["id"]]  # creation order
    assert by_sub[listed["id"]]["status"] == by_sub[both["id"]]["status"] == "recorded"
    assert by_sub[paused["id"]]["status"] == "skipped_paused"
    assert by_sub[paused["id"]]["attempts"] == []
    # Each subscription gets its own eventId; the event's identifiers are shared.
    assert len({d["eventId"] for d in deliveries}) == 3
    assert len({json.loads(d["body"])["identifiers"]["patientId"] for d in deliveries}) == 1
    assert await journal(client) == deliveries

    # A practice's event reaches only its own subscriptions.
    [foreign] = await fire(client, practiceId=other_practice)
    assert foreign["practiceId"] == other_practice


async def test_deleted_subscription_keeps_its_past_journal_but_gets_nothing_new(
    client: httpx.AsyncClient,
) -> None:
    sub = await subscribe(client)
    [before] = await fire(client)
    await gql(client, DELETE, {"id": sub["id"]})
    assert await fire(client) == []
    assert await journal(client, subscriptionId=sub["id"]) == [before]


async def test_one_subscription_and_its_practice_are_inferred(client: httpx.AsyncClient) -> None:
    practice_id, token = await new_practice(client)
    sub = await subscribe(client, token=token)
    await subscribe(client, "https://other.example.com/", token=token)
    [delivery] = await fire(client, subscriptionId=sub["id"])
    assert delivery["practiceId"] == practice_id and delivery["subscriptionId"] == sub["id"]


async def test_identifiers_default_to_a_fresh_patient_id(client: httpx.AsyncClient) -> None:
    await subscribe(client)
    ids = [json.loads((await fire(client))[0]["body"])["identifiers"] for _ in range(3)]
    assert all(list(i) == ["patientId"] and HEX24.match(i["patientId"]) for i in ids)
    assert len({i["patientId"] for i in ids}) == 3
    # SPEC 2.5: required keys not given are generated; null means absent.
    for given in ({}, {"patientId": None}):
        [generated] = await fire(client, identifiers=given)
        patient_id = json.loads(generated["body"])["identifiers"]["patientId"]
        assert HEX24.match(patient_id) and patient_id not in {i["patientId"] for i in ids}
    [chosen] = await fire(client, identifiers={"patientId": "abcdef0123456789abcdef01"})
    assert '"identifiers":{"patientId":"abcdef0123456789abcdef01"}' in chosen["body"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "'eventType' is required"),
        ({"eventType": 3}, 400, "'eventType' must be a string"),
        ({"eventType": "PATIENT_EXPLODED"}, 400, "unknown event type: 'PATIENT_EXPLODED'"),
        ({"eventType": "patient.created", "practiceId": "f" * 24}, 404, "unknown practice"),
        ({"eventType": "patient.created", "subscriptionId": "f" * 24}, 404, "unknown subscr"),
        ({"eventType": "patient.created", "subscriptionId": "nope"}, 404, "unknown subscr"),
        ({"eventType": "patient.created", "identifiers": ["x"]}, 400, "must be an object"),
        (
            {"eventType": "patient.created", "identifiers": {"patientId": 1}},
            400,
            "identifier 'patientId' must be a string",
        ),
        (
            {"eventType": "patient.created", "identifiers": {"patientId": "p-1"}},
            400,
            "identifier 'patientId' must be a 24-hex id",
        ),
        (
            {"eventType": "patient.created", "identifiers": {"a": "x"}},
            400,
            "unknown identifier 'a'",
        ),
        ({"eventType": "patient.created", "identifiers": {"": "x"}}, 400, "unknown identifier ''"),
        ({"eventType": "patient.created", "metadata": []}, 400, "'metadata' must be an object"),
        (
            {"eventType": "patient.created", "metadata": {"deliveryPaused": True}},
            400,
            "patient.created has no metadata",
        ),
        ({"eventType": "patient.created", "wait": "yes"}, 400, "'wait' must be a bool"),
        ({"eventType": "patient.created", "evenType": "x"}, 400, "unknown field(s): evenType"),
    ],
)
async def test_bad_event_requests_are_refused(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, message: str
) -> None:
    await subscribe(client)
    response = await client.post("/__mock/events", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert await journal(client) == []


async def test_subscription_refusals(client: httpx.AsyncClient) -> None:
    sub = await subscribe(client)
    other_practice, other_token = await new_practice(client)
    foreign = await subscribe(client, token=other_token)

    async def refused(body: dict[str, Any]) -> tuple[int, str]:
        response = await client.post(
            "/__mock/events", json={"eventType": "PATIENT_CREATED", **body}
        )
        return response.status_code, response.json()["error"]

    # Another practice's subscription is unknown to this practice.
    mine = "000000000000000000000001"
    status, _ = await refused({"subscriptionId": foreign["id"], "practiceId": mine})
    assert status == 404
    assert (await refused({"subscriptionId": sub["id"], "practiceId": other_practice}))[0] == 404
    status, message = await refused({"subscriptionId": sub["id"], "eventType": "PATIENT_DELETED"})
    assert status == 409 and "does not list patient.deleted" in message
    await gql(client, DELETE, {"id": sub["id"]})
    assert (await refused({"subscriptionId": sub["id"]}))[0] == 404
    disabled, _ = await new_practice(client, enabled=False)
    status, message = await refused({"practiceId": disabled})
    assert status == 409 and "not enabled" in message
    assert await journal(client) == []


async def test_refused_requests_do_not_shift_seeded_ids(seeded: httpx.AsyncClient) -> None:
    await subscribe(seeded)
    await seeded.post("/__mock/events", json={"eventType": "PATIENT_CREATED", "wait": 1})
    [first] = await fire(seeded)
    async with await open_client(seed=7) as again:
        await subscribe(again)
        [second] = await fire(again)
    assert (first["id"], first["eventId"], first["body"]) == (
        second["id"],
        second["eventId"],
        second["body"],
    )


async def test_admin_token_guards_the_delivery_routes() -> None:
    async with await open_client(admin_token="s3cret") as client:
        for method, path in [
            ("POST", "/__mock/events"),
            ("GET", "/__mock/deliveries"),
            ("DELETE", "/__mock/deliveries"),
            ("GET", "/__mock/deliveries/" + "a" * 24),
            ("POST", f"/__mock/deliveries/{'a' * 24}/redeliver"),
        ]:
            assert (await client.request(method, path)).status_code == 401
        ok = await client.get("/__mock/deliveries", headers={"x-mock-admin-token": "s3cret"})
        assert ok.status_code == 200


# -- the journal ------------------------------------------------------------------------


async def test_filters_accept_either_event_form_and_combine(client: httpx.AsyncClient) -> None:
    a = await subscribe(client, "https://a.example.com/", ("PATIENT_CREATED", "PATIENT_UPDATED"))
    paused = await subscribe(client, "https://b.example.com/", ("PATIENT_CREATED",))
    await gql(client, UPDATE, {"id": paused["id"], "input": {"deliveryPaused": True}})
    practice_b, token_b = await new_practice(client)
    await subscribe(client, "https://c.example.com/", token=token_b)
    created = await fire(client)
    updated = await fire(client, eventType="PATIENT_UPDATED")
    foreign = await fire(client, practiceId=practice_b)

    assert await journal(client) == created + updated + foreign  # oldest first
    assert await journal(client, eventType="patient.updated") == updated
    assert await journal(client, eventType="PATIENT_UPDATED") == updated
    assert await journal(client, subscriptionId=a["id"]) == [created[0], *updated]
    assert await journal(client, status="skipped_paused") == [created[1]]
    assert await journal(client, practiceId=practice_b) == foreign
    assert await journal(client, practiceId=practice_b, status="failed") == []
    assert await journal(client, subscriptionId="0" * 24) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "done"}, "'status' must be one of"),
        ({"eventType": "nope"}, "unknown event type: 'nope'"),
        ({"subscriptionId": "xyz"}, "'subscriptionId' must be a 24-hex id"),
        ({"practiceId": "A" * 24}, "'practiceId' must be a 24-hex id"),
        (
            {"subscription": "a" * 24},
            "unknown query parameter(s): subscription (known: subscriptionId, eventType, status,"
            " practiceId, limit, after)",
        ),
    ],
)
async def test_invalid_filters_are_400(
    client: httpx.AsyncClient, query: dict[str, str], message: str
) -> None:
    response = await client.get("/__mock/deliveries", params=query)
    assert response.status_code == 400 and message in response.json()["error"]


async def test_one_delivery_clear_and_unknown_ids(client: httpx.AsyncClient) -> None:
    await subscribe(client)
    [delivery] = await fire(client)
    one = await client.get(f"/__mock/deliveries/{delivery['id']}")
    assert one.status_code == 200 and one.json() == delivery
    for response in [
        await client.get("/__mock/deliveries/" + "0" * 24),
        await client.get("/__mock/deliveries/garbage"),
        await client.post(f"/__mock/deliveries/{'0' * 24}/redeliver"),
    ]:
        assert response.status_code == 404 and "unknown delivery" in response.json()["error"]
    cleared = await client.delete("/__mock/deliveries")
    assert cleared.json() == {"deliveries": []}
    assert await journal(client) == []
    assert (await client.get(f"/__mock/deliveries/{delivery['id']}")).status_code == 404


async def test_journal_is_bounded_dropping_the_oldest() -> None:
    async with await open_client(delivery_journal_size=3) as client:
        await subscribe(client)
        fired = [(await fire(client))[0]["id"] for _ in range(5)]
        assert [d["id"] for d in await journal(client)] == fired[2:]


async def test_reset_clears_deliveries_whole_or_per_practice(client: httpx.AsyncClient) -> None:
    await subscribe(client)
    practice_b, token_b = await new_practice(client)
    await subscribe(client, token=token_b)
    await fire(client)
    kept = await fire(client, practiceId=practice_b)
    reset = await client.post("/__mock/reset", params={"practiceId": "000000000000000000000001"})
    assert reset.status_code == 200
    assert await journal(client) == kept
    await client.post("/__mock/reset")
    assert await journal(client) == []


# -- redelivery -------------------------------------------------------------------------


async def test_redeliver_is_a_new_entry_with_the_same_event_freshly_signed(
    client: httpx.AsyncClient,
) -> None:
    sub = await subscribe(client, headers=[("X-Tenant", "a")])
    await client.put("/__mock/clock", json={"frozenAt": "2030-01-01T00:00:00Z"})
    [original] = await fire(client)
    await client.put("/__mock/clock", json={"advanceSeconds": 90})
    response = await client.post(f"/__mock/deliveries/{original['id']}/redeliver", json={})
    assert response.status_code == 201
    again = response.json()
    assert list(again) == DELIVERY_KEYS
    assert again["id"] != original["id"]
    assert (again["eventId"], again["body"], again["subscriptionId"], again["url"]) == (
        original["eventId"],
        original["body"],
        original["subscriptionId"],
        original["url"],
    )
    assert again["status"] == "recorded"
    old_headers = original["attempts"][0]["requestHeaders"]
    new_headers = again["attempts"][0]["requestHeaders"]
    assert int(new_headers["X-Webhook-Timestamp"]) == int(old_headers["X-Webhook-Timestamp"]) + 90
    assert new_headers["X-Webhook-Signature"] != old_headers["X-Webhook-Signature"]
    assert new_headers["X-Tenant"] == "a"
    verify(again["body"], new_headers, sub["secret"], now=int(new_headers["X-Webhook-Timestamp"]))
    # The original entry is untouched; both are listed, oldest first.
    assert await journal(client) == [original, again]


async def test_redeliver_respects_pause_and_delete(client: httpx.AsyncClient) -> None:
    sub = await subscribe(client)
    [original] = await fire(client)
    path = f"/__mock/deliveries/{original['id']}/redeliver"
    assert (await client.post(path, json={"force": True})).status_code == 400
    assert (await client.post(path, json={"wait": 1})).status_code == 400
    await gql(client, UPDATE, {"id": sub["id"], "input": {"deliveryPaused": True}})
    paused = await client.post(path)
    assert paused.status_code == 201 and paused.json()["status"] == "skipped_paused"
    await gql(client, DELETE, {"id": sub["id"]})
    gone = await client.post(path)
    assert gone.status_code == 409 and "deleted" in gone.json()["error"]
    assert len(await journal(client)) == 2


@pytest.mark.parametrize("mode", ["record", "send"])
async def test_a_secret_the_scheme_cannot_use_fails_the_delivery(mode: str) -> None:
    app = create_app(Settings(delivery_mode=mode, signing_scheme="standard"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        sub = await subscribe(client)
        subscriptions_of(app.state.runtime).find(
            sub["id"]
        ).signing_secret = "whsec_not*base64"  # as a bad import
        [delivery] = await fire(client, wait=True)
        assert delivery["status"] == "failed"
        [attempt] = delivery["attempts"]
        assert attempt["requestHeaders"] == {}
        assert attempt["error"].startswith("cannot sign: webhook secret for the 'standard'")
        assert "not*base64" not in attempt["error"]
