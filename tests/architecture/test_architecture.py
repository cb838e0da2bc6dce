"""The architecture's rules, checked on every run (README, "Architecture").

- import-linter's contracts (pyproject.toml): layers core <- domains <- api/delivery/
  control <- wiring <- testing, independent domains, an api that names no domain. Its
  import graph includes imports inside functions, so no lazy import can hide a cycle.
- mypy --strict over mock_semble/.
- Imports of mock_semble modules inside functions exist only where start-up cost is the
  reason (listed below with it), never to dodge a cycle.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mock_semble"
# module -> why its function-level imports of our own modules are lazy
LAZY_ON_PURPOSE = {
    "mock_semble/cli.py": "`schema` and `fire` must not load the server stack",
    "mock_semble/testing/plugin.py": "a pytest run that uses no fixture loads no server",
}


def _tool(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (it is in the test extras)")
    return found


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_mypy_strict_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _function_level_internal_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if (
                isinstance(node, ast.ImportFrom)
                and (node.level > 0 or (node.module or "").startswith("mock_semble"))
            ) or (
                isinstance(node, ast.Import)
                and any(a.name.startswith("mock_semble") for a in node.names)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_function_level_import_of_our_own_modules_outside_the_listed_ones() -> None:
    offenders = [
        where
        for path in sorted(PACKAGE.rglob("*.py"))
        if str(path.relative_to(ROOT)) not in LAZY_ON_PURPOSE
        for where in _function_level_internal_imports(path)
    ]
    assert offenders == []


def test_the_checker_sees_a_function_level_import() -> None:
    sample = ROOT / "mock_semble" / "cli.py"
    assert _function_level_internal_imports(sample), "the AST walk must find cli's lazy imports"
