"""Soak: a 60-second mixed load against a CLI-started server, and its memory.

Load (all bounded by the clock and by a count): GraphQL creates, updates, deletes,
lists, refused inputs, unknown tokens and queries that are all different (they churn
the parse and validation caches); events fanned out to 52 subscriptions on a local
receiver (some paused, one refused, so there are retries and failures); and the
control plane read, redelivered from, and one practice reset now and then (so that
soft-deleted subscriptions do not pile up: that growth is by design, not a leak).

Memory: VmRSS of the server process (/proc/PID/status) before the load, after a
warm-up (lazy imports, the delivery client, caches and both journals full: each holds
200 entries, so every later entry evicts an old one), and at the end. The growth over
the whole run must stay within what the bounded journals hold plus a fixed allowance,
and the growth after the warm-up must stay near zero: a leak per request or per
delivery would show as a steady climb over tens of thousands of them.

A memory-attack mix runs alongside (issue 13), all without a token: large variables,
identifiers and operation names, a huge practice name. VmRSS must stay under 300 MB at
every sample, and /__mock/health, timed every 50 ms, must answer in under 100 ms at
the median (the soak's own stated bound; the percentiles go to the figures).

The request journal's size is the CLI flag ``--request-journal-size``; the delivery
journal's has no flag, so the server runs the CLI's own functions with
``delivery_journal_size=200`` added (see ``helpers.SERVE_WITH_EXTRA``).
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mock_semble.testing import WebhookReceiver

from .helpers import CREATE, DELETE, LIST, UPDATE, CliServer, Figures, env_number

SECONDS = env_number("MOCK_SEMBLE_SOAK_SECONDS", 60.0)
WARM_UP = 8.0  # seconds of load before the steady-state measurement
REQUEST_JOURNAL = 200
DELIVERY_JOURNAL = 200
FAN_OUT = 20  # receiver subscriptions, plus 1 paused and 1 refused
MAX_OPS = 1_000_000  # a bound besides the clock
# Upper bounds per journal entry, from tracemalloc of real entries (about 1.4 KiB per
# delivery with one attempt, 0.9 KiB per request entry) times two for allocator overhead.
DELIVERY_ENTRY = 3 * 1024
REQUEST_ENTRY = 2 * 1024
# What a first request and a first delivery load once: httpx and the TLS trust store for
# deliveries, strawberry's parse and validation caches (128 documents each), pools,
# thread stacks, allocator arenas. Measured at about 11 MiB.
FIXED_SLACK = 24 * 1024 * 1024
STEADY_SLACK = 6 * 1024 * 1024  # after the warm-up: allocator noise only
DOCUMENTS, DOCUMENT_SIZE = 150, 200 * 1024  # distinct documents of 200 KiB each
DOCUMENT_SLACK = 24 * 1024 * 1024  # what they may leave behind (30 MiB were sent)
# The memory-attack mix (issue 13) runs alongside: the server's VmRSS must stay under
# this at every sample, and /__mock/health is timed every 50 ms meanwhile.
RSS_LIMIT = 300 * 1024 * 1024
# Bodies of up to 1 MiB are read, decoded and refused all the time: the allocator keeps
# arenas for them once (measured: about 10 MiB more than without the attacks).
ATTACK_SLACK = 16 * 1024 * 1024
HEALTH_MEDIAN_LIMIT = 0.1  # seconds: the soak's stated bound on a health answer
JSON = {"content-type": "application/json"}


def _attack_bodies() -> list[tuple[str, str, bytes, int]]:
    """(kind, path, body, expected status) of each memory attack, all without a token:
    ~256 KB of nested-array variables (decoded they are ~23x that), identifiers of
    900 KB, a near-1 MiB operationName, a practice named with 900 KB."""
    variables = {"v": [[[]] for _ in range(256 * 1024 // 6)]}
    return [
        (
            "attack variables",
            "/graphql",
            json.dumps({"query": "{ webhooks { id } }", "variables": variables}).encode(),
            401,
        ),
        (
            "attack identifiers",
            "/__mock/events",
            json.dumps(
                {"eventType": "PATIENT_CREATED", "identifiers": {"patientId": "a" * 900_000}}
            ).encode(),
            400,
        ),
        (
            "attack operationName",
            "/graphql",
            json.dumps({"query": "{ webhooks { id } }", "operationName": "N" * 1_000_000}).encode(),
            401,
        ),
        ("attack name", "/__mock/practices", json.dumps({"name": "P" * 900_000}).encode(), 400),
    ]


class Load:
    def __init__(self, url: str, token: str, practice: str) -> None:
        self.url = url
        self.token = token  # the deliveries practice
        self.practice = practice
        self.stop = threading.Event()
        self.counts: Counter[str] = Counter()
        self.faults: list[str] = []
        self.fired = 0
        self.lock = threading.Lock()
        self.attack_bodies = _attack_bodies()
        self.health_seconds: list[float] = []

    def count(self, response: httpx.Response, kind: str) -> None:
        with self.lock:
            self.counts[kind] += 1
            if response.status_code >= 500:
                self.faults.append(f"{kind}: {response.status_code} {response.text[:200]}")

    def run(self, name: str, body: Callable[[httpx.Client, random.Random, int], None]) -> None:
        rng = random.Random(name)
        with httpx.Client(base_url=self.url, timeout=60) as http:
            for n in range(MAX_OPS):
                if self.stop.is_set():
                    return
                try:
                    body(http, rng, n)
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.faults.append(f"{name}: {type(exc).__name__}: {exc}")

    # -- the loads ---------------------------------------------------------------------

    def graphql(self, http: httpx.Client, rng: random.Random, n: int) -> None:
        token = {"x-token": "test-token"}
        url = f"https://soak.example.com/{rng.randrange(64)}"  # never fired: nothing sent
        kind = rng.random()
        if kind < 0.3:
            variables: dict[str, Any] = {
                "input": {
                    "url": url if rng.random() < 0.9 else "ftp://x",
                    "label": f"soak {n}",
                    "eventTypes": rng.sample(["PATIENT_CREATED", "PATIENT_UPDATED"], 1),
                }
            }
            r = http.post("/graphql", json={"query": CREATE, "variables": variables}, headers=token)
            self.count(r, "graphql create")
            return
        listed = http.post("/graphql", json={"query": LIST}, headers=token)
        self.count(listed, "graphql list")
        subs = listed.json()["data"]["webhooks"]
        if kind < 0.55 and subs:
            variables = {"id": rng.choice(subs)["id"], "input": {"label": f"u{n}", "url": url}}
            r = http.post("/graphql", json={"query": UPDATE, "variables": variables}, headers=token)
            self.count(r, "graphql update")
        elif kind < 0.7 and subs:
            variables = {"id": rng.choice(subs)["id"]}
            r = http.post("/graphql", json={"query": DELETE, "variables": variables}, headers=token)
            self.count(r, "graphql delete")
        elif kind < 0.85:  # a different document every time: cache churn
            query = f'{{ webhook(id: "{rng.getrandbits(96):024x}") {{ id }} }}'
            self.count(http.post("/graphql", json={"query": query}, headers=token), "graphql get")
        elif kind < 0.95:
            r = http.post("/graphql", json={"query": LIST}, headers={"x-token": f"nope-{n}"})
            self.count(r, "graphql 401")
        else:
            r = http.post("/graphql", json={"query": "{ webhooks { id nope } }"}, headers=token)
            self.count(r, "graphql invalid")
        if n % 400 == 399:  # soft-deleted subscriptions stay by design: start afresh
            self.count(http.post("/__mock/reset?practiceId=000000000000000000000001"), "reset")

    def events(self, http: httpx.Client, rng: random.Random, n: int) -> None:
        r = http.post(
            "/__mock/events",
            json={"eventType": "PATIENT_CREATED", "practiceId": self.practice, "wait": True},
        )
        self.count(r, "fire")
        if r.status_code == 200:
            with self.lock:
                self.fired += len(r.json()["deliveries"])

    def attacks(self, http: httpx.Client, rng: random.Random, n: int) -> None:
        kind, path, body, expected = self.attack_bodies[n % len(self.attack_bodies)]
        response = http.post(path, content=body, headers=JSON)
        self.count(response, kind)
        if response.status_code != expected:
            with self.lock:
                self.faults.append(f"{kind}: {response.status_code} {response.text[:200]}")

    def health(self, http: httpx.Client, rng: random.Random, n: int) -> None:
        started = time.perf_counter()
        response = http.get("/__mock/health")
        elapsed = time.perf_counter() - started
        self.count(response, "health")
        with self.lock:
            self.health_seconds.append(elapsed)
        self.stop.wait(0.05)

    def control(self, http: httpx.Client, rng: random.Random, n: int) -> None:
        self.count(http.get("/__mock/requests"), "control requests")
        failed = http.get("/__mock/deliveries", params={"status": "failed"})
        self.count(failed, "control deliveries")
        if failed.status_code == 200 and failed.json()["deliveries"] and n % 5 == 0:
            first = failed.json()["deliveries"][-1]["id"]
            one = http.get(f"/__mock/deliveries/{first}")
            self.count(one, "control delivery")
            if one.status_code == 200:
                r = http.post(f"/__mock/deliveries/{first}/redeliver", json={"wait": False})
                self.count(r, "control redeliver")
        if n % 10 == 0:
            self.count(http.get("/__mock/state"), "control state")
        self.stop.wait(0.05)


@pytest.mark.soak
def test_soak_mixed_load_memory_stays_bounded(
    cli_server: Callable[..., CliServer], figures: Figures
) -> None:
    server = cli_server(
        *("--allow-http-localhost", "--request-journal-size", str(REQUEST_JOURNAL)),
        *("--retry-schedule", "0.1", "--delivery-timeout", "2", "--log-level", "warning"),
        *("--circuit-breaker", "0"),  # the refused receiver must keep failing, not pause
        name="soak",
        extra={"delivery_journal_size": DELIVERY_JOURNAL},
    )
    receiver = WebhookReceiver(keep=0).start()  # counts every request, keeps none
    try:
        with server.client() as http:
            practice = http.post("/__mock/practices", json={"name": "Deliveries"}).json()["id"]
            token = http.post(
                "/__mock/tokens",
                json={"practiceId": practice, "permissions": ["createWebhooks", "editWebhooks"]},
            ).json()["token"]
            urls = [f"{receiver.url}/d/{i}" for i in range(FAN_OUT)]
            urls += [f"{receiver.url}/paused", "http://127.0.0.1:9/refused"]
            for url in urls:
                created = http.post(
                    "/graphql",
                    headers={"x-token": token},
                    json={
                        "query": CREATE,
                        "variables": {
                            "input": {
                                "url": url,
                                "label": "soak",
                                "eventTypes": ["PATIENT_CREATED"],
                            }
                        },
                    },
                )
                sub = created.json()["data"]["createWebhook"]["data"]
                if url.endswith("/paused"):
                    http.post(
                        "/graphql",
                        headers={"x-token": token},
                        json={
                            "query": UPDATE,
                            "variables": {"id": sub["id"], "input": {"deliveryPaused": True}},
                        },
                    )
        load = Load(server.url, token, practice)
        time.sleep(0.5)
        rss_start = server.rss_kib()
        threads = [
            threading.Thread(target=load.run, args=(name, body), daemon=True)
            for name, body in [
                ("graphql-1", load.graphql),
                ("graphql-2", load.graphql),
                ("events", load.events),
                ("control", load.control),
                ("attacks", load.attacks),
                ("health", load.health),
            ]
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        samples: list[tuple[float, int, int]] = []  # (seconds, KiB, deliveries fired)
        rss_warm: int | None = None
        ops_warm = 0
        while time.monotonic() - started < SECONDS:
            time.sleep(1.0)
            rss = server.rss_kib()
            samples.append((round(time.monotonic() - started, 1), rss, load.fired))
            warm = time.monotonic() - started >= WARM_UP and load.fired > 2 * DELIVERY_JOURNAL
            if rss_warm is None and warm:  # both journals have been full for a while
                rss_warm = rss
                ops_warm = sum(load.counts.values())
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), f"{thread.name} did not stop"
        elapsed = time.monotonic() - started
        rss_end = server.rss_kib()
        with server.client() as http:
            journal = http.get("/__mock/requests", params={"limit": 1000}).json()["requests"]
            statuses = Counter(
                d["status"]
                for d in http.get("/__mock/deliveries", params={"limit": 1000}).json()["deliveries"]
            )
            health = http.get("/__mock/health").json()
    finally:
        receiver.stop()

    bound_kib = (
        DELIVERY_JOURNAL * DELIVERY_ENTRY
        + REQUEST_JOURNAL * REQUEST_ENTRY
        + FIXED_SLACK
        + ATTACK_SLACK
    ) // 1024
    figures.record(
        "soak",
        seconds=round(elapsed, 1),
        operations=sum(load.counts.values()),
        operations_per_second=round(sum(load.counts.values()) / elapsed),
        by_kind=dict(sorted(load.counts.items())),
        deliveries_fired=load.fired,
        receiver_requests=receiver.count,
        journal_statuses=dict(statuses),
        request_journal_entries=len(journal),
        rss_kib={
            "before": rss_start,
            "after_warm_up": rss_warm,
            "after": rss_end,
            "max": max(s[1] for s in samples),
        },
        operations_after_warm_up=sum(load.counts.values()) - ops_warm,
        growth_bound_kib=bound_kib,
        rss_samples_kib=[(t, kib) for t, kib, _ in samples[:: max(1, len(samples) // 12)]],
        faults=len(load.faults),
        rss_limit_kib=RSS_LIMIT // 1024,
        health_ms=_percentiles(load.health_seconds),
    )
    assert not load.faults, load.faults[:5]
    assert max(s[1] for s in samples) * 1024 < RSS_LIMIT, samples
    assert load.counts["health"] == len(load.health_seconds) > 0
    assert statistics.median(load.health_seconds) < HEALTH_MEDIAN_LIMIT
    assert health["status"] == "ok"
    assert len(journal) == REQUEST_JOURNAL  # the ring buffer is full and no larger
    assert sum(statuses.values()) <= DELIVERY_JOURNAL
    assert {"succeeded", "failed", "skipped_paused"} <= set(statuses), statuses
    assert not receiver.incomplete
    assert rss_end - rss_start <= bound_kib, (rss_start, rss_end, bound_kib)
    assert rss_warm is not None
    assert rss_end - rss_warm <= STEADY_SLACK // 1024, (rss_warm, rss_end, samples)


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds) or [0.0]

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": at(1.0), "n": len(seconds)}


def test_large_distinct_documents_are_not_retained(
    cli_server: Callable[..., CliServer], figures: Figures
) -> None:
    """Every cache of documents is bounded in entries, but an entry is keyed by the whole
    query text (up to the 1 MiB body limit): distinct large documents must not be kept,
    or a few hundred of them hold a gigabyte (measured: 700 distinct 900 KB queries left
    the server at 1 018 MiB)."""
    server = cli_server("--log-level", "warning", name="documents")
    token = {"x-token": "test-token"}

    def send(count: int, start: int) -> None:
        with server.client() as http:
            for n in range(start, start + count):
                query = f'{{ webhook(id: "{n:08d}{"x" * DOCUMENT_SIZE}") {{ id }} }}'
                answer = http.post("/graphql", json={"query": query}, headers=token)
                assert answer.status_code == 200 and answer.json()["data"] == {"webhook": None}

    send(10, 0)  # warm-up: first requests, allocator arenas
    before = server.rss_kib()
    started = time.monotonic()
    send(DOCUMENTS, 10)
    elapsed = time.monotonic() - started
    after = server.rss_kib()
    figures.record(
        "large_documents",
        documents=DOCUMENTS,
        document_kib=DOCUMENT_SIZE // 1024,
        seconds=round(elapsed, 1),
        rss_kib={"before": before, "after": after},
        bound_kib=DOCUMENT_SLACK // 1024,
    )
    assert after - before <= DOCUMENT_SLACK // 1024, (before, after)
