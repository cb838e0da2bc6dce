"""``mock-semble fire``: URL forms, why nothing was sent, progress while retries run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from mock_semble.testing import MockSembleServer, WebhookReceiver

Server = Callable[..., MockSembleServer]


def fire(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_semble", "fire", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


def test_url_takes_the_base_or_the_graphql_url(
    live_server: Server, receiver: WebhookReceiver
) -> None:
    server = live_server()
    server.create_webhook(receiver.url)
    for url in (server.url, server.url + "/", server.graphql_url, server.graphql_url + "/"):
        result = fire("PATIENT_CREATED", "--url", url, "--wait")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("1 delivery\n")
        assert " succeeded patient.created -> " in result.stdout
    from_env = fire("PATIENT_CREATED", "--wait", env={"MOCK_SEMBLE_URL": server.graphql_url})
    assert from_env.returncode == 0, from_env.stderr
    assert len(receiver.wait_for(5)) == 5


def test_no_subscription_lists_the_event(live_server: Server, receiver: WebhookReceiver) -> None:
    server = live_server()
    server.create_webhook(receiver.url, ["PATIENT_UPDATED"])
    reason = (
        "mock-semble: no subscription of the practice lists PATIENT_CREATED, so nothing was "
        "sent (create one with createWebhook, or check the event type and --practice)"
    )
    waited = fire("PATIENT_CREATED", "--url", server.url, "--wait")
    assert waited.returncode == 1
    assert waited.stdout == "0 deliveries\n"
    assert waited.stderr.strip() == reason
    at_once = fire("PATIENT_CREATED", "--url", server.url)
    assert at_once.returncode == 0
    assert at_once.stderr.strip() == reason


def test_every_matching_subscription_is_paused(
    live_server: Server, receiver: WebhookReceiver
) -> None:
    server = live_server()
    hook = server.create_webhook(receiver.url)
    update = (
        "mutation($id: ID!) { updateWebhook(id: $id, input: {deliveryPaused: true}) { error } }"
    )
    assert server.execute(update, {"id": hook["id"]})["data"]["updateWebhook"]["error"] is None
    result = fire("PATIENT_CREATED", "--url", server.url, "--wait")
    assert result.returncode == 1
    assert " skipped_paused patient.created -> " in result.stdout
    assert result.stderr.strip() == (
        "mock-semble: every subscription that lists PATIENT_CREATED is paused "
        "(deliveryPaused), so nothing was sent"
    )
    assert receiver.requests == []


def test_practice_with_webhooks_disabled(live_server: Server) -> None:
    server = live_server()
    practice = server.new_practice("Off", webhooks_enabled=False)
    result = fire("PATIENT_CREATED", "--url", server.url, "--practice", practice.id, "--wait")
    assert result.returncode == 1  # SPEC §5: nothing matched, it says why
    assert result.stderr.strip() == (
        "mock-semble: the practice has webhooks disabled (webhooksEnabled: false), "
        "so nothing was sent"
    )
    without_wait = fire("PATIENT_CREATED", "--url", server.url, "--practice", practice.id)
    assert without_wait.returncode == 0
    assert "webhooks disabled" in without_wait.stderr


def test_wait_prints_progress_while_retries_run(
    live_server: Server, receiver: WebhookReceiver
) -> None:
    # The first attempt fails; the retry follows 2 s later. The progress watcher reads the
    # journal every second, so it sees the delivery while it waits for its retry.
    server = live_server(retry_schedule=(2.0,))
    receiver.respond_with(503, times=1)
    server.create_webhook(receiver.url)
    result = fire("PATIENT_CREATED", "--url", server.url, "--wait")
    assert result.returncode == 0, result.stderr
    assert "(2 attempts, last: HTTP 200)" in result.stdout
    progress = [line for line in result.stderr.splitlines() if " retrying " in f" {line}"]
    assert progress, result.stderr
    assert progress[0].startswith("mock-semble: retrying ")
    assert progress[0].endswith(
        ": attempt 1 failed (HTTP 503); the next one follows the retry schedule"
    )
    assert result.stdout.count("\n") == 2  # stdout: the result only, progress is on stderr


def test_unreachable_server_is_a_usage_error() -> None:
    result = fire("PATIENT_CREATED", "--url", "http://127.0.0.1:9/graphql")
    assert result.returncode == 2
    assert result.stderr.startswith("mock-semble: error: cannot reach http://127.0.0.1:9/graphql")
