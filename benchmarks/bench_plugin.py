"""Phase "plugin": what the pytest fixture costs a test suite (issue 14, budget 0.5 ms each).

- Per-test overhead: what the ``mock_semble`` fixture does before each test — find the
  session's server, reset it — after a test that left a subscription behind.
- Per call: one ``execute("{ webhooks { id } }")`` through the handle (httpx, kept-alive).

Both for the server in a thread of the test process (the default: ``.runtime`` at hand,
reset handed to the server's loop without HTTP) and in a subprocess
(``mock_semble_process = subprocess``: reset over HTTP, calls not sharing the GIL). For
comparison, the thread server reset over HTTP, as the fixture did before.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mock_semble.testing.plugin import ServerPool, reset
from mock_semble.testing.server import PYTEST_DEFAULTS, MockSembleServer

from .plan import Plan
from .results import Results, fmt, ms
from .wire import median

BUDGET_MS = 0.5
QUERY = "{ webhooks { id } }"


def _timed(action: Callable[[], object], before: Callable[[], object], runs: int) -> float:
    """Median seconds of ``action`` over ``runs``, each after an untimed ``before``."""
    samples = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return median(samples)


def _measure(pool: ServerPool, plan: Plan) -> tuple[float, float, MockSembleServer]:
    server = pool.get()
    n = [0]

    def leave_something() -> None:  # what a test leaves for the next reset
        n[0] += 1
        server.create_webhook(f"https://bench.example/plugin/{n[0]}")

    def fixture() -> None:
        reset(pool.get())

    for _ in range(20):  # warm-up: connection, compiled documents
        server.execute(QUERY)
        fixture()
    per_test = _timed(fixture, leave_something, plan.plugin_runs)
    per_call = _timed(lambda: server.execute(QUERY), lambda: None, plan.plugin_runs)
    return per_test, per_call, server


def plugin(plan: Plan, results: Results) -> None:
    section = "pytest plugin (per test / per call)"
    figures: dict[str, tuple[float, float]] = {}
    http_reset = 0.0
    for process in ("thread", "subprocess"):
        pool = ServerPool(PYTEST_DEFAULTS, process)
        try:
            per_test, per_call, server = _measure(pool, plan)
            if process == "thread":
                http_reset = _timed(server.reset, lambda: None, plan.plugin_runs)
        finally:
            pool.close()
        figures[process] = (per_test, per_call)
        results.add(section, f"{process}: per-test overhead (fixture reset)", ms(per_test), "ms")
        results.add(section, f"{process}: per call (execute)", ms(per_call), "ms")
    results.add(
        section,
        "thread: reset over HTTP (before issue 14)",
        ms(http_reset),
        "ms",
        note="POST /__mock/reset to a server sharing the test's GIL",
    )
    for process, (per_test, per_call) in figures.items():
        for what, seconds in (("per-test overhead", per_test), ("per call", per_call)):
            results.budget(
                f"plugin {what} ({process})",
                f"<= {BUDGET_MS} ms",
                fmt(ms(seconds), "ms"),
                ms(seconds) <= BUDGET_MS,
            )
