"""``mock-semble serve`` for CI and for people: --ready-file, --log-format json, GET /,
the x-token hint, a config without tokens, --allow-http-host, and URL forms."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from mock_semble.testing import MockSembleClient

LIST = "{ webhooks { id } }"


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_semble", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=10)


def ready_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("mock-semble ready: http://"), line
    return line.split("ready: ", 1)[1].strip()


def wait_for_file(path: Path, proc: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while not path.is_file():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "no ready file after 30 s"
        time.sleep(0.02)
    document: dict[str, object] = json.loads(path.read_text())
    return document


# --- --ready-file -------------------------------------------------------------------------


def test_ready_file_says_where_the_server_is(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    with serve("--ready-file", str(ready)) as proc:
        document = wait_for_file(ready, proc)
        assert set(document) == {"url", "graphqlUrl", "port", "pid"}
        assert document["pid"] == proc.pid
        port = document["port"]
        assert isinstance(port, int) and port > 0
        assert document["url"] == f"http://127.0.0.1:{port}"
        assert document["graphqlUrl"] == f"http://127.0.0.1:{port}/graphql"
        assert ready_url(proc) == document["graphqlUrl"]
        assert httpx.get(f"{document['url']}/__mock/health").json()["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert not ready.exists()  # a stopped server leaves no stale announcement
    assert not list(tmp_path.iterdir())  # nor a temporary file


def test_ready_file_from_the_environment(tmp_path: Path) -> None:
    ready = tmp_path / "env-ready.json"
    with serve(env={"MOCK_SEMBLE_READY_FILE": str(ready)}) as proc:
        assert wait_for_file(ready, proc)["pid"] == proc.pid


def test_ready_file_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with serve("--ready-file", str(tmp_path / "nope" / "ready.json")) as proc:
        assert proc.wait(timeout=30) == 2
        assert proc.stderr is not None
        lines = proc.stderr.read().strip().splitlines()
    assert lines == [f"mock-semble: error: --ready-file folder not found: {tmp_path / 'nope'}"]


# --- --log-format json --------------------------------------------------------------------


def test_json_logs_are_one_object_per_line_with_the_same_redaction() -> None:
    secret_query = "token=query-sekrit"
    with serve("--log-format", "json", "--log-level", "debug") as proc:
        base = ready_url(proc).removesuffix("/graphql")
        with httpx.Client(base_url=base) as client:
            client.post(
                f"/graphql?{secret_query}",
                json={"query": "query Mine { webhooks { id } }", "operationName": "Mine"},
                headers={"x-token": "test-token"},
            )
            client.post("/graphql", json={"query": LIST}, headers={"x-token": "wrong-tok-1"})
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=10)
    lines = stderr.strip().splitlines()
    assert lines
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record)
        assert record["time"].endswith("Z")
    access = [r for r in records if r["logger"] == "mock_semble.access"]
    assert [(r["method"], r["path"], r["operationName"], r["status"]) for r in access] == [
        ("POST", "/graphql", "Mine", 200),
        ("POST", "/graphql", "-", 401),
    ]
    assert access[0]["message"].startswith("POST /graphql op=Mine status=200 ")
    assert isinstance(access[0]["durationMs"], float)
    for needle in ("test-token", "wrong-tok-1", "query-sekrit"):
        assert needle not in stderr


def test_bad_log_format_is_one_line() -> None:
    with serve("--log-format", "xml") as proc:
        assert proc.wait(timeout=30) == 2
        assert proc.stderr is not None
        assert (
            proc.stderr.read().strip()
            == "mock-semble: error: --log-format must be one of text, json"
        )


# --- GET /, the x-token hint, a config with no tokens -------------------------------------


def test_root_redirects_to_graphql_and_bearer_gets_a_hint() -> None:
    with serve() as proc:
        graphql_url = ready_url(proc)
        base = graphql_url.removesuffix("/graphql")
        root = httpx.get(base + "/", follow_redirects=False)
        assert root.status_code in (301, 302, 307, 308)
        assert root.headers["location"] in ("/graphql", graphql_url)
        page = httpx.get(base + "/", headers={"accept": "text/html"}, follow_redirects=True)
        assert page.status_code == 200 and "GraphiQL" in page.text

        bearer = httpx.post(
            graphql_url, json={"query": LIST}, headers={"Authorization": "Bearer test-token"}
        )
        assert bearer.status_code == 401
        assert bearer.json() == {
            "errors": [
                {
                    "message": "Missing token. Send it in the x-token header.",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ]
        }
        plain = httpx.post(graphql_url, json={"query": LIST})
        assert plain.json()["errors"][0]["message"] == "Missing token."


def test_a_config_without_tokens_fails_at_start(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('[[practices]]\nname = "Only a practice"\n')
    with serve("--config", str(config)) as proc:
        assert proc.wait(timeout=30) == 2
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read() == ""  # never announced as ready
        lines = proc.stderr.read().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mock-semble: error: config file ")
    assert "tokens" in lines[0] and "Traceback" not in lines[0]


# --- --allow-http-host --------------------------------------------------------------------

CREATE = (
    "mutation($u: String!) { createWebhook(input: {url: $u, eventTypes: [PATIENT_CREATED], "
    'label: "x"}) { data { id } error } }'
)


def _create(base: str, url: str) -> str | None:
    answer = httpx.post(
        base + "/graphql",
        json={"query": CREATE, "variables": {"u": url}},
        headers={"x-token": "test-token"},
    ).json()
    error: str | None = answer["data"]["createWebhook"]["error"]
    return error


def test_allow_http_host_admits_that_host_only() -> None:
    with serve("--allow-http-host", "host.docker.internal", "--allow-http-host", "Box.Lan") as p:
        base = ready_url(p).removesuffix("/graphql")
        assert _create(base, "http://host.docker.internal:8001/hooks") is None
        assert _create(base, "http://box.lan/hooks") is None
        assert _create(base, "http://other.example/hooks") == "url must be a valid HTTPS URL"
        assert _create(base, "http://127.0.0.1:1/h") == "url must be a valid HTTPS URL"


def test_allow_http_host_from_env_and_config(tmp_path: Path) -> None:
    env = {"MOCK_SEMBLE_ALLOW_HTTP_HOSTS": "host.docker.internal"}
    with serve(env=env) as proc:
        base = ready_url(proc).removesuffix("/graphql")
        assert _create(base, "http://host.docker.internal/h") is None
    config = tmp_path / "mock.toml"
    config.write_text(
        textwrap.dedent(
            """
            allowHttpHosts = ["receiver.internal"]
            [[practices]]
            id = "000000000000000000000001"
            name = "P"
            [[tokens]]
            token = "test-token"
            practiceId = "000000000000000000000001"
            permissions = ["seeWebhooks", "createWebhooks"]
            """
        )
    )
    with serve("--config", str(config)) as proc:
        base = ready_url(proc).removesuffix("/graphql")
        assert _create(base, "http://receiver.internal/h") is None
        assert _create(base, "http://host.docker.internal/h") == "url must be a valid HTTPS URL"


@pytest.mark.parametrize("bad", ["http://x", "a b", "x:80", "-a.b"])
def test_bad_allow_http_host_is_one_line(bad: str) -> None:
    with serve(f"--allow-http-host={bad}") as proc:
        assert proc.wait(timeout=30) == 2
        assert proc.stderr is not None
        assert proc.stderr.read().strip() == (
            "mock-semble: error: --allow-http-host must be a host name like "
            f"host.docker.internal, got {bad!r}"
        )


# --- every URL option takes the base or the ready line's URL ------------------------------


def test_client_takes_the_base_or_the_graphql_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with serve() as proc:
        graphql_url = ready_url(proc)
        base = graphql_url.removesuffix("/graphql")
        for given in (base, base + "/", graphql_url, graphql_url + "/"):
            client = MockSembleClient(given)
            assert client.url == base
            assert client.graphql_url == graphql_url
            assert client.execute(LIST) == {"data": {"webhooks": []}}
            assert client.health()["status"] == "ok"
            client.close()
        monkeypatch.setenv("MOCK_SEMBLE_URL", graphql_url)
        from_env = MockSembleClient()
        assert from_env.url == base and from_env.health()["status"] == "ok"
        from_env.close()


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example_commands() -> list[list[str]]:
    commands = [[sys.executable, str(EXAMPLES / "python_client.py")]]
    node = shutil.which("node")
    if node and (EXAMPLES / "node_modules" / "graphql-request").is_dir():
        commands.append([node, str(EXAMPLES / "node_client.mjs")])
    return commands


def test_examples_take_the_base_url_or_mock_semble_url() -> None:
    with serve() as proc:
        base = ready_url(proc).removesuffix("/graphql")
        for command in _example_commands():
            for args, env in ((["--url", base + "/"], {}), ([], {"MOCK_SEMBLE_URL": base})):
                result = subprocess.run(
                    [*command, *args],
                    capture_output=True,
                    text=True,
                    timeout=120,
                    env={**os.environ, **env},
                )
                assert result.returncode == 0, result.stdout + result.stderr
                assert result.stdout.splitlines()[-1].endswith("client: all checks passed")
