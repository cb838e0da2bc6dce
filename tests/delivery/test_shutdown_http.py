"""Delivery edge cases through a real server, over HTTP (SPEC §2.4, §2.5, §4):

- shutdown: a ``wait: true`` call (events and redeliver) interrupted by SIGTERM answers
  503 with the deliveries as shutdown left them; a call whose body is still arriving when
  the shutdown begins answers 503 ``server shut down`` and creates nothing;
- an unreadable ``--ca-bundle``: deliveries fail with a clear journal error, never a 500;
- a receiver that resets the connection in the middle of its response: a failed attempt
  with a transport error, then a retry;
- a subscription deleted while its delivery waits to retry: the retry is not sent, and
  ``webhook.event.deliveryFailed`` reports it.

Servers run as ``mock-semble serve`` processes (signals, exit codes, the CLI's wiring),
except where the in-process fixture is enough. Nothing here sleeps to show that
something did not happen: each wait is for a state the test can observe.
"""

from __future__ import annotations

import json
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_semble.testing import MockSembleServer
from mock_semble.testing.receiver import WebhookReceiver

SHUT_DOWN = "server shut down"  # SPEC §2.4: nothing is silently lost
CREATE = """mutation Create($input: CreateWebhookInput!) {
  createWebhook(input: $input) { data { id secret } error }
}"""
DELETE = "mutation Delete($id: ID!) { deleteWebhook(id: $id) { data { id deleted } error } }"
TOKEN = {"x-token": "test-token"}


# -- a mock-semble serve process ------------------------------------------------------------


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc, self.url = proc, url
        self.host, port = url.removeprefix("http://").rsplit(":", 1)
        self.port = int(port)

    def subscribe(self, url: str, events: list[str] | None = None) -> dict[str, Any]:
        webhook = {"url": url, "eventTypes": events or ["PATIENT_CREATED"], "label": "t"}
        answer = httpx.post(
            self.url + "/graphql",
            json={"query": CREATE, "variables": {"input": webhook}},
            headers=TOKEN,
        ).json()
        payload: dict[str, Any] = answer["data"]["createWebhook"]
        assert payload["error"] is None, payload
        return payload["data"]  # type: ignore[no-any-return]

    def terminate(self) -> int:
        """SIGTERM, then the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def wait_until_not_listening(self) -> None:
        """The shutdown has begun once new connections are refused."""
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
            except ConnectionRefusedError:
                return
            assert time.monotonic() < deadline, "the server kept listening"
            time.sleep(0.005)


@contextmanager
def serve(*args: str) -> Iterator[Served]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_semble", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line.startswith("mock-semble ready: "), line + proc.stderr.read()
        yield Served(proc, line.split("ready: ", 1)[1].strip().removesuffix("/graphql"))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def in_thread(call: Callable[[], httpx.Response]) -> Callable[[], httpx.Response]:
    """Start ``call`` in a thread; the returned function joins it and gives its answer."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["answer"] = call()
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> httpx.Response:
        thread.join(60)
        assert not thread.is_alive(), "the call never answered"
        if "error" in box:
            raise box["error"]
        answer: httpx.Response = box["answer"]
        return answer

    return join


# -- shutdown: 503 ----------------------------------------------------------------------------


