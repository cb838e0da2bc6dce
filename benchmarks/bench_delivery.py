"""Phase 6: signed deliveries per second to a local receiver, and nothing lost.

The receiver (:mod:`benchmarks.receiver`) is its own process answering 200 at once.
Fan-out: one ``POST /__mock/events`` with ``wait: true`` to a practice of many
subscriptions; the rate is subscriptions / the call's wall time. Many events: a burst
of pipelined ``POST /__mock/events`` (no wait) to a practice of a few subscriptions;
the rate is deliveries / time until the receiver has them all. Lost = deliveries fired
minus the journal's ``status=succeeded`` count, which must also equal what the receiver
counted (and every request it got carried a signature header).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from .data import add_practice, bulk_create
from .plan import Plan
from .procs import mock_server, receiver
from .results import Results, fmt
from .wire import Conn, HttpError, build, json_request, median

WAIT_LIMIT = 120.0


def receiver_counts(conn: Conn) -> tuple[int, int]:
    counts = conn.call(build("GET", "/__count"))
    return int(counts["received"]), int(counts["signed"])


def journal_succeeded(mock: Conn, practice: str) -> int:
    answer = mock.call(build("GET", f"/__mock/deliveries?status=succeeded&practiceId={practice}"))
    return len(answer["deliveries"])


def wait_for(expected: int, probe: Callable[[], int], limit: float = WAIT_LIMIT) -> None:
    """Poll ``probe()`` until it reaches ``expected``."""
    deadline = time.perf_counter() + limit
    while probe() < expected:
        if time.perf_counter() > deadline:
            raise HttpError(f"gave up waiting after {limit:g} s")
        time.sleep(0.002)


def check_round(mock: Conn, recv: Conn, practice: str, expected: int) -> tuple[int, int]:
    """(lost, unsigned) once the journal is final; waits for late journal updates."""
    deadline = time.perf_counter() + WAIT_LIMIT
    succeeded = journal_succeeded(mock, practice)
    while succeeded < expected and time.perf_counter() < deadline:
        time.sleep(0.05)
        succeeded = journal_succeeded(mock, practice)
    received, signed = receiver_counts(recv)
    if received != succeeded:
        raise HttpError(f"receiver got {received}, journal says {succeeded} succeeded")
    return expected - succeeded, received - signed


def deliveries(plan: Plan, results: Results) -> None:
    rates: dict[str, list[float]] = {"fan-out": [], "many events": []}
    lost = unsigned = 0
    with receiver() as recv_srv, mock_server("--allow-http-localhost") as mock_srv:
        target = recv_srv.base.rstrip("/")
        with Conn(mock_srv.base) as mock, Conn(recv_srv.base) as recv:
            fan_practice, fan_token = add_practice(mock, "fan-out")
            bulk_create(mock, fan_token, [f"{target}/fan/{i}" for i in range(plan.fanout)])
            ev_practice, ev_token = add_practice(mock, "events")
            bulk_create(mock, ev_token, [f"{target}/ev/{i}" for i in range(plan.event_subs)])
            fire_one = json_request(
                "POST",
                "/__mock/events",
                {"eventType": "PATIENT_CREATED", "practiceId": fan_practice, "wait": True},
            )
            fire_many = [
                json_request(
                    "POST",
                    "/__mock/events",
                    {"eventType": "PATIENT_CREATED", "practiceId": ev_practice},
                )
            ] * plan.events
            clear = build("DELETE", "/__mock/deliveries")
            zero = build("POST", "/__zero")
            for r in range(plan.delivery_rounds + 1):  # round 0 warms up the client pool
                # one event fanned out to every subscription of a practice
                mock.call(clear)
                recv.call(zero)
                seconds, status, body = mock.timed(fire_one)
                if status != 200:
                    raise HttpError(f"fire: HTTP {status}: {body[:200]!r}")
                answered = json.loads(body)["deliveries"]
                if len(answered) != plan.fanout:
                    raise HttpError(f"fan-out made {len(answered)} deliveries, not {plan.fanout}")
                lost_now, unsigned_now = check_round(mock, recv, fan_practice, plan.fanout)
                if r:
                    rates["fan-out"].append(plan.fanout / seconds)
                    lost, unsigned = lost + lost_now, unsigned + unsigned_now
                # many events, each to a few subscriptions
                total = plan.events * plan.event_subs
                mock.call(clear)
                recv.call(zero)
                started = time.perf_counter()
                for status, body in mock.pipeline(fire_many):
                    if status != 200:
                        raise HttpError(f"fire: HTTP {status}: {body[:200]!r}")
                wait_for(total, lambda: receiver_counts(recv)[0])
                seconds = time.perf_counter() - started
                lost_now, unsigned_now = check_round(mock, recv, ev_practice, total)
                if r:
                    rates["many events"].append(total / seconds)
                    lost, unsigned = lost + lost_now, unsigned + unsigned_now
    fan, many = median(rates["fan-out"]), median(rates["many events"])
    results.add(
        "deliveries",
        f"fan-out: 1 event → {plan.fanout:,} subs",
        fan,
        "deliveries/s",
        None,
        f"median of {plan.delivery_rounds}",
    )
    results.add(
        "deliveries",
        f"many events: {plan.events} events x {plan.event_subs} subs",
        many,
        "deliveries/s",
        None,
        f"median of {plan.delivery_rounds}",
    )
    results.add(
        "deliveries",
        "lost (journal succeeded vs fired, all rounds)",
        lost,
        "",
        None,
        f"unsigned at receiver: {unsigned}",
    )
    worst = min(fan, many)
    results.budget(
        "≥ 1,000 deliveries/s, lost = 0",
        "1,000/s",
        f"{fmt(worst)}/s (worse case), lost {lost}",
        worst >= 1000 and lost == 0 and unsigned == 0,
    )
