"""Entry point: ``python -m benchmarks [--smoke] [--out PATH] [--phases a,b] [--load-generator]``.

Runs the phases, prints the table and writes the report (``docs/benchmarks.md`` unless
``--out``). ``--smoke`` is a tiny version that finishes in seconds (CI runs it so the
harness cannot rot); the full run takes about ten minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from . import bench_api, bench_delivery, bench_patients, bench_plugin, bench_store, bench_versions
from .load import WRK_HINT, wrk_path
from .plan import Plan
from .procs import MOCK_SOURCE, ROOT, bare_server, mock_server
from .report import command_line, console_table, markdown, write_report
from .results import Results

DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def progress(name: str) -> None:
    print(f"benchmarks: {name} ...", file=sys.stderr, flush=True)


def _api(plan: Plan, results: Results, phases: set[str]) -> None:
    """Start-up, then latency and throughput on one mock and one bare server."""
    if "startup" in phases:
        progress("startup")
        bench_api.startup(plan, results)
    if phases & {"latency", "throughput"}:
        with mock_server() as mock_srv, bare_server() as bare_srv:
            if "latency" in phases:
                progress("latency")
                bench_api.sequential(plan, results, mock_srv, bare_srv)
            if "throughput" in phases:
                progress("throughput")
                bench_api.throughput(plan, results, mock_srv, bare_srv)


PHASES: dict[str, Callable[[Plan, Results], None]] = {
    "scaling": bench_store.scaling,
    "reset": bench_store.reset_and_state,
    "deliveries": bench_delivery.deliveries,
    "versions": bench_versions.api_versions,
    "plugin": bench_plugin.plugin,
    "patients": bench_patients.patients,
}
ALL_PHASES = (
    "startup",
    "latency",
    "throughput",
    "scaling",
    "reset",
    "deliveries",
    "versions",
    "plugin",
    "patients",
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a tiny run, in seconds")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report path")
    parser.add_argument(
        "--phases",
        default=",".join(ALL_PHASES),
        help=f"comma-separated subset of: {', '.join(ALL_PHASES)}",
    )
    parser.add_argument(
        "--load-generator",
        choices=("auto", "wrk", "httpx"),
        default="auto",
        help="auto: wrk when installed, else httpx",
    )
    parser.add_argument(
        "--mock-src",
        type=Path,
        default=None,
        help="run the mock from this directory's mock_semble/ (to measure a patched copy)",
    )
    args = parser.parse_args(argv)
    if args.mock_src is not None and not (args.mock_src / "mock_semble").is_dir():
        parser.error(f"--mock-src: no mock_semble/ in {args.mock_src}")
    unknown = set(args.phases.split(",")) - set(ALL_PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    tool = args.load_generator
    if tool == "auto":
        tool = "wrk" if wrk_path() else "httpx"
    if tool == "wrk" and wrk_path() is None:
        print(f"benchmarks: {WRK_HINT}", file=sys.stderr)
        return 2
    if tool == "httpx":
        print(f"benchmarks: {WRK_HINT}; using the httpx client", file=sys.stderr)
    if args.mock_src is not None:
        MOCK_SOURCE["dir"] = args.mock_src.resolve()
    plan = Plan.smoke_plan(tool) if args.smoke else Plan.full(tool)
    phases = set(args.phases.split(","))
    results = Results()
    load_before = loadavg()
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    _api(plan, results, phases)
    for name, phase in PHASES.items():
        if name in phases:
            progress(name)
            phase(plan, results)
    results.notes.append(
        f"{'Smoke' if plan.smoke else 'Full'} run, load generator: {plan.tool}. The machine has"
        " few cores: the client (harness or wrk, one thread) and the server run as separate"
        " processes, so each has a core; the receiver of the delivery phase shares them."
    )
    results.notes.append(
        f"Load average (1/5/15 min) at start {load_before}, at end {loadavg()}: anything else"
        " running on the machine competes with the measurement; mock and bare are interleaved"
        " so it hits both, but absolute figures move with it."
    )
    if args.mock_src is not None:
        results.notes.append(f"The mock ran from {MOCK_SOURCE['dir']} (--mock-src), not this tree.")
    if plan.smoke:
        results.unjudged("smoke run, too small to judge")
    elapsed = time.perf_counter() - clock
    print(console_table(results), flush=True)
    write_report(args.out, markdown(results, command_line(), started, elapsed))
    print(f"\nreport written to {args.out}")
    return 0
