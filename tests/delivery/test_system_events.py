"""System events end to end (SPEC §2.5): ``webhook.subscription.updated`` and
``webhook.event.deliveryFailed`` from a live mock to a real receiver, with a compressed
retry schedule. Expected bodies are written from SPEC.

The mock journals the deliveries an event causes before it answers the request that
caused it (and before the failing delivery's status is final), so "nothing was fired" is
read from the journal at once, never after a sleep.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from driver import closed_port

from mock_semble.core.events import Event
from mock_semble.delivery.engine import engine_of
from mock_semble.testing import MockSembleClient, MockSembleServer
from mock_semble.testing.receiver import ReceivedRequest, Reply, WebhookReceiver

T = TypeVar("T")
HEX24 = re.compile(r"[0-9a-f]{24}")
UPDATED = "webhook.subscription.updated"
FAILED = "webhook.event.deliveryFailed"
UPDATE = """mutation($id: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(id: $id, input: $input) { data { deliveryPaused updatedAt } error } }"""
DELETE = "mutation($id: ID!) { deleteWebhook(id: $id) { error } }"
FINAL = {"succeeded", "failed", "skipped_paused", "recorded"}

strings_mode = pytest.mark.mock_semble(event_types="strings", retry_schedule=(0.01, 0.01))


# -- helpers (test_circuit_breaker.py uses them too) ----------------------------------------


def eventually(check: Callable[[], T], timeout: float = 10.0) -> T:
    """Poll ``check`` until it returns something truthy (waiting for an effect, never
    for the absence of one)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(0.01)


def by_path(replies: dict[str, int | Reply]) -> Callable[[ReceivedRequest], int | Reply]:
    """A responder: the reply of the first path prefix that matches, else 200."""

    def respond(request: ReceivedRequest) -> int | Reply:
        for prefix, reply in replies.items():
            if request.path.startswith(prefix):
                return reply
        return 200

    return respond


def update(server: MockSembleServer, sub_id: str, **fields: Any) -> dict[str, Any]:
    payload = server.execute(UPDATE, {"id": sub_id, "input": fields})["data"]["updateWebhook"]
    assert payload["error"] is None, payload
    return payload["data"]  # type: ignore[no-any-return]


def webhook(server: MockSembleServer, sub_id: str) -> dict[str, Any]:
    query = "query($id: ID!) { webhook(id: $id) { deliveryPaused updatedAt } }"
    return server.execute(query, {"id": sub_id})["data"]["webhook"]  # type: ignore[no-any-return]


def journal(server: MockSembleServer, event_type: str | None = None) -> list[dict[str, Any]]:
    return server.deliveries(event_type=event_type)


def settled(server: MockSembleServer, event_type: str | None = None) -> list[dict[str, Any]]:
    """The journal once every entry in it is final."""
    return eventually(
        lambda: (
            (entries := journal(server, event_type))
            and all(d["status"] in FINAL for d in entries)
            and entries
        )
    )


def body(delivery: dict[str, Any]) -> dict[str, Any]:
    return json.loads(delivery["body"])  # type: ignore[no-any-return]


def closed_port_url() -> str:
    """A local URL nothing listens on (connection refused: no response at all); its port
    stays bound for the run, so no other test can start listening there."""
    return f"http://127.0.0.1:{closed_port()}/gone"


# -- webhook.subscription.updated ------------------------------------------------------------


