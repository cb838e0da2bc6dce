"""The client examples users copy (examples/python_client.py with ``gql``,
examples/node_client.mjs with ``graphql-request``) really work against a running server:
each creates, lists, gets, updates and deletes a subscription, checks a payload error,
and fails with exit 1 and a one-line reason when the token lacks a permission."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mock_semble.testing import MockSembleServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
LiveServer = Callable[..., MockSembleServer]

STEPS = [
    "create: ok id=",
    "duplicate: ok CONFLICT",
    "invalid url: ok INVALID_URL",
    "list: ok ",
    "get: ok",
    "update: ok label + deliveryPaused",
    "delete: ok",
    "delete again: ok NOT_FOUND",
]
ALL_SUBSCRIPTIONS = """
{ webhooks(includeDeleted: true) { id url label eventTypes deleted deliveryPaused } }"""


def node_command() -> list[str]:
    """``node examples/node_client.mjs``, or skip when Node or its npm deps are absent
    (with MOCK_SEMBLE_REQUIRE_NODE=1, as in CI, fail instead)."""
    node = shutil.which("node")
    missing = []
    if node is None:
        missing.append("node is not on PATH")
    if not (EXAMPLES / "node_modules" / "graphql-request" / "package.json").is_file():
        missing.append(
            "examples/node_modules/graphql-request is missing: cd examples && npm install"
        )
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("MOCK_SEMBLE_REQUIRE_NODE") == "1":
            pytest.fail(f"MOCK_SEMBLE_REQUIRE_NODE=1 but {reason}")
        pytest.skip(reason)
    assert node is not None
    return [node, str(EXAMPLES / "node_client.mjs")]


def client_command(name: str) -> list[str]:
    if name == "python":
        return [sys.executable, str(EXAMPLES / "python_client.py")]
    return node_command()


def run_client(command: list[str], url: str, token: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, "--url", url, "--token", token],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("name", ["python", "node"])
def test_client_round_trip(live_server: LiveServer, name: str) -> None:
    command = client_command(name)
    server = live_server()

    result = run_client(command, server.graphql_url, server.token or "test-token")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == len(STEPS) + 1, lines
    for line, step in zip(lines, STEPS, strict=False):
        assert line.startswith(step), (line, step)
    assert lines[-1] == f"{name} client: all checks passed"
    assert "whsec_" not in result.stdout
    created_id = lines[0].removeprefix("create: ok id=")

    # What the client left behind, seen through the API: one subscription, deleted,
    # carrying the update; the refused duplicate and invalid url created nothing.
    assert server.execute("{ webhooks { id } }") == {"data": {"webhooks": []}}
    [sub] = server.execute(ALL_SUBSCRIPTIONS)["data"]["webhooks"]
    assert sub["id"] == created_id
    assert sub["deleted"] is True
    assert sub["deliveryPaused"] is True
    assert sub["label"] == f"{name} example (paused)"
    assert sub["url"].startswith("https://example.com/hooks/")
    assert sub["eventTypes"] == ["PATIENT_CREATED", "PATIENT_UPDATED"]


@pytest.mark.parametrize("name", ["python", "node"])
def test_client_runs_twice_against_one_server(live_server: LiveServer, name: str) -> None:
    """A random URL suffix per run: repeated runs never conflict with each other."""
    command = client_command(name)
    server = live_server()
    for _ in range(2):
        result = run_client(command, server.graphql_url, server.token or "test-token")
        assert result.returncode == 0, result.stdout + result.stderr
    subs = server.execute(ALL_SUBSCRIPTIONS)["data"]["webhooks"]
    assert len(subs) == 2
    assert len({s["url"] for s in subs}) == 2
    assert all(s["deleted"] for s in subs)


@pytest.mark.parametrize("name", ["python", "node"])
def test_client_without_permission_exits_1_with_one_line(
    live_server: LiveServer, name: str
) -> None:
    command = client_command(name)
    server = live_server()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        response = http.post("/__mock/practices", json={"name": "Read-only practice"})
        assert response.status_code == 201, response.text
        practice = response.json()
        response = http.post(
            "/__mock/tokens",
            json={"practiceId": practice["id"], "permissions": ["seeWebhooks"]},
        )
        assert response.status_code == 201, response.text
        token = response.json()["token"]

    result = run_client(command, server.graphql_url, token)

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{name} client: FAILED at create: Missing permission: createWebhooks (FORBIDDEN)"
    ]
    assert token not in result.stderr
    # Nothing was created, in that practice or the default one.
    read_only = server.execute(ALL_SUBSCRIPTIONS, token=token)
    assert read_only == {"data": {"webhooks": []}}
    assert server.execute(ALL_SUBSCRIPTIONS) == {"data": {"webhooks": []}}
