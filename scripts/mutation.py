"""Mutation testing of the rules, stores, fast path, signing and delivery retries.

Runs mutmut (a test extra) group by group, each in its own copy of the repository's
tracked files (so ``mutants/`` never lands in the working tree and concurrent edits do
not disturb a run), with the tests that exercise that group and smaller Hypothesis
budgets. Prints a Markdown table of the kill rate per module and the surviving mutants.

    python scripts/mutation.py              # every group (tens of minutes)
    python scripts/mutation.py --smoke      # a subset for CI: < 2 min, fails under 90 %
    python scripts/mutation.py --group signing --show-survivors
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTEST_ARGS = "-p no:randomly -p no:cacheprovider -n 0 -q -x"
ENV = {  # smaller Hypothesis budgets: each mutant reruns the tests that cover it
    "MOCK_SEMBLE_STATEFUL_EXAMPLES": "4",
    "MOCK_SEMBLE_STATEFUL_STEPS": "20",
    "MOCK_SEMBLE_FASTPATH_EXAMPLES": "5",
}
GOAL = 0.90
KILLS = "tests/test_mutation_kills.py"  # tests written for mutants that survived


@dataclass(frozen=True)
class Group:
    name: str
    modules: tuple[str, ...]  # files mutated
    tests: tuple[str, ...]  # tests run against each mutant (those that cover it)
    names: tuple[str, ...] = ()  # mutant name globs (default: every mutant of the modules)
    # mutmut stops a mutant after (test time + 1 s) x this x 2 CPU seconds; its default (15)
    # lets a looping fast-path mutant burn minutes each
    timeout_multiplier: float = 15.0


GROUPS = (
    Group("rules", ("mock_semble/webhooks/rules.py",), ("tests/webhooks/test_rules.py", KILLS)),
    Group(
        "store",
        ("mock_semble/webhooks/store.py", "mock_semble/webhooks/operations.py"),
        (
            "tests/webhooks/test_api_webhooks.py",
            "tests/api/test_api_auth.py",
            "tests/testing/test_stateful.py",
            "tests/control/test_state_export.py",
            KILLS,
        ),
    ),
    Group(
        "fastpath",
        ("mock_semble/api/fastpath.py",),
        (
            "tests/api/test_fastpath.py",
            "tests/api/test_fastpath_edges.py",
            "tests/api/test_graphql_http.py",
        ),
        timeout_multiplier=3.0,
    ),
    Group(
        "signing", ("mock_semble/delivery/signing.py",), ("tests/delivery/test_signing.py", KILLS)
    ),
    Group(
        "patients",
        ("mock_semble/patients/rules.py", "mock_semble/patients/store.py"),
        (
            "tests/patients/test_rules.py",
            "tests/patients/test_blank_names.py",
            "tests/patients/test_store.py",
            "tests/patients/test_state.py",
            "tests/control/test_state_export.py",
        ),
    ),
    Group(
        "retry",
        ("mock_semble/delivery/engine.py",),
        (  # in-process engine tests: mutmut maps no test that drives a server thread
            "tests/delivery/test_engine_retries.py",
            "tests/delivery/test_engine_lifecycle.py",
            "tests/delivery/test_delivery_unit.py",
            KILLS,
        ),
        tuple(
            f"mock_semble.delivery.engine.{name}*"
            for name in (
                "x_wait_bound",
                "xǁDeliveryEngineǁ_run",
                "xǁDeliveryEngineǁ_give_up",
                "xǁDeliveryEngineǁ_failed_for_good",
                "xǁDeliveryEngineǁ_finish",
                "xǁDeliveryEngineǁstop",
                "xǁDeliveryEngineǁ_cancel",
                "x__cancel_task",
            )
        ),
    ),
)
SMOKE = (
    Group(
        "rules (smoke)",
        ("mock_semble/webhooks/rules.py",),
        ("tests/webhooks/test_rules.py", KILLS),
        ("mock_semble.webhooks.rules.x_check_label*", "mock_semble.webhooks.rules.x_check_event*"),
    ),
    Group(
        "signing (smoke)",
        ("mock_semble/delivery/signing.py",),
        ("tests/delivery/test_signing.py", KILLS),
        ("mock_semble.delivery.signing.x_sign*",),
    ),
)


def copy_repository(into: Path) -> None:
    """The tracked files as they are in the working tree (uncommitted edits included)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        source = ROOT / raw.decode()
        if source.is_file():
            target = into / raw.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def config(group: Group) -> str:
    lines = ["[mutmut]", "source_paths=mock_semble/", "only_mutate="]
    lines += [f"    {m}" for m in group.modules]
    lines.append(f"timeout_multiplier={group.timeout_multiplier}")
    lines += [f"pytest_add_cli_args={PYTEST_ARGS}", "pytest_add_cli_args_test_selection="]
    lines += [f"    {t}" for t in group.tests]
    return "\n".join(lines) + "\n"


