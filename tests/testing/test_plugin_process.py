"""Where the fixture's server runs (``mock_semble_process``) and how it is reset: in this
process without an HTTP round trip, or in a subprocess over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

RECORDER = """
import json, os
import pytest

def record(**data):
    with open(os.environ["RECORD_FILE"], "a") as fh:
        fh.write(json.dumps(data) + "\\n")
"""

ISOLATED = (
    RECORDER
    + """
@pytest.mark.parametrize("n", range(4))
def test_isolated(mock_semble, webhook_receiver, n):
    # The same webhook in every test: a leftover would be a CONFLICT.
    created = mock_semble.create_webhook(webhook_receiver.url_for("/h"))
    assert len(mock_semble.execute("{ webhooks { id } }")["data"]["webhooks"]) == 1
    assert [d["status"] for d in mock_semble.fire("PATIENT_CREATED")] == ["succeeded"]
    mock_semble.freeze_clock("2030-01-01T00:00:00Z")
    try:
        runtime = mock_semble.runtime
        server_pid = os.getpid()
    except AttributeError as exc:
        runtime, server_pid = None, str(exc)
    record(id=created["id"], url=mock_semble.url, pid=os.getpid(), runtime=runtime is not None,
           server=server_pid)
"""
)

# A reset that went over HTTP would fail the test: the fixture must not call it.
NO_HTTP_RESET = """
from mock_semble.testing.client import MockSembleClient

def refuse(self, practice_id=None):
    raise AssertionError("the fixture reset over HTTP")

MockSembleClient.reset = refuse
"""


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def record_file(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = pytester.path / "records.jsonl"
    monkeypatch.setenv("RECORD_FILE", str(path))
    return path


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", *args)


def test_in_process_reset_needs_no_http(pytester: pytest.Pytester, record_file: Path) -> None:
    pytester.makeini("[pytest]\nmock_semble_options = seed = 3\n")
    pytester.makeconftest(NO_HTTP_RESET)
    pytester.makepyfile(test_isolated=ISOLATED)
    _run(pytester).assert_outcomes(passed=4)
    records = _records(record_file)
    assert all(r["runtime"] for r in records)
    assert len({r["id"] for r in records}) == 1  # seeded ids rewound by every reset


def test_subprocess_server(pytester: pytest.Pytester, record_file: Path) -> None:
    pytester.makeini("[pytest]\nmock_semble_process = subprocess\nmock_semble_options = seed = 3\n")
    pytester.makepyfile(test_isolated=ISOLATED)
    _run(pytester).assert_outcomes(passed=4)
    records = _records(record_file)
    assert len({r["url"] for r in records}) == 1  # one server for the session
    assert not any(r["runtime"] for r in records)
    assert records[0]["server"] == (
        "a mock-semble server in a subprocess has no .runtime; "
        "use mock_semble_process = thread for white-box access"
    )
    assert len({r["id"] for r in records}) == 1  # reset (over HTTP) rewinds seeded ids


def test_command_line_option_wins_over_ini(pytester: pytest.Pytester, record_file: Path) -> None:
    pytester.makeini("[pytest]\nmock_semble_process = thread\n")
    pytester.makepyfile(test_isolated=ISOLATED)
    _run(pytester, "--mock-semble-process=subprocess").assert_outcomes(passed=4)
    assert not any(r["runtime"] for r in _records(record_file))


def test_subprocess_server_start_failure_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nmock_semble_process = subprocess\nmock_semble_options = state_file = nope.json\n"
    )
    pytester.makepyfile("def test_x(mock_semble):\n    pass\n")
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mock_semble options: *nope.json*"])


def test_bad_process_mode(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmock_semble_process = fork\n")
    pytester.makepyfile("def test_x(mock_semble):\n    pass\n")
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mock_semble_process must be one of thread, subprocess*"])
