"""Races over real sockets: 32 clients, mixed operations, one CLI-started server.

Every client is a thread with its own ``httpx.Client`` (its own connection). For a
bounded time they create subscriptions on four URLs that collide (two of them are the
same URL after normalisation) with overlapping event types, update them (URL, events,
label, pause), delete them, list and get them — in two practices, and across practices.
Every create and update carries a label used nowhere else, so any trace of a refused
mutation would be visible.

Afterwards the store (``GET /__mock/state``) must satisfy every invariant:
- no two live subscriptions of a practice conflict (nor did any list seen during the run);
- the store holds exactly the subscriptions whose create the clients saw succeed, in the
  creator's practice, with the secret the creator got;
- each one is in the state of a last successful mutation (one that no other success on
  it provably followed), and a delete succeeded at most once and was last;
- refused mutations left no trace: none of their labels is in the store or was ever
  listed; cross-practice updates and deletes all answered "Webhook not found".
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .helpers import (
    CREATE,
    DELETE,
    EVENTS,
    GET,
    LIST,
    MSG_CONFLICT,
    MSG_NOT_FOUND,
    UPDATE,
    CliServer,
    Figures,
    conflicts,
    env_number,
)

CLIENTS = 32
SECONDS = env_number("MOCK_SEMBLE_RACE_SECONDS", 15.0)
MAX_OPS_PER_CLIENT = 20_000  # a bound on the loop besides the clock
URLS = [
    "https://race.example.com/a",
    "HTTPS://Race.Example.com:443/a",  # the same URL as the first, after normalisation
    "https://race.example.com/b",
    "https://race.example.com/a?x=1",
]
COMPARED = ("url", "label", "eventTypes", "deliveryPaused", "deleted")


@dataclass
class Op:
    kind: str
    practice: str
    sub_id: str | None
    label: str | None
    started: float
    ended: float = 0.0
    ok: bool = False
    error: str | None = None
    data: Any = None


@dataclass
class Shared:
    ids: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, practice: str, sub_id: str) -> None:
        with self.lock:
            self.ids[practice].append(sub_id)

    def pick(self, rng: random.Random, practice: str) -> str | None:
        with self.lock:
            recent = self.ids[practice][-24:]  # recent ones: where the contention is
        return rng.choice(recent) if recent else None


def events(rng: random.Random) -> list[str]:
    return rng.sample(EVENTS, rng.randint(1, 2))


class Client(threading.Thread):
    def __init__(
        self,
        number: int,
        base_url: str,
        tokens: dict[str, str],
        shared: Shared,
        barrier: threading.Barrier,
        deadline: Callable[[], float],
    ) -> None:
        super().__init__(name=f"race-client-{number}", daemon=True)
        self.number = number
        self.rng = random.Random(number)
        self.http = httpx.Client(base_url=base_url, timeout=60)
        self.tokens = tokens
        self.shared = shared
        self.barrier = barrier
        self.deadline = deadline
        self.ops: list[Op] = []
        self.lists: list[list[dict[str, Any]]] = []
        self.faults: list[str] = []

    def call(self, practice: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"x-token": self.tokens[practice]},
        )
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or "errors" in body:
            self.faults.append(f"{response.status_code} {response.text[:300]}")
        return body

    def run(self) -> None:
        try:
            self.barrier.wait(timeout=30)
            for n in range(MAX_OPS_PER_CLIENT):
                if time.monotonic() >= self.deadline():
                    break
                self.one(n)
        except Exception as exc:  # reported by the test, never swallowed
            self.faults.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.http.close()

    def one(self, n: int) -> None:
        rng = self.rng
        practices = list(self.tokens)
        practice = practices[0] if rng.random() < 0.8 else practices[1]
        label = f"c{self.number}-{n}"
        roll = rng.random()
        if roll < 0.35:
            variables = {
                "input": {"url": rng.choice(URLS), "eventTypes": events(rng), "label": label}
            }
            self.mutate("create", practice, None, label, CREATE, variables, "createWebhook")
            return
        sub_id = self.shared.pick(rng, practice)
        if sub_id is None:
            return
        if roll < 0.60:
            changes: dict[str, Any] = {"label": label}
            if rng.random() < 0.5:
                changes["url"] = rng.choice(URLS)
            if rng.random() < 0.5:
                changes["eventTypes"] = events(rng)
            if rng.random() < 0.3:
                changes["deliveryPaused"] = rng.random() < 0.5
            variables = {"id": sub_id, "input": changes}
            self.mutate("update", practice, sub_id, label, UPDATE, variables, "updateWebhook")
        elif roll < 0.70:
            self.mutate("delete", practice, sub_id, None, DELETE, {"id": sub_id}, "deleteWebhook")
        elif roll < 0.75:  # another practice's subscription: must be "not found"
            other = practices[1] if practice == practices[0] else practices[0]
            variables = {"id": sub_id, "input": {"label": label}}
            kind = rng.choice(["foreign-update", "foreign-delete"])
            if kind == "foreign-update":
                self.mutate(kind, other, sub_id, label, UPDATE, variables, "updateWebhook")
            else:
                self.mutate(kind, other, sub_id, None, DELETE, {"id": sub_id}, "deleteWebhook")
        elif roll < 0.90:
            body = self.call(practice, LIST, {"all": rng.random() < 0.1})
            listed = (body.get("data") or {}).get("webhooks") or []
            self.lists.append([{**s, "practiceId": practice} for s in listed])
        else:
            body = self.call(practice, GET, {"id": sub_id})
            got = (body.get("data") or {}).get("webhook")
            if got is not None:
                self.lists.append([{**got, "practiceId": practice}])

    def mutate(
        self,
        kind: str,
        practice: str,
        sub_id: str | None,
        label: str | None,
        query: str,
        variables: dict[str, Any],
        field_name: str,
    ) -> None:
        op = Op(kind, practice, sub_id, label, time.monotonic())
        body = self.call(practice, query, variables)
        op.ended = time.monotonic()
        payload = (body.get("data") or {}).get(field_name) or {}
        op.ok = payload.get("error") is None and payload.get("data") is not None
        op.error = payload.get("error")
        op.data = payload.get("data")
        if kind == "create" and op.ok:
            op.sub_id = op.data["id"]
            self.shared.add(practice, op.sub_id)
        self.ops.append(op)


def last_successes(successes: list[Op]) -> list[Op]:
    """Successes that no other success provably followed (started after it ended)."""
    return [
        op
        for op in successes
        if not any(other.started > op.ended for other in successes if other is not op)
    ]


def test_32_clients_race_and_every_invariant_holds(
    cli_server: Callable[..., CliServer], figures: Figures
) -> None:
    server = cli_server("--log-level", "warning", name="races")
    with server.client() as control:
        second = control.post("/__mock/practices", json={"name": "Second"}).json()
        token = control.post(
            "/__mock/tokens",
            json={
                "practiceId": second["id"],
                "permissions": ["seeWebhooks", "createWebhooks", "editWebhooks", "deleteWebhooks"],
            },
        ).json()["token"]
    default = "000000000000000000000001"
    tokens = {default: "test-token", second["id"]: token}
    shared = Shared()
    barrier = threading.Barrier(CLIENTS)
    ends: list[float] = []
    clients = [
        Client(i, server.url, tokens, shared, barrier, lambda: ends[0]) for i in range(CLIENTS)
    ]
    ends.append(time.monotonic() + SECONDS + 5)  # + the time for every thread to start
    for client in clients:
        client.start()
    ends[0] = time.monotonic() + SECONDS
    began = time.monotonic()
    for client in clients:
        client.join(timeout=SECONDS + 120)
        assert not client.is_alive(), f"{client.name} did not finish"
    elapsed = time.monotonic() - began

    faults = [f for c in clients for f in c.faults]
    assert not faults, faults[:5]
    ops = [op for c in clients for op in c.ops]
    lists = [listed for c in clients for listed in c.lists]
    with server.client() as control:
        state = control.get("/__mock/state").json()
        health = control.get("/__mock/health").json()
    assert health["status"] == "ok"
    # state documents hold dotted event types (SPEC §1.5); the API (enum mode) shows names
    stored = {
        s["id"]: {**s, "eventTypes": [e.upper().replace(".", "_") for e in s["eventTypes"]]}
        for s in state["subscriptions"]
    }

    # no two live subscriptions of a practice conflict: at the end, nor in any list seen
    assert not conflicts(stored.values())
    bad_lists = [listed for listed in lists if conflicts(listed)]
    assert not bad_lists, bad_lists[:1]

    # the store holds exactly the creates the clients saw succeed
    created = {op.sub_id: op for op in ops if op.kind == "create" and op.ok}
    assert set(stored) == set(created)
    for sub_id, op in created.items():
        assert stored[sub_id]["practiceId"] == op.practice
        assert stored[sub_id]["secret"] == op.data["secret"]

    # each subscription is in the state its last successful mutation left
    by_sub: dict[str, list[Op]] = defaultdict(list)
    for op in ops:
        if op.ok and op.sub_id is not None:
            by_sub[op.sub_id].append(op)
    for sub_id, successes in by_sub.items():
        final = {k: stored[sub_id][k] for k in COMPARED}
        candidates = [{k: op.data[k] for k in COMPARED} for op in last_successes(successes)]
        assert final in candidates, (sub_id, final, candidates)
        deletes = [op for op in successes if op.kind == "delete"]
        assert len(deletes) <= 1 and final["deleted"] is bool(deletes)

    # refused mutations left no trace; foreign ids are always missing
    refused_labels = {op.label for op in ops if not op.ok and op.label is not None}
    seen_labels = {s["label"] for listed in lists for s in listed}
    assert not refused_labels & {s["label"] for s in stored.values()}
    assert not refused_labels & seen_labels
    foreign = [op for op in ops if op.kind.startswith("foreign")]
    assert all(op.error == MSG_NOT_FOUND for op in foreign)
    assert all(op.ok or op.error in (MSG_CONFLICT, MSG_NOT_FOUND) for op in ops)

    outcomes = Counter(f"{op.kind}: {'ok' if op.ok else op.error}" for op in ops)
    figures.record(
        "races",
        clients=CLIENTS,
        seconds=round(elapsed, 1),
        mutations=len(ops),
        reads=len(lists),
        operations_per_second=round((len(ops) + len(lists)) / elapsed),
        subscriptions_in_store=len(stored),
        live_subscriptions=sum(not s["deleted"] for s in stored.values()),
        outcomes=dict(sorted(outcomes.items())),
    )
    # the run really raced: conflicts, lost update races and concurrent deletes happened
    assert outcomes[f"create: {MSG_CONFLICT}"] > 0 and outcomes["create: ok"] > 0
    assert outcomes[f"update: {MSG_CONFLICT}"] > 0 and outcomes[f"delete: {MSG_NOT_FOUND}"] > 0