def run_group(group: Group, workdir: Path, max_children: int | None) -> dict[str, str]:
    """mutant name -> mutmut's status (killed, survived, no tests, timeout …)."""
    copy_repository(workdir)
    pyproject = workdir / "pyproject.toml"  # mutmut prefers a [tool.mutmut] there
    text = pyproject.read_text()
    if "[tool.mutmut]" in text:
        pyproject.write_text(text.split("[tool.mutmut]")[0])
    (workdir / "setup.cfg").write_text(config(group))
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    env = {**os.environ, **ENV}
    log = workdir / "mutmut.log"
    with log.open("w") as out:
        children = ["--max-children", str(max_children)] if max_children else []
        subprocess.run(
            [mutmut, "run", *children, *group.names], cwd=workdir, env=env, stdout=out, stderr=out
        )
    results = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=workdir, env=env, capture_output=True, text=True
    ).stdout
    statuses: dict[str, str] = {}
    prefixes = tuple(m.removesuffix(".py").replace("/", ".") + "." for m in group.modules)
    for line in results.splitlines():
        name, _, status = line.strip().partition(": ")
        if name.startswith(prefixes) and status and status != "not checked":
            statuses[name] = status
    return statuses


def module_of(name: str) -> str:
    return name.rsplit(".", 1)[0].replace(".", "/") + ".py"


def report(all_statuses: dict[str, str], show_survivors: bool) -> tuple[str, float]:
    per_module: dict[str, Counter[str]] = {}
    for name, status in all_statuses.items():
        per_module.setdefault(module_of(name), Counter())[status] += 1
    lines = ["| module | mutants | killed | survived | no tests | other | kill rate |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    killed_total = checked_total = 0
    for module, counts in sorted(per_module.items()):
        killed = counts["killed"] + counts["timeout"]
        checked = sum(counts.values())
        other = checked - killed - counts["survived"] - counts["no tests"]
        killed_total, checked_total = killed_total + killed, checked_total + checked
        rate = killed / checked if checked else 1.0
        lines.append(
            f"| `{module}` | {checked} | {killed} | {counts['survived']} | "
            f"{counts['no tests']} | {other} | {rate:.0%} |"
        )
    total = killed_total / checked_total if checked_total else 1.0
    lines.append(f"| **all** | {checked_total} | {killed_total} | | | | **{total:.0%}** |")
    if show_survivors:
        lines.append("")
        lines += [
            f"- `{n}`: {s}"
            for n, s in sorted(all_statuses.items())
            if s not in ("killed", "timeout")
        ]
    return "\n".join(lines), total


def main() -> int:
    parser = argparse.ArgumentParser(prog="python scripts/mutation.py")
    parser.add_argument("--smoke", action="store_true", help="the CI subset (< 2 min)")
    parser.add_argument("--group", action="append", help="only these groups (by name)")
    parser.add_argument("--show-survivors", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep each group's copy under this folder")
    parser.add_argument("--max-children", type=int, help="mutants run at once (default: CPUs)")
    args = parser.parse_args()
    groups: tuple[Group, ...] = SMOKE if args.smoke else GROUPS
    if args.group:
        groups = tuple(g for g in groups if g.name in args.group)
    statuses: dict[str, str] = {}
    for group in groups:
        if args.keep:
            workdir = args.keep / group.name.split()[0]
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir(parents=True)
            found = run_group(group, workdir, args.max_children)
        else:
            with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
                found = run_group(group, Path(tmp), args.max_children)
        print(f"{group.name}: {len(found)} mutants", file=sys.stderr, flush=True)
        statuses.update(found)
    table, total = report(statuses, args.show_survivors)
    print(table)
    if not statuses:
        print("no mutant was checked: is mutmut installed (pip install -e '.[test]')?")
        return 1
    return 0 if total >= GOAL or not args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