def test_a_waiting_fire_interrupted_by_sigterm_answers_503_with_its_deliveries(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.respond_with(200, hold=threading.Event())  # never answers by itself
    # the attempt outlives the shutdown grace (2 s) but not its own timeout (10 s)
    with serve("--allow-http-localhost", "--retry-schedule", "") as mock:
        sub = mock.subscribe(webhook_receiver.url)
        answer = in_thread(
            lambda: httpx.post(
                mock.url + "/__mock/events",
                json={"eventType": "patient.created", "wait": True},
                timeout=60,
            )
        )
        webhook_receiver.wait_for(1)  # the attempt is in flight
        assert mock.terminate() == 0
        response = answer()
    webhook_receiver.release()
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == SHUT_DOWN
    [delivery] = body["deliveries"]
    assert (delivery["subscriptionId"], delivery["status"]) == (sub["id"], "failed")
    [attempt] = delivery["attempts"]
    assert attempt["error"] == "server shut down during this attempt"
    assert attempt["requestHeaders"]  # it had been sent


def test_a_waiting_redeliver_interrupted_by_sigterm_answers_503_with_its_delivery(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.respond_with(500, times=1)
    webhook_receiver.respond_with(200, hold=threading.Event())
    with serve("--allow-http-localhost", "--retry-schedule", "") as mock:
        mock.subscribe(webhook_receiver.url)
        fired = httpx.post(
            mock.url + "/__mock/events", json={"eventType": "patient.created", "wait": True}
        ).json()
        [failed] = fired["deliveries"]
        assert failed["status"] == "failed"
        answer = in_thread(
            lambda: httpx.post(
                f"{mock.url}/__mock/deliveries/{failed['id']}/redeliver",
                json={"wait": True},
                timeout=60,
            )
        )
        webhook_receiver.wait_for(2)  # the redelivery is in flight
        assert mock.terminate() == 0
        response = answer()
    webhook_receiver.release()
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == SHUT_DOWN
    [again] = body["deliveries"]
    assert again["eventId"] == failed["eventId"] and again["id"] != failed["id"]
    assert again["status"] == "failed"
    assert again["attempts"][-1]["error"] == "server shut down during this attempt"


def raw_request(mock: Served, path: str, body: bytes) -> socket.socket:
    """A connection that has sent the head and all of ``body`` but its last byte, once
    the server's handler is reading the body: ``Expect: 100-continue`` makes the server
    say so (a connection the server had not read yet would be closed as idle)."""
    sock = socket.create_connection((mock.host, mock.port), timeout=30)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: {mock.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
    )
    interim = b""
    while not interim.endswith(b"\r\n\r\n"):
        chunk = sock.recv(1)
        assert chunk, "the server closed the connection"
        interim += chunk
    assert interim.startswith(b"HTTP/1.1 100 "), interim
    sock.sendall(body[:-1])
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(payload)


@pytest.mark.parametrize("call", ["events", "redeliver"])
def test_a_call_whose_body_arrives_during_shutdown_is_refused_with_503(call: str) -> None:
    with serve("--delivery-mode", "record") as mock:
        mock.subscribe("https://hooks.example/in")
        if call == "events":
            path = "/__mock/events"
        else:
            recorded = httpx.post(
                mock.url + "/__mock/events", json={"eventType": "patient.created"}
            )
            [delivery] = recorded.json()["deliveries"]
            path = f"/__mock/deliveries/{delivery['id']}/redeliver"
        body = b'{"eventType": "patient.created"}' if call == "events" else b"{}"
        with raw_request(mock, path, body) as sock:
            mock.proc.send_signal(signal.SIGTERM)
            mock.wait_until_not_listening()
            sock.sendall(b"}")  # the body's last byte: the call now runs, while closing
            status, body = read_response(sock)
        assert mock.proc.wait(timeout=30) == 0
    assert (status, body) == (503, {"error": SHUT_DOWN})


# -- an unreadable --ca-bundle ----------------------------------------------------------------


@pytest.mark.parametrize("content", ["this is not a certificate\n", ""])
def test_a_ca_bundle_without_certificates_is_refused_at_start(tmp_path: Path, content: str) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text(content)
    run = subprocess.run(
        [sys.executable, "-m", "mock_semble", "serve", "--port", "0", "--ca-bundle", str(bundle)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.startswith(f"mock-semble: error: --ca-bundle {bundle} holds no usable")
    assert run.stderr.count("\n") == 1  # one line, no traceback


def test_a_ca_bundle_removed_after_start_fails_deliveries_with_a_clear_error(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    import trustme  # a test dependency

    bundle = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    with serve(
        "--ca-bundle", str(bundle), "--allow-http-localhost", "--retry-schedule", ""
    ) as mock:
        bundle.unlink()  # the trust store is loaded at the first delivery
        mock.subscribe(webhook_receiver.url)
        response = httpx.post(
            mock.url + "/__mock/events", json={"eventType": "patient.created", "wait": True}
        )
        assert response.status_code == 200, response.text
        [delivery] = response.json()["deliveries"]
        assert delivery["status"] == "failed"
        [attempt] = delivery["attempts"]
        assert attempt["error"].startswith("cannot set up HTTPS: ")
        assert attempt["responseStatus"] is None
        # the server keeps serving
        assert httpx.get(mock.url + "/__mock/health").json()["status"] == "ok"
        listed = httpx.post(
            mock.url + "/graphql", json={"query": "{ webhooks { id } }"}, headers=TOKEN
        )
        assert listed.json()["data"]["webhooks"] == [{"id": delivery["subscriptionId"]}]
        assert mock.terminate() == 0
    assert webhook_receiver.requests == []


# -- a connection reset in the middle of the response ---------------------------------------


class ResettingReceiver:
    """Answers its first request with a status line, headers and part of the body, then
    resets the connection (RST); answers later requests with a whole 200."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/in"
        self.bodies: list[bytes] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                self.bodies.append(self.read_request(conn))
                if len(self.bodies) == 1:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    )

    @staticmethod
    def read_request(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            body += conn.recv(65536)
        return body

    def close(self) -> None:
        self.server.close()
        self.thread.join(10)


def test_a_connection_reset_mid_response_is_a_failed_attempt_then_retried(
    mock_semble: MockSembleServer,
) -> None:
    receiver = ResettingReceiver()
    try:
        mock_semble.create_webhook(receiver.url)
        [delivery] = mock_semble.fire("patient.created")
    finally:
        receiver.close()
    assert delivery["status"] == "succeeded"
    first, second = delivery["attempts"]
    assert first["responseStatus"] == 200  # the status line had arrived
    assert first["error"] is not None and first["error"].startswith(
        ("connection reset by the receiver", "connection error", "protocol error")
    )
    assert first["responseBody"] is None
    assert (second["responseStatus"], second["responseBody"], second["error"]) == (200, "ok", None)
    assert receiver.bodies == [delivery["body"].encode()] * 2  # the same body, retried
    assert httpx.get(mock_semble.url + "/__mock/health").status_code == 200


# -- a subscription deleted while its delivery waits to retry ---------------------------------


@pytest.mark.mock_semble(event_types="strings", retry_schedule=(0.5,))
def test_a_subscription_deleted_while_retrying_gets_no_retry_and_a_failure_report(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    with WebhookReceiver() as failing:
        failing.respond_with(500)
        watcher = mock_semble.create_webhook(
            webhook_receiver.url_for("/watch"), ["webhook.event.deliveryFailed"]
        )
        sub = mock_semble.create_webhook(failing.url, ["patient.created"])
        fired = httpx.post(
            mock_semble.url + "/__mock/events", json={"eventType": "patient.created"}
        )
        [delivery] = fired.json()["deliveries"]
        wait_for_status(mock_semble, delivery["id"], {"retrying"})
        deleted = mock_semble.execute(DELETE, {"id": sub["id"]})
        assert deleted["data"]["deleteWebhook"]["data"]["deleted"] is True
        final = wait_for_status(mock_semble, delivery["id"], {"failed", "succeeded"})
        assert final["status"] == "failed"
        assert [(a["responseStatus"], a["error"]) for a in final["attempts"]] == [
            (500, None),
            (None, "subscription was deleted; not sent"),
        ]
        assert final["attempts"][1]["requestHeaders"] == {}
        assert len(failing.requests) == 1  # final: no task is left to send again
    [report] = webhook_receiver.wait_for(1)
    assert report.json["subscriptionId"] == watcher["id"]
    assert report.json["eventType"] == "webhook.event.deliveryFailed"
    assert report.json["identifiers"] == {"subscriptionId": sub["id"], "outboxId": delivery["id"]}
    assert report.json["metadata"] == {"failedEventType": "patient.created", "httpStatusCode": 500}


def wait_for_status(
    server: MockSembleServer, delivery_id: str, statuses: set[str]
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        delivery = server.delivery(delivery_id)
        if delivery["status"] in statuses:
            return delivery
        assert time.monotonic() < deadline, delivery
        time.sleep(0.01)
