"""Phases 4, 5 and memory growth: scaling with the store's size, reset, export/import.

Scaling: one mock server per level (10^2 ... 10^5 subscriptions over 100 practices),
each started with ``--state-file`` (a 10^5 document is ~30 MB, beyond PUT's 16 MiB
body limit). All are up together and measured round-robin, so the levels share the
machine's drift. Per sample: a random practice's token creates a subscription, gets,
updates and deletes it, and lists the practice (list cost vs practice size).

Reset: ``POST /__mock/reset`` with 10^4 subscriptions in the store. Server-side cost is
the request's wall time minus an empty request's (``GET /__mock/health``) on the same
connection. The first 10^4 are created through the API (also giving RSS per 10^4
subscriptions); the later runs reload them with ``PUT /__mock/state``, which times
import, and ``GET /__mock/state`` times export.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
import uuid
from pathlib import Path

from .data import (
    add_practice,
    bulk_create,
    create_request,
    created_id,
    delete_request,
    get_request,
    list_request,
    practice_token,
    state_document,
    update_request,
)
from .plan import Plan
from .procs import ServerProcess, mock_server
from .results import Results, fmt, ms
from .wire import Conn, HttpError, build, median, percentile

SCALE_OPS = ("create", "get", "update", "delete", "list")


def _timed_ok(conn: Conn, request: bytes) -> tuple[float, bytes]:
    seconds, status, body = conn.timed(request)
    if status != 200 or b'"errors"' in body or b'"error":"' in body:
        raise HttpError(f"HTTP {status}: {body[:300]!r}")
    return seconds, body


def scale_round(
    plan: Plan, conn: Conn, rng: random.Random, samples: dict[str, list[float]]
) -> None:
    tag = uuid.uuid4().hex[:8]
    for n in range(plan.scale_ops):
        token = practice_token(rng.randrange(plan.scale_practices))
        url = f"https://bench.example/scale/{tag}/{n}"
        seconds, body = _timed_ok(conn, create_request(token, url))
        samples["create"].append(seconds)
        sub_id = created_id(body)
        samples["get"].append(_timed_ok(conn, get_request(token, sub_id))[0])
        samples["update"].append(_timed_ok(conn, update_request(token, sub_id, tag))[0])
        samples["delete"].append(_timed_ok(conn, delete_request(token, sub_id))[0])
    # Lists in a block of their own: a 1,000-item answer leaves the server freeing its
    # objects after the response is sent, which would land on the next request's clock.
    for _ in range(plan.scale_ops):
        token = practice_token(rng.randrange(plan.scale_practices))
        samples["list"].append(_timed_ok(conn, list_request(token))[0])


def scaling(plan: Plan, results: Results) -> None:
    levels = plan.scale_levels
    servers: dict[int, ServerProcess] = {}
    rss: dict[int, float] = {}
    load_seconds: dict[int, float] = {}
    samples: dict[int, list[dict[str, list[float]]]] = {level: [] for level in levels}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for level in levels:
                path = Path(tmp) / f"state-{level}.json"
                path.write_text(json.dumps(state_document(level, plan.scale_practices)))
                server = mock_server("--state-file", str(path))
                servers[level] = server.start()
                load_seconds[level] = server.ready_at - server.started_at
            conns = {level: Conn(servers[level].base) for level in levels}
            rng = random.Random(6)
            for level in levels:  # warm-up, not counted
                scale_round(plan, conns[level], rng, {op: [] for op in SCALE_OPS})
                rss[level] = servers[level].rss_mb()
            for r in range(plan.scale_rounds):
                order = levels if r % 2 == 0 else tuple(reversed(levels))
                for level in order:
                    round_samples: dict[str, list[float]] = {op: [] for op in SCALE_OPS}
                    scale_round(plan, conns[level], rng, round_samples)
                    samples[level].append(round_samples)
            for conn in conns.values():
                conn.close()
        finally:
            for server in servers.values():
                server.stop()
    p50 = {
        (level, op): median(ms(percentile(s[op], 0.5)) for s in samples[level])
        for level in levels
        for op in SCALE_OPS
    }
    low, high = levels[0], levels[-1]
    worst = 0.0
    for op in SCALE_OPS[:4]:
        for level in levels:
            note = f"{level / low:g}x store" if level != low else "baseline"
            results.add("scaling (p50)", f"{op} @ {level:,} subs", p50[level, op], "ms", None, note)
        ratio = p50[high, op] / p50[low, op]
        worst = max(worst, ratio)
        results.add("scaling (p50)", f"{op} {high:,} / {low:,}", ratio, "x")
    results.budget(
        f"per-op latency at {high:,} within 1.2x of {low:,}",
        "1.2x",
        fmt(worst, "x") + " (worst op)",
        worst <= 1.2 if high >= 100_000 else None,
        "" if high >= 100_000 else "smoke: 10^5 not measured",
    )
    for level in levels:
        size = level // plan.scale_practices
        results.add("list cost", f"webhooks, practice of {size:,}", p50[level, "list"], "ms")
    if len(levels) > 1:
        small = levels[0] // plan.scale_practices
        big = levels[-1] // plan.scale_practices
        per_item = (p50[high, "list"] - p50[low, "list"]) / max(1, big - small) * 1000
        results.add("list cost", "per listed subscription", per_item, "µs")
    for level in levels:
        results.add(
            "start-up", f"--state-file with {level:,} subs → ready", ms(load_seconds[level]), "ms"
        )
    if len(levels) > 1:
        growth = (rss[high] - rss[low]) / ((high - low) / 10_000)
        results.add("memory", "RSS per 10^4 subs (state-file load)", growth, "MiB")


def _median_wall(conn: Conn, request: bytes, runs: int) -> float:
    walls = []
    for _ in range(runs):
        seconds, status, body = conn.timed(request)
        if status != 200:
            raise HttpError(f"HTTP {status}: {body[:200]!r}")
        walls.append(seconds)
    return median(walls)


def reset_and_state(plan: Plan, results: Results) -> None:
    n = plan.reset_subs
    practices = min(100, max(1, n // 100))
    health = build("GET", "/__mock/health")
    reset = build("POST", "/__mock/reset")
    export = build("GET", "/__mock/state")
    walls: dict[str, list[float]] = {
        "reset": [],
        "export": [],
        "import": [],
        "baseline": [],
        "after": [],
    }
    with mock_server() as server, Conn(server.base) as conn:
        conn.call(list_request("test-token"))
        time.sleep(0.1)
        idle = server.rss_mb()
        for p in range(practices):  # the first n through the API
            _, token = add_practice(conn, f"reset {p}")
            urls = [f"https://bench.example/r{p}/{i}" for i in range(p, n, practices)]
            bulk_create(conn, token, urls)
        time.sleep(0.1)
        grown = server.rss_mb()
        document = b""
        empty_reset = 0.0
        for run in range(plan.reset_runs):
            if run:  # later runs: reload the same store with PUT /__mock/state
                request = build(
                    "PUT", "/__mock/state", document, [("Content-Type", "application/json")]
                )
                seconds, status, body = conn.timed(request)
                if status != 200 or json.loads(body)["loaded"]["subscriptions"] != n:
                    raise HttpError(f"PUT /__mock/state: {status} {body[:200]!r}")
                walls["import"].append(seconds)
            seconds, status, document = conn.timed(export)
            if status != 200:
                raise HttpError(f"GET /__mock/state: {status}")
            walls["export"].append(seconds)
            walls["baseline"].append(_median_wall(conn, health, 21))
            seconds, status, body = conn.timed(reset)
            if status != 200:
                raise HttpError(f"reset: {status} {body[:200]!r}")
            walls["reset"].append(seconds)
            # Work the reset leaves for later (if any) lands on the next request.
            walls["after"].append(conn.timed(health)[0])
            empty_reset = _median_wall(conn, reset, 5)
    baseline = median(walls["baseline"])
    reset_wall = median(walls["reset"])
    server_side = ms(max(0.0, reset_wall - baseline))
    runs = plan.reset_runs
    results.add(
        "reset & state",
        f"reset with {n:,} subs (wall)",
        ms(reset_wall),
        "ms",
        None,
        f"median of {runs}",
    )
    results.add("reset & state", "empty request (GET /__mock/health)", ms(baseline), "ms")
    results.add(
        "reset & state",
        f"reset with {n:,} subs, server-side",
        server_side,
        "ms",
        None,
        "wall - empty request",
    )
    results.add(
        "reset & state",
        "first request after that reset (wall)",
        ms(median(walls["after"])),
        "ms",
        None,
        "a GET /__mock/health",
    )
    results.add("reset & state", "reset of an empty store (wall)", ms(empty_reset), "ms")
    results.add(
        "reset & state",
        f"export GET /__mock/state, {n:,} subs",
        ms(median(walls["export"])),
        "ms",
        None,
        f"{len(document) / 1e6:.1f} MB",
    )
    if walls["import"]:
        results.add(
            "reset & state",
            f"import PUT /__mock/state, {n:,} subs",
            ms(median(walls["import"])),
            "ms",
        )
    full = n >= 10_000
    results.budget(
        "reset at 10^4 ≤ 2 ms",
        "2 ms",
        fmt(server_side, "ms") + ("" if full else f" (at {n:,})"),
        server_side <= 2.0 if full else None,
        "server-side: wall - empty request" if full else "smoke: 10^4 not measured",
    )
    per_10k = (grown - idle) * 10_000 / n
    results.add(
        "memory",
        "RSS per 10^4 subs (created via API)",
        per_10k,
        "MiB",
        None,
        f"{idle:.1f} → {grown:.1f} MiB with {n:,}",
    )
