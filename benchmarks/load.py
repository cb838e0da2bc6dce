"""Throughput load: ``wrk`` (Debian's package) when present, else a bounded httpx client.

The harness installs nothing: without wrk it says how to get it (``apt-get install
wrk``) and falls back to an asyncio + httpx client with a fixed number of connections.
wrk runs in its own process on one thread, which on a 2-core machine leaves one core
to the server; the httpx fallback is far slower per request, so it measures the client
as much as the server — its ratios are still side by side, but read them as a floor.

A request is described once (:class:`Load`) and rendered either as a wrk Lua script
or as httpx calls. ``unique_url`` makes every createWebhook carry a distinct URL
(``https://bench.example/<run>/<thread>/<n>``), so no request hits the duplicate rule.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

WRK_HINT = "wrk not found: install it with `apt-get install wrk` (Debian) for wrk figures"


@dataclass(frozen=True)
class Load:
    """What every request of a throughput run sends."""

    url: str  # the server's /graphql
    token: str
    query: str
    unique_url: str | None = None  # a run tag: createWebhook with a fresh URL per request
    event_type: str = "PATIENT_CREATED"  # as the server's API version spells it

    def body(self, thread: int = 1, n: int = 0) -> bytes:
        payload: dict[str, object] = {"query": self.query}
        if self.unique_url is not None:
            payload["variables"] = {
                "input": {
                    "url": f"https://bench.example/{self.unique_url}/{thread}/{n}",
                    "eventTypes": [self.event_type],
                    "label": "bench",
                }
            }
        return json.dumps(payload, separators=(",", ":")).encode()


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int  # socket errors, timeouts and non-2xx responses
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def lua_script(load: Load) -> str:
    head = [
        'wrk.method = "POST"',
        'wrk.headers["Content-Type"] = "application/json"',
        f'wrk.headers["x-token"] = {_lua_string(load.token)}',
    ]
    if load.unique_url is None:
        return "\n".join([*head, f"wrk.body = {_lua_string(load.body().decode())}", ""])
    # One Lua state per wrk thread: setup() numbers the threads, request() counts.
    before, after = load.body(thread=7777777, n=8888888).decode().split("7777777/8888888")
    return "\n".join(
        [
            *head,
            "local made = 0",
            "function setup(thread) made = made + 1; thread:set('tid', made) end",
            "local n = 0",
            "function request()",
            "  n = n + 1",
            f"  local body = {_lua_string(before)} .. tid .. '/' .. n .. {_lua_string(after)}",
            "  return wrk.format(nil, nil, nil, body)",
            "end",
            "",
        ]
    )


def run_wrk(load: Load, *, connections: int, seconds: float, threads: int = 1) -> LoadResult:
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError(WRK_HINT)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(lua_script(load))
        out = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                load.url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> LoadResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", out)
    if total is None:
        raise RuntimeError(f"cannot read wrk output: {out!r}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[total.group(3)]
    errors = 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return LoadResult(int(total.group(1)), float(total.group(2)) * scale, errors, "wrk")


async def _httpx_load(load: Load, connections: int, seconds: float) -> LoadResult:
    import httpx

    headers = {"content-type": "application/json", "x-token": load.token}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    done = errors = 0
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
        # Warm the pool so connection set-up is not timed.
        await asyncio.gather(*(client.get(load.url) for _ in range(connections)))
        started = time.perf_counter()
        deadline = started + seconds

        async def worker(thread: int) -> None:
            nonlocal done, errors
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                try:
                    response = await client.post(
                        load.url, content=load.body(thread, n), headers=headers
                    )
                    ok = response.status_code < 300
                except httpx.HTTPError:
                    ok = False
                done += 1
                errors += not ok

        await asyncio.gather(*(worker(t + 1) for t in range(connections)))
        elapsed = time.perf_counter() - started
    return LoadResult(done, elapsed, errors, "httpx")


def run_httpx(load: Load, *, connections: int, seconds: float) -> LoadResult:
    return asyncio.run(_httpx_load(load, connections, seconds))


def run_load(load: Load, *, connections: int, seconds: float, tool: str) -> LoadResult:
    if tool == "wrk":
        return run_wrk(load, connections=connections, seconds=seconds)
    return run_httpx(load, connections=connections, seconds=seconds)