@strings_mode
def test_an_update_that_changes_something_notifies_the_listing_subscriptions(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    watcher = mock_semble.create_webhook(webhook_receiver.url_for("/w"), [UPDATED])
    other = mock_semble.create_webhook(webhook_receiver.url_for("/o"), ["patient.created"])
    elsewhere = mock_semble.new_practice("elsewhere")
    mock_semble.create_webhook(webhook_receiver.url_for("/x"), [UPDATED], token=elsewhere.token)

    update(mock_semble, other["id"], label="renamed")
    (delivery,) = journal(mock_semble, UPDATED)  # the other practice's listener gets nothing
    assert delivery["subscriptionId"] == watcher["id"]
    sent = webhook_receiver.wait_for(1)[0].json
    assert list(sent) == ["subscriptionId", "eventId", "eventType", "identifiers", "metadata"]
    assert sent["subscriptionId"] == watcher["id"] and HEX24.fullmatch(sent["eventId"])
    assert sent["eventType"] == UPDATED
    assert sent["identifiers"] == {"subscriptionId": other["id"]}
    assert sent["metadata"] == {"deliveryPaused": False}

    update(mock_semble, watcher["id"], label="me too")  # the updated one itself listens
    update(mock_semble, other["id"], deliveryPaused=True)
    requests = webhook_receiver.wait_for(3)
    # two deliveries to one receiver run concurrently: their arrival order is not part
    # of the contract (Semble promises none either)
    received = [(r.json["identifiers"], r.json["metadata"]) for r in requests[1:]]
    assert sorted(received, key=repr) == sorted(
        [
            ({"subscriptionId": watcher["id"]}, {"deliveryPaused": False}),
            ({"subscriptionId": other["id"]}, {"deliveryPaused": True}),
        ],
        key=repr,
    )


@strings_mode
def test_an_update_that_changes_nothing_fires_nothing(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    watcher = mock_semble.create_webhook(webhook_receiver.url_for("/w"), [UPDATED], label="w")
    for same in ({}, {"label": "w"}, {"eventTypes": [UPDATED]}, {"deliveryPaused": False}):
        update(mock_semble, watcher["id"], **same)
    assert journal(mock_semble, UPDATED) == []
    refused = mock_semble.execute(UPDATE, {"id": watcher["id"], "input": {"label": ""}})
    assert refused["data"]["updateWebhook"]["error"] is not None
    assert journal(mock_semble, UPDATED) == []


@strings_mode
def test_pausing_a_listener_skips_its_own_notice(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    watcher = mock_semble.create_webhook(webhook_receiver.url_for("/w"), [UPDATED])
    update(mock_semble, watcher["id"], deliveryPaused=True)
    (notice,) = journal(mock_semble, UPDATED)
    assert notice["status"] == "skipped_paused" and notice["attempts"] == []
    update(mock_semble, watcher["id"], deliveryPaused=False)
    resumed = settled(mock_semble, UPDATED)[-1]
    assert resumed["status"] == "succeeded"
    assert body(resumed)["metadata"] == {"deliveryPaused": False}


# -- webhook.event.deliveryFailed ------------------------------------------------------------


def in_turn(replies: list[Reply]) -> Callable[[ReceivedRequest], int | Reply]:
    """A responder: ``replies`` in turn to requests under ``/fail`` (the last one
    repeats), 200 to the others."""
    count = 0

    def respond(request: ReceivedRequest) -> int | Reply:
        nonlocal count
        if not request.path.startswith("/fail"):
            return 200
        count += 1
        return replies[min(count, len(replies)) - 1]

    return respond


@strings_mode
@pytest.mark.parametrize(
    ("replies", "attempts", "status"),
    [
        pytest.param([Reply(500)], 3, 500, id="retries-exhausted"),
        pytest.param([Reply(410)], 1, 410, id="gone"),
        pytest.param([Reply(503), Reply(fault="reset")], 3, 503, id="last-response-counts"),
        pytest.param([], 3, None, id="no-response"),
    ],
)
def test_a_permanent_failure_is_reported(
    mock_semble: MockSembleServer,
    webhook_receiver: WebhookReceiver,
    replies: list[Reply],
    attempts: int,
    status: int | None,
) -> None:
    failing_url = webhook_receiver.url_for("/fail") if replies else closed_port_url()
    failing = mock_semble.create_webhook(failing_url, ["booking.created"])
    watcher = mock_semble.create_webhook(webhook_receiver.url_for("/w"), [FAILED])
    webhook_receiver.respond_with(in_turn(replies))
    (failed,) = mock_semble.fire("booking.created")
    assert failed["status"] == "failed" and len(failed["attempts"]) == attempts
    (report,) = journal(mock_semble, FAILED)  # already journaled when the failure was final
    assert report["subscriptionId"] == watcher["id"]
    metadata: dict[str, Any] = {"failedEventType": "booking.created"}
    if status is not None:
        metadata["httpStatusCode"] = status
    sent = eventually(lambda: [r for r in webhook_receiver.requests if r.path == "/w"])[0].json
    assert sent["eventType"] == FAILED
    assert sent["identifiers"] == {"subscriptionId": failing["id"], "outboxId": failed["id"]}
    assert sent["metadata"] == metadata
    assert list(sent["metadata"]) == list(metadata)


@strings_mode
def test_deleted_while_waiting_to_retry_is_reported(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    failing = mock_semble.create_webhook(webhook_receiver.url_for("/fail"), ["patient.created"])
    mock_semble.create_webhook(webhook_receiver.url_for("/w"), [FAILED])

    other_client = MockSembleClient(mock_semble.url, token=mock_semble.token)

    def delete_then_fail(request: ReceivedRequest) -> int:
        if request.path == "/fail":
            deleted = other_client.execute(DELETE, {"id": failing["id"]})
            assert deleted["data"]["deleteWebhook"]["error"] is None
            return 500
        return 200

    webhook_receiver.respond_with(delete_then_fail)
    (failed,) = mock_semble.fire("patient.created")
    assert failed["status"] == "failed"
    assert [a["responseStatus"] for a in failed["attempts"]] == [500, None]
    assert failed["attempts"][1]["requestHeaders"] == {}  # the retry was never sent
    (report,) = settled(mock_semble, FAILED)
    assert body(report)["identifiers"] == {
        "subscriptionId": failing["id"],
        "outboxId": failed["id"],
    }
    assert body(report)["metadata"] == {"failedEventType": "patient.created", "httpStatusCode": 500}


@strings_mode
def test_a_failed_report_is_not_reported(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    mock_semble.create_webhook(webhook_receiver.url_for("/fail/a"), ["patient.created"])
    failing_watcher = mock_semble.create_webhook(webhook_receiver.url_for("/fail/w"), [FAILED])
    watcher = mock_semble.create_webhook(webhook_receiver.url_for("/w"), [FAILED])
    webhook_receiver.respond_with(by_path({"/fail": 500}))
    (failed,) = mock_semble.fire("patient.created")
    assert failed["status"] == "failed"
    entries = settled(mock_semble)  # each report's end journals whatever it causes
    reports = {d["subscriptionId"]: d["status"] for d in entries if d["eventType"] == FAILED}
    assert reports == {failing_watcher["id"]: "failed", watcher["id"]: "succeeded"}
    assert len(entries) == 3


def spy(server: MockSembleServer) -> list[Event]:
    """Every event the server's runtime publishes from now on (white-box)."""
    seen: list[Event] = []
    server.runtime.subscribe(seen.append)
    return seen


@pytest.mark.mock_semble(event_types="strings", retry_schedule=(30.0,))
def test_a_reset_while_waiting_to_retry_reports_nothing(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    mock_semble.create_webhook(webhook_receiver.url_for("/fail"), ["patient.created"])
    webhook_receiver.respond_with(500)
    (pending,) = mock_semble.fire("patient.created", wait=False)
    engine = engine_of(mock_semble.runtime)
    delivery = engine.journal.get(pending["id"])
    assert delivery is not None
    eventually(lambda: delivery.status == "retrying")
    events = spy(mock_semble)
    mock_semble.reset()
    eventually(lambda: delivery.status == "failed")  # cancelled: its end is journaled
    assert [e.event_type for e in events] == []


def test_shutdown_reports_nothing(webhook_receiver: WebhookReceiver) -> None:
    server = MockSembleServer(event_types="strings", retry_schedule=(30.0,)).start()
    try:
        server.create_webhook(webhook_receiver.url_for("/fail"), ["patient.created"])
        webhook_receiver.respond_with(500)
        (pending,) = server.fire("patient.created", wait=False)
        delivery = engine_of(server.runtime).journal.get(pending["id"])
        assert delivery is not None
        eventually(lambda: delivery.status == "retrying")
        events = spy(server)
    finally:
        server.stop()  # returns once every delivery task has ended
    assert delivery.status == "failed"
    assert events == []


# -- hand-fired system events and the enum mode ----------------------------------------------


@strings_mode
def test_hand_fired_system_events_get_sample_metadata(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    mock_semble.create_webhook(webhook_receiver.url_for("/h"), [UPDATED, FAILED])

    def fire(**extra: Any) -> dict[str, Any]:
        answer = mock_semble.control("POST", "events", json={**extra, "wait": False})
        return body(answer["deliveries"][0])

    assert fire(eventType=UPDATED)["metadata"] == {"deliveryPaused": False}
    assert fire(eventType=FAILED)["metadata"] == {"failedEventType": "patient.created"}
    given = {"failedEventType": "invoice.paid", "httpStatusCode": 502}
    assert fire(eventType=FAILED, metadata=given)["metadata"] == given
    ids = fire(eventType=FAILED)["identifiers"]
    assert list(ids) == ["subscriptionId", "outboxId"]
    assert all(HEX24.fullmatch(v) for v in ids.values())


@pytest.mark.mock_semble(event_types="enum", retry_schedule=())
def test_enum_mode_cannot_subscribe_to_system_events(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    refused = mock_semble.execute(
        "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { error } }",
        {"i": {"url": webhook_receiver.url_for("/h"), "eventTypes": [UPDATED], "label": "x"}},
    )
    assert refused["errors"]
    sub = mock_semble.create_webhook(webhook_receiver.url_for("/fail"))
    webhook_receiver.respond_with(500)
    update(mock_semble, sub["id"], label="renamed")
    (failed,) = mock_semble.fire("PATIENT_CREATED")
    assert failed["status"] == "failed"
    assert [d["id"] for d in journal(mock_semble)] == [failed["id"]]  # nothing else
    assert mock_semble.fire(UPDATED) == []
