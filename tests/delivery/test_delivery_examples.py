"""The receivers users copy (examples/receiver.py, the README's "Receiving webhooks")
really verify real deliveries, and ``mock-semble fire`` reports them."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from driver import Driver, closed_port, free_port

from mock_semble.testing import MockSembleServer, WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
LiveServer = Callable[..., MockSembleServer]


def wait_listening(port: int, process: subprocess.Popen[str], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []

    def start(args: list[str], port: int, **options: object) -> subprocess.Popen[str]:
        process: subprocess.Popen[str] = subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            **options,  # type: ignore[call-overload]
        )
        processes.append(process)
        wait_listening(port, process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(10)


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    out, _ = process.communicate(timeout=10)
    return out


@pytest.mark.parametrize("scheme", ["semble", "standard"])
def test_example_receiver_verifies_and_spots_duplicates(
    live_server: LiveServer, spawn: Callable[..., subprocess.Popen[str]], scheme: str
) -> None:
    port = free_port()
    with Driver(live_server(signing_scheme=scheme, retry_schedule=())) as mock:
        sub = mock.subscribe(f"http://127.0.0.1:{port}/webhooks")
        args = ["examples/receiver.py", "--port", str(port), "--secret", sub["secret"]]
        receiver = spawn(
            [*args, "--scheme", scheme],
            port,
            cwd=ROOT,
        )
        [delivery] = mock.fire(wait=True, identifiers={"patientId": "a" * 24})
        assert delivery["status"] == "succeeded"
        path = f"/__mock/deliveries/{delivery['id']}/redeliver"
        assert mock.http.post(path, json={"wait": True}).json()["status"] == "succeeded"
        tampered = httpx.post(
            f"http://127.0.0.1:{port}/webhooks",
            content=delivery["body"].replace("a" * 24, "b" * 24),
            headers=delivery["attempts"][0]["requestHeaders"],
        )
        assert tampered.status_code == 400
    lines = stop(receiver).splitlines()
    expected = f"verified patient.created eventId={delivery['eventId']} subscriptionId={sub['id']}"
    assert lines[0] == expected + f' identifiers={{"patientId": "{"a" * 24}"}}'
    assert lines[1].endswith("(duplicate)")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_semble", "fire", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_fire_prints_each_outcome_and_fails_on_a_failed_delivery(
    live_server: LiveServer,
) -> None:
    server = live_server(retry_schedule=())
    with WebhookReceiver() as receiver, Driver(server) as mock:
        good = mock.subscribe(receiver.url + "/in")
        bad = mock.subscribe(f"http://127.0.0.1:{closed_port()}/in", events=["PATIENT_UPDATED"])
        result = run_cli(
            "patient.created",
            "--url",
            server.url,
            "--wait",
            "--identifier",
            "patientId=" + "1" * 24,
        )
        assert result.returncode == 0, result.stderr
        [request] = receiver.wait_for(1)
        assert b'"identifiers":{"patientId":"111111111111111111111111"}' in request.body
        first, line = result.stdout.splitlines()
        assert first == "1 delivery"
        assert re.fullmatch(
            rf"[0-9a-f]{{24}} succeeded patient.created -> {receiver.url}/in "
            r"\(1 attempt, last: HTTP 200\)",
            line,
        )
        failed = run_cli("PATIENT_UPDATED", "--url", server.url, "--wait")
        assert failed.returncode == 1
        assert "failed" in failed.stdout and "connection refused" in failed.stdout
        quick = run_cli("PATIENT_UPDATED", "--url", server.url, "--subscription", bad["id"])
        assert quick.returncode == 0 and " pending " in quick.stdout
        unknown = run_cli("PATIENT_EXPLODED", "--url", server.url)
        assert unknown.returncode == 2
        assert "fire failed (400): unknown event type: 'PATIENT_EXPLODED'" in unknown.stderr
        assert good["id"] in {d["subscriptionId"] for d in mock.deliveries()}
