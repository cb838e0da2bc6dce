"""The benchmark harness still runs: ``python -m benchmarks --smoke`` end to end.

No assertion on any timing (SPEC §8): only that every phase runs against real
processes and a report is written, with its sections and its budget table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("load_generator", ["auto", "httpx"])
def test_smoke_run_writes_a_report(tmp_path: Path, load_generator: str) -> None:
    out = tmp_path / "benchmarks.md"
    phases = None if load_generator == "auto" else "throughput"
    argv = [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out)]
    argv += ["--load-generator", load_generator]
    if phases:
        argv += ["--phases", phases]
    run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    report = out.read_text(encoding="utf-8")
    assert "## Budgets" in report
    assert "## Throughput" in report
    assert "hand-written below this line" in report
    if phases is None:
        for section in ("Start-up", "Sequential latency", "Scaling (p50)", "Reset & state"):
            assert f"## {section}" in report
        assert "## Deliveries" in report
        assert "== budgets" in run.stdout


def test_the_hand_written_part_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))  # benchmarks/ is not an installed package
    from benchmarks.report import HAND_WRITTEN, write_report

    out = tmp_path / "report.md"
    out.write_text(f"# old figures\n{HAND_WRITTEN}\n## Analysis\nkeep me\n", encoding="utf-8")
    write_report(out, "# new figures\n")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# new figures")
    assert "old figures" not in text
    assert text.endswith("## Analysis\nkeep me\n")
