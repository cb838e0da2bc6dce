"""The plugin as a user meets it: generated test modules run by a separate pytest process
(the plugin loads through the ``pytest11`` entry point, no conftest), under xdist too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# Each generated test appends what it saw to a JSON-lines file the outer test reads.
RECORDER = """
import json, os
import pytest

def record(**data):
    data["worker"] = os.environ.get("PYTEST_XDIST_WORKER", "main")
    data["pid"] = os.getpid()
    with open(os.environ["RECORD_FILE"], "a") as fh:
        fh.write(json.dumps(data) + "\\n")
"""

ISOLATION = (
    RECORDER
    + """
LIST = "{ webhooks { id } }"

@pytest.mark.parametrize("n", range(8))
def test_isolated(mock_semble, webhook_receiver, n):
    # Every test creates the same webhook: a leftover from another test would make
    # this a CONFLICT, and the list would hold two.
    practice = mock_semble.new_practice(f"p{n}")
    mock_semble.create_webhook(webhook_receiver.url_for("/h"))
    mock_semble.create_webhook(webhook_receiver.url_for("/h"), token=practice.token)
    assert len(mock_semble.execute(LIST)["data"]["webhooks"]) == 1
    deliveries = mock_semble.fire("PATIENT_CREATED")
    assert [d["status"] for d in deliveries] == ["succeeded"]
    assert len(webhook_receiver.wait_for(1)) == 1
    mock_semble.freeze_clock("2030-01-01T00:00:00Z")
    record(url=mock_semble.url, receiver=webhook_receiver.url, practice=practice.id)
"""
)


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def record_file(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = pytester.path / "records.jsonl"
    monkeypatch.setenv("RECORD_FILE", str(path))
    return path


def test_one_server_per_session_reset_between_tests(
    pytester: pytest.Pytester, record_file: Path
) -> None:
    pytester.makepyfile(test_isolation=ISOLATION)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=8)
    records = _records(record_file)
    assert len({r["url"] for r in records}) == 1  # started once for the session
    assert len({r["receiver"] for r in records}) == 8  # a fresh receiver per test
    assert len({r["practice"] for r in records}) == 8


def test_under_xdist_each_worker_has_its_own_server(
    pytester: pytest.Pytester, record_file: Path
) -> None:
    pytester.makepyfile(test_isolation=ISOLATION)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=8)
    records = _records(record_file)
    workers = {r["worker"] for r in records}
    assert workers == {"gw0", "gw1"}
    url_of = {w: {r["url"] for r in records if r["worker"] == w} for w in workers}
    assert all(len(urls) == 1 for urls in url_of.values())  # one server per worker
    assert url_of["gw0"] != url_of["gw1"]
    assert len({r["pid"] for r in records}) == 2


def test_ini_options_and_markers(pytester: pytest.Pytester, record_file: Path) -> None:
    pytester.makeini(
        """
        [pytest]
        mock_semble_options =
            seed = 42
            delivery_mode = record
        """
    )
    pytester.makepyfile(
        test_options=RECORDER
        + """
def test_ini(mock_semble):
    s = mock_semble.runtime.settings
    assert (s.seed, s.delivery_mode, s.allow_http_localhost) == (42, "record", True)
    record(kind="ini", id=mock_semble.create_webhook("https://a.example/")["id"])

def test_ini_again(mock_semble):
    # reset rewinds the seeded sequence: the same id again
    record(kind="ini", id=mock_semble.create_webhook("https://a.example/")["id"])

@pytest.mark.mock_semble(delivery_mode="send", seed=None)
def test_marker_overrides_ini(mock_semble):
    s = mock_semble.runtime.settings
    assert (s.seed, s.delivery_mode) == (None, "send")

@pytest.mark.mock_semble(bogus=1)
def test_bad_marker_option(mock_semble):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*mock_semble options: unknown mock-semble option(s)*bogus*"])
    assert "pytest_plugin.py" not in result.stdout.str()  # one line, no plugin traceback
    ids = [r["id"] for r in _records(record_file)]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_bad_ini_options_are_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmock_semble_options = retry_schedule=soon\n")
    pytester.makepyfile("def test_x(mock_semble):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*--retry-schedule must be comma-separated seconds*"])


def test_plugin_is_registered_and_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["mock_semble -- *", "*reset to its start-up state*", "webhook_receiver -- *"]
    )
    result = pytester.runpytest_subprocess("--markers", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["@pytest.mark.mock_semble(**options)*"])


def test_loading_the_plugin_imports_no_server_code() -> None:
    # Every pytest run of a project with mock-semble installed loads the plugin.
    code = (
        "import sys, pytest, mock_semble.pytest_plugin\n"
        "heavy = {'httpx', 'starlette', 'uvicorn', 'strawberry', 'mock_semble.app'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stderr
