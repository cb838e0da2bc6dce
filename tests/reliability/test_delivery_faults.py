"""Delivery faults: receivers that hang, reset, answer garbage or accept late, and
server shutdown with deliveries in flight. Every delivery ends in the journal as
``succeeded`` or ``failed`` with a reason; none stays pending, none is lost.
"""

from __future__ import annotations

import contextlib
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mock_semble.delivery.engine import engine_of
from mock_semble.testing import MockSembleServer, WebhookReceiver

from .faulty import faulty_receiver
from .helpers import CREATE, CliServer, Figures

FINAL = ("succeeded", "failed")
FAULTS = ("hang", "reset", "garbage", "truncated", "late-accept", "status-500", "slow", "ok")
ROUNDS = 4
SETTLE = 60.0  # longest wait for the journal to settle (the bound is ~3 s per delivery)


def subscribe(http: httpx.Client, url: str, event: str = "PATIENT_CREATED") -> str:
    variables = {"input": {"url": url, "eventTypes": [event], "label": url[-40:]}}
    body = http.post(
        "/graphql",
        json={"query": CREATE, "variables": variables},
        headers={"x-token": "test-token"},
    ).json()
    payload = body["data"]["createWebhook"]
    assert payload["error"] is None, payload
    return str(payload["data"]["id"])


def fire(http: httpx.Client, event: str = "PATIENT_CREATED") -> list[dict[str, Any]]:
    response = http.post("/__mock/events", json={"eventType": event})
    assert response.status_code == 200, response.text
    deliveries: list[dict[str, Any]] = response.json()["deliveries"]
    return deliveries


def settle(http: httpx.Client, ids: set[str], limit: float = SETTLE) -> list[dict[str, Any]]:
    """Poll the journal until every one of ``ids`` is final (bounded)."""
    deadline = time.monotonic() + limit
    while True:
        journal = http.get("/__mock/deliveries").json()["deliveries"]
        mine = [d for d in journal if d["id"] in ids]
        if len(mine) == len(ids) and all(d["status"] in FINAL for d in mine):
            return mine
        if time.monotonic() > deadline:
            stuck = [(d["id"], d["status"]) for d in mine if d["status"] not in FINAL]
            raise AssertionError(f"not final after {limit} s: {stuck}; {len(mine)}/{len(ids)}")
        time.sleep(0.05)


def reason_problems(delivery: dict[str, Any]) -> list[str]:
    """A failed delivery must say why, attempt by attempt."""
    problems = []
    attempts = delivery["attempts"]
    if not attempts:
        return [f"{delivery['id']}: no attempt journaled"]
    for attempt in attempts:
        status = attempt["responseStatus"]
        succeeded = attempt["error"] is None and status is not None and 200 <= status < 300
        if not succeeded and not attempt["error"] and status is None:
            problems.append(f"{delivery['id']} attempt {attempt['number']}: no reason")
    if delivery["status"] == "failed" and not (
        attempts[-1]["error"] or attempts[-1]["responseStatus"]
    ):
        problems.append(f"{delivery['id']}: failed without a reason")
    return problems


@pytest.fixture
def receivers() -> Iterator[dict[str, WebhookReceiver]]:
    delays = {"slow": 0.3, "late-accept": 1.5}  # slow: within the 1 s timeout
    started = {mode: faulty_receiver(mode, delay=delays.get(mode, 0)) for mode in FAULTS}
    yield started
    for receiver in started.values():
        receiver.stop()


def test_faulty_receivers_end_in_the_journal_with_reasons(
    cli_server: Callable[..., CliServer], receivers: dict[str, WebhookReceiver], figures: Figures
) -> None:
    server = cli_server(
        *("--allow-http-localhost", "--retry-schedule", "0.2,0.2", "--delivery-timeout", "1"),
        name="faults",
    )
    with server.client() as http:
        subs = {subscribe(http, r.url + f"/{mode}"): mode for mode, r in receivers.items()}
        fired: list[dict[str, Any]] = []
        query_times = []
        for _ in range(ROUNDS):
            fired += fire(http)
            # GraphQL is served while receivers misbehave
            started = time.monotonic()
            listed = http.post(
                "/graphql", json={"query": "{ webhooks { id } }"}, headers={"x-token": "test-token"}
            )
            query_times.append(time.monotonic() - started)
            assert listed.status_code == 200
        journal = settle(http, {d["id"] for d in fired})

    assert len(journal) == len(fired) == ROUNDS * len(FAULTS)  # none lost
    problems = [p for d in journal for p in reason_problems(d)]
    assert not problems, problems
    outcome: dict[str, Counter[str]] = {mode: Counter() for mode in FAULTS}
    errors: dict[str, set[str]] = {mode: set() for mode in FAULTS}
    for delivery in journal:
        mode = subs[delivery["subscriptionId"]]
        outcome[mode][delivery["status"]] += 1
        for attempt in delivery["attempts"]:
            if attempt["error"]:
                errors[mode].add(re.sub(r"\d+(\.\d+)?", "N", attempt["error"])[:80])
    for mode in ("hang", "reset", "garbage", "truncated", "status-500"):
        assert outcome[mode] == {"failed": ROUNDS}, (mode, outcome[mode])
        assert all(len(d["attempts"]) == 3 for d in journal if subs[d["subscriptionId"]] == mode)
    assert any("timeout" in e for e in errors["hang"])
    # a reason says what happened: never a bare category ("connection error: ")
    assert not [e for found in errors.values() for e in found if e.rstrip().endswith(":")], errors
    for mode in ("ok", "slow"):
        assert outcome[mode] == {"succeeded": ROUNDS}, (mode, outcome[mode], errors[mode])
    # the mock never sent half a request
    assert not [m for m, r in receivers.items() if r.incomplete]
    assert max(query_times) < 1.0
    figures.record(
        "delivery_faults",
        deliveries=len(journal),
        outcomes={mode: dict(c) for mode, c in outcome.items()},
        errors={mode: sorted(e) for mode, e in errors.items() if e},
        slowest_graphql_answer_ms=round(max(query_times) * 1000, 1),
    )


