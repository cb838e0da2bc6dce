"""The benchmark reports what the pytest fixture costs (issue 14): per-test overhead and
per call, for the server in a thread and in a subprocess, each against its budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_plugin_phase_reports_both_figures_for_both_modes(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    argv = [sys.executable, "-m", "benchmarks", "--smoke", "--phases", "plugin", "--out", str(out)]
    run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    report = out.read_text(encoding="utf-8")
    assert "## Pytest plugin (per test / per call)" in report
    for mode in ("thread", "subprocess"):
        assert f"| {mode}: per-test overhead (fixture reset) |" in report
        assert f"| {mode}: per call (execute) |" in report
        assert f"| plugin per-test overhead ({mode}) | <= 0.5 ms |" in report
        assert f"| plugin per call ({mode}) | <= 0.5 ms |" in report
    assert "| thread: reset over HTTP (before issue 14) |" in report
