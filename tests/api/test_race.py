"""Atomic mutations over a real socket: racing creates of one url + event."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import httpx
from conftest import CREATE, LIST, webhook_input

from mock_semble.testing import MockSembleServer


def test_48_racing_creates_from_16_threads_give_exactly_one_success(
    live_server: Callable[..., MockSembleServer],
) -> None:
    server = live_server()
    barrier = Barrier(16)
    body = {
        "query": CREATE,
        "variables": {"input": webhook_input(url="https://race.example.com/h")},
    }

    def worker(_: int) -> list[dict[str, Any]]:
        with httpx.Client(base_url=server.url, headers={"x-token": "test-token"}) as client:
            barrier.wait()
            return [client.post("/graphql", json=body).json() for _ in range(3)]

    with ThreadPoolExecutor(16) as pool:
        results = [r for batch in pool.map(worker, range(16)) for r in batch]
    assert len(results) == 48
    payloads = [r["data"]["createWebhook"] for r in results]
    successes = [p for p in payloads if p["error"] is None]
    assert len(successes) == 1
    assert all(p["error"].startswith("A webhook subscription") for p in payloads if p["error"])
    listed = httpx.post(server.graphql_url, json={"query": LIST}, headers={"x-token": "test-token"})
    assert [s["id"] for s in listed.json()["data"]["webhooks"]] == [successes[0]["data"]["id"]]