def test_in_process_stop_ends_every_delivery(figures: Figures) -> None:
    """``stop()`` with deliveries held, slow, retrying, queued and fresh: afterwards the
    journal (read in process) has every one of them, each final, each with a reason."""
    server = MockSembleServer(
        retry_schedule=(30.0,), delivery_timeout=10.0, delivery_concurrency=3
    ).start()
    modes = ("hang", "slow", "status-500", "ok", "reset")
    receivers = {mode: faulty_receiver(mode, delay=1.0) for mode in modes}
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for mode, receiver in receivers.items():
                subscribe(http, receiver.url + f"/{mode}")
            fired = [d for _ in range(6) for d in fire(http)]
            deadline = time.monotonic() + 10
            while not receivers["hang"].count and time.monotonic() < deadline:
                time.sleep(0.02)
        started = time.monotonic()
        server.stop()
        stop_seconds = time.monotonic() - started
        assert engine_of(server.runtime) is not None
        journal = [d.to_json() for d in engine_of(server.runtime).journal.select()]
    finally:
        for receiver in receivers.values():
            receiver.stop()
        with contextlib.suppress(Exception):
            server.stop()

    assert {d["id"] for d in journal} == {d["id"] for d in fired}  # none lost
    statuses = Counter(d["status"] for d in journal)
    assert set(statuses) <= set(FINAL), statuses
    problems = [p for d in journal for p in reason_problems(d)]
    assert not problems, problems
    shut_down = sum("shut down" in (d["attempts"][-1]["error"] or "") for d in journal)
    assert shut_down > 0
    assert stop_seconds < 10
    assert not [m for m, r in receivers.items() if r.incomplete]
    figures.record(
        "shutdown_in_process",
        deliveries=len(journal),
        statuses=dict(statuses),
        ended_by_shutdown=shut_down,
        stop_seconds=round(stop_seconds, 2),
    )


def test_sigterm_with_deliveries_in_flight(
    cli_server: Callable[..., CliServer], figures: Figures
) -> None:
    """SIGTERM to a CLI server while deliveries hang, are slow, wait for a retry or are
    queued: it exits with status 0 within a bound, its DEBUG log ends every delivery
    (sent and answered, or failed with a reason), and no receiver got half a request."""
    modes = ("hang", "slow", "status-500", "ok")
    receivers = {mode: faulty_receiver(mode, delay=1.0) for mode in modes}
    try:
        server = cli_server(
            *("--allow-http-localhost", "--retry-schedule", "30", "--delivery-timeout", "10"),
            *("--log-level", "debug"),
            name="sigterm",
        )
        with server.client() as http:
            for mode, receiver in receivers.items():
                subscribe(http, receiver.url + f"/{mode}")
            fired = [d for _ in range(5) for d in fire(http)]
            deadline = time.monotonic() + 10
            while not (receivers["hang"].count and receivers["status-500"].count):
                assert time.monotonic() < deadline, "deliveries did not start"
                time.sleep(0.02)
        started = time.monotonic()
        exit_code = server.terminate(timeout=20)
        exit_seconds = time.monotonic() - started
    finally:
        for receiver in receivers.values():
            receiver.stop()

    logs = server.logs()
    unaccounted = [
        d["id"]
        for d in fired
        if not re.search(rf"delivery {d['id']} attempt \d+ to \S+: HTTP 2\d\d", logs)
        and not re.search(rf"delivery {d['id']} to \S+ failed after \d+ attempt\(s\): \S", logs)
    ]
    assert not unaccounted, (unaccounted, logs[-3000:])
    assert "Traceback" not in logs
    assert not [m for m, r in receivers.items() if r.incomplete]
    figures.record(
        "shutdown_sigterm",
        deliveries=len(fired),
        exit_code=exit_code,
        exit_seconds=round(exit_seconds, 2),
        failed_in_log=len(re.findall(r"failed after \d+ attempt", logs)),
    )
    assert exit_seconds < 15
    assert exit_code == 0, f"exit status {exit_code} after SIGTERM (-15: killed by the signal)"


def test_sigterm_exit_code_is_0(cli_server: Callable[..., CliServer]) -> None:
    """An idle server stopped with SIGTERM exits 0: scripts (``kill $pid; wait $pid``
    under ``set -e``) and supervisors treat anything else as a crash."""
    server = cli_server(name="idle")
    assert httpx.get(server.url + "/__mock/health").status_code == 200
    exit_code = server.terminate(timeout=15)
    assert "Traceback" not in server.logs()
    assert exit_code == 0, f"exit status {exit_code}; uvicorn re-raised SIGTERM after shutdown"


def test_sigint_still_reports_an_interrupt(cli_server: Callable[..., CliServer]) -> None:
    """Ctrl-C is an interruption, not a normal stop: status 130, no traceback."""
    server = cli_server(name="sigint")
    assert server.proc is not None
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=15) in (130, -signal.SIGINT)
    assert "Traceback" not in server.logs()
