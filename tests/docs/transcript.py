"""Console transcripts: ``$ command`` lines (a trailing ``\\`` continues one) followed by
the output they must print. ``…`` in the expected output stands for any text (ids,
secrets, timestamps), so a transcript pins everything else."""

from __future__ import annotations

import re
from dataclasses import dataclass

PROMPT = "$ "
WILDCARD = "…"
END = "@@doctest-end-{n}@@"
END_LINE = re.compile(r"\n?@@doctest-end-(\d+)@@ (\d+)\n")


@dataclass(frozen=True)
class Step:
    command: str
    expected: str


def parse_transcript(code: str) -> list[Step]:
    """The steps of a console block; ValueError if it does not start with a prompt."""
    steps: list[Step] = []
    command: list[str] = []
    output: list[str] = []
    continued = False
    for line in code.splitlines():
        if continued:
            command.append(line)
            continued = line.endswith("\\")
        elif line.startswith(PROMPT) or line == "$":
            if command:
                steps.append(Step("\n".join(command), "\n".join(output)))
            command, output = [line[len(PROMPT) :]], []
            continued = line.endswith("\\")
        elif not command:
            raise ValueError(f"a console block starts with '{PROMPT}': {line!r}")
        else:
            output.append(line)
    if command:
        steps.append(Step("\n".join(command), "\n".join(output)))
    return steps


def script(steps: list[Step]) -> str:
    """One bash script running every step, each followed by a line with its exit status."""
    parts = []
    for n, step in enumerate(steps):
        parts.append(step.command)
        parts.append(f"printf '\\n%s %d\\n' '{END.format(n=n)}' \"$?\"")
    return "\n".join(parts) + "\n"


def split_output(output: str, count: int) -> list[tuple[str, int]]:
    """Each step's output and exit status, from the script's combined output."""
    results: list[tuple[str, int]] = []
    start = 0
    for match in END_LINE.finditer(output):
        results.append((output[start : match.start()], int(match[2])))
        start = match.end()
    if len(results) != count:
        raise AssertionError(
            f"the transcript stopped after {len(results)} of {count} commands:\n{output[start:]}"
        )
    return results


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip("\n")


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` is ``expected`` with each ``…`` standing for any text (none too)."""
    pattern = ".*?".join(re.escape(part) for part in _normal(expected).split(WILDCARD))
    return re.fullmatch(pattern, _normal(actual), flags=re.DOTALL) is not None
