"""The console table and ``docs/benchmarks.md``.

The harness rewrites everything above :data:`HAND_WRITTEN`; what follows that marker
in an existing report (analysis, profiles, before/after of optimisations) is kept.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from .results import Budget, Results, Row, fmt

HAND_WRITTEN = "<!-- hand-written below this line: the harness keeps it -->"
PACKAGES = ("mock-semble", "starlette", "uvicorn", "strawberry-graphql", "graphql-core", "h11")
OPTIONAL = ("httptools", "uvloop")


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for name in PACKAGES + OPTIONAL:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            if name in OPTIONAL:
                versions.append(f"{name} absent")
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(versions),
        "load generator": load_generator(),
    }


def load_generator() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        return "httpx (wrk not installed: `apt-get install wrk`)"
    out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk"


def _cells(row: Row) -> list[str]:
    unit = row.unit
    return [row.name, fmt(row.mock, unit), fmt(row.bare, unit), fmt(row.ratio, "x"), row.note]


def _status(budget: Budget) -> str:
    if budget.met is None:
        return "not measured"
    return "met" if budget.met else "MISSED"


def _sections(rows: Sequence[Row]) -> dict[str, list[Row]]:
    sections: dict[str, list[Row]] = {}
    for row in rows:
        sections.setdefault(row.section, []).append(row)
    return sections


def console_table(results: Results) -> str:
    header = ["figure", "mock", "bare", "mock/bare", "note"]
    lines: list[str] = []
    for section, rows in _sections(results.rows).items():
        table = [header, *(_cells(r) for r in rows)]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        lines.append(f"\n== {section}")
        for cells in table:
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    lines.append("\n== budgets")
    for b in results.budgets:
        detail = f" — {b.why}" if b.why else ""
        lines.append(f"  {_status(b):12} {b.name}: {b.measured} (limit {b.limit}){detail}")
    return "\n".join(lines)


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def markdown(results: Results, command: str, started: dt.datetime, seconds: float) -> str:
    lines = [
        "# mock-semble benchmarks",
        "",
        "Written by the benchmark harness (`benchmarks/`, issue 6). Ratios are mock / bare,",
        "where *bare* is a bare Starlette app returning the same JSON body, served by the same",
        "uvicorn with the same settings, measured interleaved in the same run. Figures are",
        "medians of several runs. Timing is never asserted in tests: this report is the check.",
        "",
        f"- **command**: `{command}`",
        f"- **date**: {started.strftime('%Y-%m-%d %H:%M UTC')} (run took {seconds:.0f} s)",
    ]
    lines += [f"- **{k}**: {v}" for k, v in machine().items()]
    lines += ["", "## Budgets", "", _md_row(["budget", "limit", "measured", "status", "detail"])]
    lines.append(_md_row(["---"] * 5))
    for b in results.budgets:
        status = f"**{_status(b)}**" if b.met is False else _status(b)
        lines.append(_md_row([b.name, b.limit, b.measured, status, b.why]))
    for section, rows in _sections(results.rows).items():
        lines += ["", f"## {section.capitalize()}", ""]
        lines.append(_md_row(["figure", "mock", "bare", "mock/bare", "note"]))
        lines.append(_md_row(["---"] * 5))
        lines += [_md_row(_cells(r)) for r in rows]
    if results.notes:
        lines += ["", "## How it was measured", ""]
        lines += [f"- {note}" for note in results.notes]
    return "\n".join(lines) + "\n"


DEFAULT_HAND_WRITTEN = """
## Analysis (hand-written)

Nothing written yet: profiles and before/after figures of optimisations go here.
"""


def write_report(path: Path, generated: str) -> None:
    kept = DEFAULT_HAND_WRITTEN
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if HAND_WRITTEN in old:
            kept = old.split(HAND_WRITTEN, 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{generated}\n{HAND_WRITTEN}\n{kept.lstrip(chr(10))}", encoding="utf-8")


def command_line() -> str:
    argv = " ".join(sys.argv[1:])
    return f"python -m benchmarks {argv}".strip()
