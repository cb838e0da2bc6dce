"""API versions (issue 12): throughput of ``--event-types strings`` against ``enum``.

Two mocks, one per version, measured interleaved with the same load: ``createWebhook``
(event types in the input and the answer) and ``webhooks`` over subscriptions of three
event types each. The budget: the strings mode within 10 % of the enum mode.
"""

from __future__ import annotations

import uuid

from .data import CREATE, LIST, add_practice, create_request, created_id
from .load import Load, LoadResult, run_load
from .plan import Plan
from .procs import ServerProcess, mock_server
from .results import Results, fmt
from .wire import Conn, HttpError, build, median

MODES = ("enum", "strings")
SPELLING = {
    "enum": ("PATIENT_CREATED", "PATIENT_UPDATED", "PATIENT_DELETED"),
    "strings": ("patient.created", "patient.updated", "patient.deleted"),
}
OPS = ("createWebhook", "webhooks")


def _fill_list(conn: Conn, mode: str, size: int) -> None:
    """``size`` subscriptions of the default practice, each with all three event types."""
    urls = [f"https://bench.example/versions/{i}" for i in range(size)]
    answers = conn.pipeline([create_request("test-token", u, SPELLING[mode]) for u in urls])
    for status, body in answers:
        if status != 200:
            raise HttpError(f"createWebhook HTTP {status}: {body[:200]!r}")
        created_id(body)


def api_versions(plan: Plan, results: Results) -> None:
    with mock_server() as enum_srv, mock_server("--event-types", "strings") as strings_srv:
        servers: dict[str, ServerProcess] = {"enum": enum_srv, "strings": strings_srv}
        conns = {mode: Conn(server.base) for mode, server in servers.items()}
        tokens: dict[str, tuple[str, str]] = {}
        for mode, conn in conns.items():
            _fill_list(conn, mode, plan.list_size)
            tokens[mode] = add_practice(conn, "versions")
        figures: dict[str, dict[str, list[LoadResult]]] = {
            op: {mode: [] for mode in MODES} for op in OPS
        }
        for r in range(plan.tp_rounds):
            for op in OPS:
                for mode in MODES if r % 2 == 0 else MODES[::-1]:
                    practice, token = tokens[mode]
                    load = Load(
                        servers[mode].url,
                        "test-token" if op == "webhooks" else token,
                        LIST if op == "webhooks" else CREATE,
                        uuid.uuid4().hex[:8] if op == "createWebhook" else None,
                        SPELLING[mode][0],
                    )
                    outcome = run_load(
                        load, connections=plan.connections, seconds=plan.tp_seconds, tool=plan.tool
                    )
                    if outcome.errors:
                        raise HttpError(f"{mode} {op}: {outcome.errors} errors under load")
                    figures[op][mode].append(outcome)
                    conns[mode].call(build("POST", f"/__mock/reset?practiceId={practice}"))
        for conn in conns.values():
            conn.close()
    worst = float("inf")
    for op, by_mode in figures.items():
        enum_rps = median(x.rps for x in by_mode["enum"])
        strings_rps = median(x.rps for x in by_mode["strings"])
        ratio = strings_rps / enum_rps if enum_rps else 0.0
        worst = min(worst, ratio)
        note = f"enum {fmt(enum_rps, 'req/s')}; strings/enum {fmt(ratio, 'x')}"
        results.add(
            "event-types modes", f"{op} requests/s, strings mode", strings_rps, "req/s", None, note
        )
    results.notes.append(
        "Event-types modes: a mock per --event-types value, measured interleaved with the same"
        f" load ({plan.connections} connections, {plan.tool}); webhooks lists"
        f" {plan.list_size} subscriptions of three event types."
    )
    results.budget("throughput strings ≥ 0.9x enum", "0.9x", fmt(worst, "x"), worst >= 0.9)
