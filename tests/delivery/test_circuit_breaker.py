"""The circuit breaker end to end (SPEC §2.5, ``--circuit-breaker N``): a real receiver
that fails, a live mock, compressed retry schedules. It counts, per subscription,
consecutive deliveries that end ``failed`` after a sent attempt; at N it pauses the
subscription (``updatedAt`` moves), marks the pausing delivery and fires
``webhook.subscription.updated``. A success, a resume, a reset or an import clear it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from delivery.test_system_events import UPDATED, by_path, journal, settled, update, webhook
from mock_semble.testing import MockSembleServer
from mock_semble.testing.receiver import WebhookReceiver

FAILED = "webhook.event.deliveryFailed"
T0 = "2030-01-01T00:00:00.000Z"
T1 = "2030-01-01T00:01:00.000Z"


def breaker(n: int, mode: str = "strings", **options: Any) -> pytest.MarkDecorator:
    """Run against a mock with threshold ``n`` and no retries (unless ``options`` say)."""
    return pytest.mark.mock_semble(
        **{"event_types": mode, "circuit_breaker": n, "retry_schedule": (), **options}
    )


def fail_times(server: MockSembleServer, n: int) -> list[dict[str, Any]]:
    """Fire ``n`` patient.created events, one after the other; each delivery's entry."""
    fired = []
    for _ in range(n):
        (delivery,) = server.fire("patient.created")
        fired.append(delivery)
    return fired


def paused(server: MockSembleServer, sub_id: str) -> bool:
    return bool(webhook(server, sub_id)["deliveryPaused"])


@pytest.mark.parametrize(
    "mode",
    [pytest.param(m, marks=breaker(3, m, retry_schedule=(0.01,))) for m in ("enum", "strings")],
)
def test_n_failures_in_a_row_pause_the_subscription(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver, mode: str
) -> None:
    mock_semble.freeze_clock(T0)
    failing = mock_semble.create_webhook(webhook_receiver.url_for("/fail"), ["patient.created"])
    watcher = None
    if mode == "strings":
        watcher = mock_semble.create_webhook(webhook_receiver.url_for("/w"), [UPDATED])
    webhook_receiver.respond_with(by_path({"/fail": 500}))
    mock_semble.freeze_clock(T1)

    first, second = fail_times(mock_semble, 2)
    assert not paused(mock_semble, failing["id"])
    (third,) = fail_times(mock_semble, 1)
    assert [len(d["attempts"]) for d in (first, second, third)] == [2, 2, 2]  # retried once
    assert webhook(mock_semble, failing["id"]) == {"deliveryPaused": True, "updatedAt": T1}
    marks = {d["id"]: d.get("pausedSubscription") for d in journal(mock_semble, "patient.created")}
    assert marks == {first["id"]: None, second["id"]: None, third["id"]: True}
    assert mock_semble.delivery(third["id"])["pausedSubscription"] is True

    if watcher is None:  # the enum mode pauses too, but cannot deliver the notice
        assert journal(mock_semble, UPDATED) == []
    else:
        (notice,) = settled(mock_semble, UPDATED)
        assert notice["subscriptionId"] == watcher["id"]
        sent = json.loads(notice["body"])
        assert sent["identifiers"] == {"subscriptionId": failing["id"]}
        assert sent["metadata"] == {"deliveryPaused": True}
    (skipped,) = fail_times(mock_semble, 1)
    assert skipped["status"] == "skipped_paused" and skipped["attempts"] == []


