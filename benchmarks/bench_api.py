"""Phases 1-3 and idle memory: start-up, sequential latency, throughput — mock vs bare.

Mock and bare are measured interleaved in one run: start-ups alternate, and for
latency and throughput both servers stay up while each takes its turn (the idle one
costs nothing), so drift on the machine hits both alike. Before each bare block the bare
app is given the mock's own response to that operation as its canned body.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from .data import (
    CREATE,
    LIST,
    add_practice,
    bulk_create,
    create_request,
    created_id,
    delete_request,
    get_request,
    list_request,
    update_request,
)
from .load import Load, LoadResult, run_load
from .plan import Plan
from .procs import ServerProcess, bare_server, mock_server
from .results import Results, fmt, ms
from .wire import Conn, HttpError, build, graphql_request, median, percentile

FIRST_QUERY = graphql_request("{webhooks{id}}")
OPS = ("createWebhook", "webhooks", "webhook(id)", "updateWebhook", "deleteWebhook")


def first_query_time(server: ServerProcess) -> float:
    """Seconds from spawning the process to the first successful ``webhooks`` answer."""
    server.start()
    with Conn(server.url) as conn:
        status, body = conn.send(FIRST_QUERY)
    elapsed = time.perf_counter() - server.started_at
    if status != 200 or b'"webhooks"' not in body:
        raise HttpError(f"{server.name}: first query answered {status}: {body[:200]!r}")
    return elapsed


def startup(plan: Plan, results: Results) -> None:
    times: dict[str, list[float]] = {"mock": [], "bare": []}
    rss: dict[str, list[float]] = {"mock": [], "bare": []}
    for kind in ("mock", "bare"):  # warm-up, untimed: bytecode written, files cached
        with mock_server() if kind == "mock" else bare_server() as server:
            server.stop()
    for run in range(plan.startup_runs):
        order = ("mock", "bare") if run % 2 == 0 else ("bare", "mock")
        for kind in order:
            server = mock_server() if kind == "mock" else bare_server()
            try:
                times[kind].append(first_query_time(server))
                time.sleep(0.05)
                rss[kind].append(server.rss_mb())
            finally:
                server.stop()
    mock, bare = median(times["mock"]), median(times["bare"])
    row = results.add(
        "start-up",
        "process start → first webhooks answer",
        ms(mock),
        "ms",
        ms(bare),
        f"median of {plan.startup_runs}, interleaved",
    )
    ratio = row.ratio or 0.0
    results.budget(
        "start-up ≤ 1.5x bare", "1.5x", fmt(ratio, "x"), ratio <= 1.5, f"{ms(mock):.0f} ms"
    )
    idle, idle_bare = median(rss["mock"]), median(rss["bare"])
    results.add("memory", "idle RSS after first query", idle, "MiB", idle_bare)
    results.budget("idle RSS ≤ 70 MB", "70 MB", fmt(idle * 1.048576, "MB"), idle * 1.048576 <= 70)


def set_bare_body(bare: Conn, body: bytes) -> None:
    bare.call(build("PUT", "/__bare/body", body, [("Content-Type", "application/json")]))


def timed_block(conn: Conn, requests: list[bytes], check: Callable[[bytes], object]) -> list[float]:
    latencies: list[float] = []
    for request in requests:
        seconds, status, body = conn.timed(request)
        if status != 200:
            raise HttpError(f"HTTP {status}: {body[:200]!r}")
        check(body)
        latencies.append(seconds)
    return latencies


def no_errors(body: bytes) -> None:
    if b'"errors"' in body or b'"error":"' in body:
        raise HttpError(f"refused: {body[:300]!r}")


def sequential_round(
    plan: Plan, mock: Conn, bare: Conn, token: str, samples: dict[str, bytes], flip: bool
) -> dict[str, tuple[list[float], list[float]]]:
    """One round: every operation as a mock block and a bare block, order alternating.
    The bare block sends the very same requests and answers the mock's sample body."""
    n = plan.seq_requests
    tag = uuid.uuid4().hex[:8]
    ids: list[str] = []

    def record_ids(body: bytes) -> None:
        ids.append(created_id(body))

    steps: list[tuple[str, Callable[[], list[bytes]], Callable[[bytes], object]]] = [
        (
            "createWebhook",
            lambda: [
                create_request(token, f"https://bench.example/seq/{tag}/{i}") for i in range(n)
            ],
            record_ids,
        ),
        ("webhooks", lambda: [list_request("test-token")] * n, no_errors),
        ("webhook(id)", lambda: [get_request(token, i) for i in ids], no_errors),
        ("updateWebhook", lambda: [update_request(token, i, f"L{tag}") for i in ids], no_errors),
        ("deleteWebhook", lambda: [delete_request(token, i) for i in ids], no_errors),
    ]
    out: dict[str, tuple[list[float], list[float]]] = {}
    for op, make, check in steps:
        requests = make()
        blocks: dict[str, list[float]] = {}
        for side in ("bare", "mock") if flip else ("mock", "bare"):
            if side == "mock":
                blocks[side] = timed_block(mock, requests, check)
            else:
                set_bare_body(bare, samples[op])
                blocks[side] = timed_block(bare, requests, no_check)
        out[op] = (blocks["mock"], blocks["bare"])
    return out


