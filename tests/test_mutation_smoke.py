"""The mutation-testing smoke subset (scripts/mutation.py --smoke, under 2 minutes): the
label and event-type rules and ``sign`` must keep at least 90 % of their mutants killed.

Opt-in (``MOCK_SEMBLE_MUTATION_SMOKE=1``), as it reruns tests hundreds of times; CI sets
it. The full report is ``python scripts/mutation.py`` (docs/mutation.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    os.environ.get("MOCK_SEMBLE_MUTATION_SMOKE") != "1", reason="MOCK_SEMBLE_MUTATION_SMOKE=1"
)
def test_mutation_smoke_subset_kills_at_least_90_percent() -> None:
    pytest.importorskip("mutmut")
    run = subprocess.run(
        [sys.executable, "scripts/mutation.py", "--smoke", "--show-survivors"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "| **all** |" in run.stdout