@breaker(3)
def test_a_success_clears_the_count(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    sub = mock_semble.create_webhook(webhook_receiver.url_for("/h"), ["patient.created"])
    webhook_receiver.respond_with(500, times=2).respond_with(200, times=1)
    webhook_receiver.respond_with(500)
    statuses = [d["status"] for d in fail_times(mock_semble, 5)]
    assert statuses == ["failed", "failed", "succeeded", "failed", "failed"]
    assert not paused(mock_semble, sub["id"])
    fail_times(mock_semble, 1)
    assert paused(mock_semble, sub["id"])


@breaker(2)
def test_a_resume_clears_the_count_and_other_updates_do_not(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    sub = mock_semble.create_webhook(webhook_receiver.url_for("/fail"), ["patient.created"])
    watcher = mock_semble.create_webhook(webhook_receiver.url_for("/w"), [UPDATED])
    webhook_receiver.respond_with(by_path({"/fail": 500}))
    fail_times(mock_semble, 1)
    update(mock_semble, sub["id"], label="renamed")  # not a resume: the count stays
    fail_times(mock_semble, 1)
    assert paused(mock_semble, sub["id"])

    assert update(mock_semble, sub["id"], deliveryPaused=False)["deliveryPaused"] is False
    fail_times(mock_semble, 1)
    assert not paused(mock_semble, sub["id"])
    fail_times(mock_semble, 1)
    assert paused(mock_semble, sub["id"])
    notices = [json.loads(d["body"]) for d in settled(mock_semble, UPDATED)]
    assert {d["subscriptionId"] for d in notices} == {watcher["id"]}
    assert [(n["identifiers"]["subscriptionId"], n["metadata"]) for n in notices] == [
        (sub["id"], {"deliveryPaused": False}),  # the label change
        (sub["id"], {"deliveryPaused": True}),  # the breaker
        (sub["id"], {"deliveryPaused": False}),  # the resume
        (sub["id"], {"deliveryPaused": True}),  # the breaker again
    ]


@breaker(2)
def test_redeliveries_and_gone_count(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    sub = mock_semble.create_webhook(webhook_receiver.url_for("/h"), ["patient.created"])
    webhook_receiver.respond_with(410)
    (gone,) = fail_times(mock_semble, 1)
    assert gone["status"] == "failed" and len(gone["attempts"]) == 1
    again = mock_semble.redeliver(gone["id"])
    assert again["status"] == "failed" and again["pausedSubscription"] is True
    assert paused(mock_semble, sub["id"])


@breaker(2)
def test_system_event_deliveries_count(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    source = mock_semble.create_webhook(webhook_receiver.url_for("/fail/a"), ["patient.created"])
    reporter = mock_semble.create_webhook(webhook_receiver.url_for("/fail/r"), [FAILED])
    webhook_receiver.respond_with(by_path({"/fail": 500}))
    fail_times(mock_semble, 2)
    reports = settled(mock_semble, FAILED)
    assert [d["status"] for d in reports] == ["failed", "failed"]
    assert [d.get("pausedSubscription") for d in reports] == [None, True]
    assert paused(mock_semble, source["id"]) and paused(mock_semble, reporter["id"])


@breaker(0)
def test_zero_turns_it_off(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    sub = mock_semble.create_webhook(webhook_receiver.url_for("/h"), ["patient.created"])
    webhook_receiver.respond_with(500)
    fired = fail_times(mock_semble, 8)
    assert {d["status"] for d in fired} == {"failed"}
    assert not any("pausedSubscription" in d for d in journal(mock_semble))
    assert not paused(mock_semble, sub["id"])


def test_reset_and_state_import_clear_the_count(
    webhook_receiver: WebhookReceiver, tmp_path: Path
) -> None:
    webhook_receiver.respond_with(500)
    options: dict[str, Any] = {"event_types": "strings", "retry_schedule": (), "circuit_breaker": 2}
    with MockSembleServer(**options) as first:
        first.create_webhook(webhook_receiver.url_for("/h"), ["patient.created"])
        document = first.state()
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(document))
    with MockSembleServer(state_file=state_file, **options) as server:
        (sub,) = document["subscriptions"]
        fail_times(server, 1)
        server.reset()  # the start-up subscription comes back with a clear count
        fail_times(server, 1)
        assert not paused(server, sub["id"])
        server.load_state(server.state())  # an import clears it too
        fail_times(server, 1)
        assert not paused(server, sub["id"])
        fail_times(server, 1)
        assert paused(server, sub["id"])
