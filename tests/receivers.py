"""Real scripted webhook receivers on 127.0.0.1, and a small driver for a live mock.

A :class:`Receiver` is a threaded ``http.server`` (optionally TLS) that records every
request exactly as it arrived (header order, raw body bytes) and answers from a script
of :class:`Reply` objects, then with its default reply. Nothing here mocks the network.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from mock_semble.testing import MockSembleClient, MockSembleServer

HOLD_LIMIT = 30.0  # a held request is answered after this long even if never released


@dataclass
class Received:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    at: float  # time.monotonic()

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def header_map(self) -> dict[str, str]:
        return dict(self.headers)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    drip: float = 0.0  # between ten pieces of the body (headers go out at once)
    hold: threading.Event | None = None  # answer only once this is set
    before: Callable[[Received], None] | None = None  # e.g. change the mock's state


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    tls: ssl.SSLContext | None = None
    owner: Receiver

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        if self.tls is not None:  # handshake in the handler thread, not the accept loop
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # failed handshakes and aborted connections are part of the tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        received = Received(
            self.command, self.path, list(self.headers.items()), body, time.monotonic()
        )
        reply = self.server.owner._record(received)
        if reply.before is not None:
            reply.before(received)
        if reply.hold is not None:
            reply.hold.wait(HOLD_LIMIT)
        if reply.delay:
            time.sleep(reply.delay)
        try:
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if not reply.drip:
                self.wfile.write(reply.body)
                return
            step = max(1, len(reply.body) // 10)
            for start in range(0, len(reply.body), step):
                self.wfile.write(reply.body[start : start + step])
                self.wfile.flush()
                time.sleep(reply.drip)
        except OSError:
            pass  # the mock gave up on this attempt (timeout, shutdown)

    do_GET = do_PUT = do_POST


class Receiver:
    """``with Receiver([Reply(500), Reply(200)]) as r:`` ... ``r.url``, ``r.requests``."""

    def __init__(
        self,
        script: Iterable[Reply] = (),
        *,
        default: Reply | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.script = list(script)
        self.default = default or Reply()
        self.requests: list[Received] = []
        self._changed = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.tls = tls
        self._server.owner = self
        self.port = self._server.server_address[1]
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _record(self, received: Received) -> Reply:
        with self._changed:
            self.requests.append(received)
            reply = self.script.pop(0) if self.script else self.default
            self._changed.notify_all()
        return reply

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until ``count`` requests have arrived; return them."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            return list(self.requests)

    def release(self) -> None:
        """Let every held request answer."""
        for reply in [*self.script, self.default]:
            if reply.hold is not None:
                reply.hold.set()

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def closed_port() -> int:
    """A local port nothing listens on (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


UPDATE = """mutation($id: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(id: $id, input: $input) { data { id deliveryPaused } error }
}"""
DELETE = """mutation($id: ID!) { deleteWebhook(id: $id) { data { id deleted } error } }"""
UNFINISHED = ("pending", "retrying")


class Driver:
    """Talks to a live mock the way a user does: GraphQL for subscriptions, the
    control plane for events and the journal.

    A thin layer over its own :class:`MockSembleClient` (``self.client``: own connection
    pool, so a driver opened inside a receiver thread never shares one with the test);
    what it adds is assertion-style GraphQL, camelCase ``fire`` fields as sent on the wire,
    and polling helpers. Refused control calls raise :class:`MockSembleError`."""

    def __init__(self, server: MockSembleServer, token: str = "test-token") -> None:
        self.server = server
        self.token = token
        self.client = MockSembleClient(
            server.url,
            token=token,
            practice_id=server.practice_id,
            admin_token=server.admin_token,
            timeout=30,
        )

    @property
    def http(self) -> httpx.Client:
        """Raw HTTP against the mock (``base_url`` is its URL), for wire-level assertions."""
        return self.client.http

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The operation's ``data``; fails on any GraphQL error."""
        result = self.client.execute(query, variables or {}, token=self.token)
        assert "errors" not in result, result
        data: dict[str, Any] = result["data"]
        return data

    def subscribe(
        self,
        url: str,
        events: Iterable[str] = ("PATIENT_CREATED",),
        headers: Iterable[tuple[str, str]] | None = None,
        label: str = "test",
    ) -> dict[str, Any]:
        """Create a subscription; return it (``id``, ``secret``, ``url``…)."""
        mapping = None
        if headers is not None:  # create_webhook takes a mapping: keys must stay distinct
            pairs = list(headers)
            mapping = dict(pairs)
            if len(mapping) != len(pairs):
                raise ValueError(f"duplicate header keys would be merged: {pairs}")
        return self.client.create_webhook(
            url, events, label=label, headers=mapping, token=self.token
        )

    def update(self, sub_id: str, **changes: Any) -> None:
        payload = self.graphql(UPDATE, {"id": sub_id, "input": changes})["updateWebhook"]
        assert payload["error"] is None, payload

    def delete(self, sub_id: str) -> None:
        payload = self.graphql(DELETE, {"id": sub_id})["deleteWebhook"]
        assert payload["error"] is None, payload

    def fire(self, event_type: str = "PATIENT_CREATED", **body: Any) -> list[dict[str, Any]]:
        """``POST /__mock/events`` with ``body`` as given (camelCase: ``subscriptionId=``,
        ``identifiers=``, ``wait=``). Unlike ``MockSembleClient.fire`` it does not wait
        unless ``wait=True`` is passed."""
        answer = self.client.control("POST", "events", json={"eventType": event_type, **body})
        deliveries: list[dict[str, Any]] = answer["deliveries"]
        return deliveries

    def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        return self.client.deliveries(**filters)

    def delivery(self, delivery_id: str) -> dict[str, Any]:
        return self.client.delivery(delivery_id)

    def _poll(
        self, delivery_id: str, done: Callable[[dict[str, Any]], bool], timeout: float
    ) -> tuple[bool, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            delivery = self.delivery(delivery_id)
            if done(delivery):
                return True, delivery
            if time.monotonic() > deadline:
                return False, delivery
            time.sleep(0.02)

    def wait_final(self, delivery_id: str, timeout: float = 15.0) -> dict[str, Any]:
        """Poll the journal until the delivery is final (for deliveries fired without wait)."""
        final, delivery = self._poll(delivery_id, lambda d: d["status"] not in UNFINISHED, timeout)
        if not final:
            raise AssertionError(f"delivery still {delivery['status']}: {delivery}")
        return delivery

    def wait_until(self, delivery_id: str, status: str, timeout: float = 10.0) -> bool:
        return self._poll(delivery_id, lambda d: d["status"] == status, timeout)[0]

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
