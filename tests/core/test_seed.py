"""Determinism: ``--seed N`` (and the fixture's ``seed=``) makes ids, secrets, tokens and
event ids identical from run to run — across processes, and whatever the wall clock says."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from mock_semble.core.ids import is_object_id
from mock_semble.testing import MockSembleClient, MockSembleServer

pytestmark = pytest.mark.mock_semble(seed=1234, delivery_mode="record")


@contextmanager
def cli_server(
    *args: str, env: dict[str, str] | None = None, admin_token: str | None = None
) -> Iterator[MockSembleClient]:
    """``mock-semble serve --port 0 ARGS`` in its own process, driven by a client."""
    if admin_token is not None:
        args = (*args, "--admin-token", admin_token)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_semble", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    client = None
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line.startswith("mock-semble ready: "), line + proc.stderr.read()
        url = line.split("ready: ", 1)[1].strip().removesuffix("/graphql")
        client = MockSembleClient(url, admin_token=admin_token)
        yield client
    finally:
        if client is not None:
            client.close()
        proc.terminate()
        proc.wait(timeout=10)


def scenario(mock: MockSembleClient) -> dict[str, Any]:
    """Everything the mock generates: ids, secrets, tokens, event ids, patient ids."""
    practice = mock.new_practice("Seeded")
    first = mock.create_webhook("https://hooks.example/a", ["PATIENT_CREATED"])
    second = mock.create_webhook("https://hooks.example/b", token=practice.token)
    deliveries = mock.fire("PATIENT_CREATED") + practice.fire("PATIENT_CREATED")
    return {
        "practice": practice.id,
        "token": practice.token,
        "subscriptions": [(s["id"], s["secret"]) for s in (first, second)],
        "deliveries": [
            (
                d["id"],
                d["eventId"],
                d["body"],
                d["attempts"][0]["requestHeaders"]["X-Webhook-Signature"],
            )
            for d in deliveries
        ],
    }


def _without_signatures(result: dict[str, Any]) -> dict[str, Any]:
    """Signatures cover the attempt's timestamp: equal only under the same clock."""
    return {**result, "deliveries": [d[:3] for d in result["deliveries"]]}


def test_two_in_process_servers_agree_whatever_the_clock(mock_semble: MockSembleServer) -> None:
    mock_semble.freeze_clock("2030-01-01T00:00:00Z")
    frozen = scenario(mock_semble)
    with MockSembleServer(seed=1234, delivery_mode="record") as other:
        other.freeze_clock("2030-01-01T00:00:00Z")
        assert scenario(other) == frozen  # signatures too: same clock, same secrets
        other.reset()
        real_time = scenario(other)  # the wall clock moved on; nothing generated did
    assert _without_signatures(real_time) == _without_signatures(frozen)
    assert all(is_object_id(i) for i in (frozen["practice"], *frozen["deliveries"][0][:2]))
    assert frozen["token"].startswith("tok_")
    assert frozen["subscriptions"][0][1].startswith("whsec_")


def test_reset_replays_the_sequence(mock_semble: MockSembleServer) -> None:
    before = scenario(mock_semble)
    mock_semble.reset()
    assert _without_signatures(scenario(mock_semble)) == _without_signatures(before)


def test_a_refused_request_draws_no_id(mock_semble: MockSembleServer) -> None:
    reference = scenario(mock_semble)
    mock_semble.reset()
    with pytest.raises(Exception, match="url must be"):
        mock_semble.create_webhook("http://not-local.example/")  # refused: no id drawn
    assert _without_signatures(scenario(mock_semble)) == _without_signatures(reference)


def test_other_seeds_and_no_seed_differ(mock_semble: MockSembleServer) -> None:
    seeded = scenario(mock_semble)
    with MockSembleServer(seed=1235, delivery_mode="record") as other:
        assert scenario(other)["subscriptions"] != seeded["subscriptions"]
    runs = []
    for _ in range(2):
        with MockSembleServer(delivery_mode="record") as unseeded:
            runs.append(scenario(unseeded)["subscriptions"])
    assert runs[0] != runs[1] and seeded["subscriptions"] not in runs


def test_two_cli_processes_agree(mock_semble: MockSembleServer) -> None:
    in_process = _without_signatures(scenario(mock_semble))
    results = []
    for env in ({}, {"TZ": "Pacific/Kiritimati"}):
        with cli_server("--seed", "1234", "--delivery-mode", "record", env=env) as mock:
            results.append(_without_signatures(scenario(mock)))
    # the environment variable is the same flag
    with cli_server("--delivery-mode", "record", env={"MOCK_SEMBLE_SEED": "1234"}) as mock:
        results.append(_without_signatures(scenario(mock)))
    assert results == [in_process] * 3