def no_check(body: bytes) -> None:
    return None


def mock_samples(mock: Conn, token: str) -> dict[str, bytes]:
    """The mock's response body to each operation (on a throw-away subscription)."""
    tag = uuid.uuid4().hex[:8]
    created = mock.send(create_request(token, f"https://bench.example/sample/{tag}"))[1]
    sub_id = created_id(created)
    return {
        "createWebhook": created,
        "webhooks": mock.send(list_request("test-token"))[1],
        "webhook(id)": mock.send(get_request(token, sub_id))[1],
        "updateWebhook": mock.send(update_request(token, sub_id, f"L{tag}"))[1],
        "deleteWebhook": mock.send(delete_request(token, sub_id))[1],
    }


def sequential(
    plan: Plan, results: Results, mock_srv: ServerProcess, bare_srv: ServerProcess
) -> None:
    with Conn(mock_srv.base) as mock, Conn(bare_srv.base) as bare:
        practice, token = add_practice(mock, "sequential")
        bulk_create(
            mock, "test-token", [f"https://bench.example/list/{i}" for i in range(plan.list_size)]
        )
        samples = mock_samples(mock, token)
        rounds = []
        for r in range(plan.seq_rounds + 1):  # round 0 is a warm-up, not counted
            outcome = sequential_round(plan, mock, bare, token, samples, r % 2 == 1)
            mock.call(build("POST", f"/__mock/reset?practiceId={practice}"))
            if r:
                rounds.append(outcome)
    worst = 0.0
    for op in OPS:
        p50 = [ms(percentile(r[op][0], 0.5)) for r in rounds]
        p99 = [ms(percentile(r[op][0], 0.99)) for r in rounds]
        b50 = [ms(percentile(r[op][1], 0.5)) for r in rounds]
        b99 = [ms(percentile(r[op][1], 0.99)) for r in rounds]
        note = f"{plan.list_size} subscriptions" if op == "webhooks" else ""
        results.add("sequential latency", f"{op} p50", median(p50), "ms", median(b50), note)
        results.add("sequential latency", f"{op} p99", median(p99), "ms", median(b99))
        worst = max(worst, median(p50))
    results.notes.append(
        "Sequential latency: one keep-alive connection from a raw-socket client,"
        f" {plan.seq_requests} requests per operation per round, {plan.seq_rounds} rounds"
        " (after a warm-up round);"
        " figures are medians of the per-round p50/p99."
    )
    results.budget(
        "sequential p50 ≤ 1 ms per op", "1 ms", fmt(worst, "ms") + " (worst op)", worst <= 1.0
    )


def throughput(
    plan: Plan, results: Results, mock_srv: ServerProcess, bare_srv: ServerProcess
) -> None:
    with Conn(mock_srv.base) as mock, Conn(bare_srv.base) as bare:
        practice, token = add_practice(mock, "throughput")
        list_body = mock.send(list_request("test-token"))[1]
        create_body = mock.send(create_request(token, "https://bench.example/tp/sample"))[1]
        figures: dict[str, dict[str, list[LoadResult]]] = {
            op: {"mock": [], "bare": []} for op in ("webhooks", "createWebhook")
        }
        for r in range(plan.tp_rounds):
            for op in ("webhooks", "createWebhook"):
                for side in ("bare", "mock") if r % 2 else ("mock", "bare"):
                    server = mock_srv if side == "mock" else bare_srv
                    tag = uuid.uuid4().hex[:8] if op == "createWebhook" else None
                    load = Load(
                        server.url,
                        "test-token" if op == "webhooks" else token,
                        LIST if op == "webhooks" else CREATE,
                        tag,
                    )
                    if side == "bare":
                        set_bare_body(bare, list_body if op == "webhooks" else create_body)
                    outcome = run_load(
                        load, connections=plan.connections, seconds=plan.tp_seconds, tool=plan.tool
                    )
                    if side == "mock" and op == "createWebhook":
                        check_created(mock, token, practice, outcome)
                    figures[op][side].append(outcome)
    for op, sides in figures.items():
        m = median(x.rps for x in sides["mock"])
        b = median(x.rps for x in sides["bare"])
        errors = sum(x.errors for x in sides["mock"])
        note = f"{plan.connections} connections, {plan.tool}" + (
            f", {errors} errors" if errors else ""
        )
        row = results.add("throughput", f"{op} requests/s", m, "req/s", b, note)
        ratio = row.ratio or 0.0
        results.budget(
            f"throughput {op} ≥ 0.5x bare", "0.5x", fmt(ratio, "x"), ratio >= 0.5 and not errors
        )


def check_created(mock: Conn, token: str, practice: str, outcome: LoadResult) -> None:
    """Every completed createWebhook created a subscription (no conflict), then reset."""
    status, body = mock.send(graphql_request("{webhooks{id}}", token=token))
    created = body.count(b'"id"')
    if status != 200 or created < outcome.requests:
        raise HttpError(f"createWebhook load: {outcome.requests} answered, {created} created")
    mock.call(build("POST", f"/__mock/reset?practiceId={practice}"))
