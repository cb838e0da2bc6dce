"""A small driver for a live mock, as a user talks to it (GraphQL and the control plane),
and a port that refuses connections. Receivers: :class:`mock_semble.testing.WebhookReceiver`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from mock_semble.testing import MockSembleClient, MockSembleServer
from mock_semble.testing.documents import DELETE_WEBHOOK, UPDATE_WEBHOOK

_BOUND: list[socket.socket] = []  # closed ports stay bound, so nothing else takes them


def closed_port() -> int:
    """A local port nothing listens on (connection refused). Its socket stays bound but
    never listens for the rest of the run, so no other test can start listening there."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _BOUND.append(sock)
    port: int = sock.getsockname()[1]
    return port


def free_port() -> int:
    """A local port free at the time of the call, for a process the test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


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
        payload = self.graphql(UPDATE_WEBHOOK, {"id": sub_id, "input": changes})["updateWebhook"]
        assert payload["error"] is None, payload

    def delete(self, sub_id: str) -> None:
        payload = self.graphql(DELETE_WEBHOOK, {"id": sub_id})["deleteWebhook"]
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
