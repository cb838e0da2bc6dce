"""The command line over real sockets: serve, flags, env vars, config, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import CREATE, LIST, webhook_input


@contextmanager
def serve(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_semble", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("mock-semble ready: http://"), line + (
            proc.stderr.read() if proc.stderr else ""
        )
        yield line.split("ready: ", 1)[1].strip().removesuffix("/graphql"), proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_semble", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def create(base: str, token: str = "test-token", **fields: object) -> dict[str, object]:
    r = httpx.post(
        base + "/graphql",
        json={"query": CREATE, "variables": {"input": webhook_input(**fields)}},
        headers={"x-token": token},
    )
    return r.json()["data"]["createWebhook"]


def test_serve_defaults_over_a_real_socket() -> None:
    with serve() as (base, _):
        assert base.startswith("http://127.0.0.1:")
        assert httpx.get(base + "/__mock/health").json()["status"] == "ok"
        payload = create(base)
        assert payload["error"] is None
        r = httpx.post(base + "/graphql", json={"query": LIST}, headers={"x-token": "test-token"})
        assert [s["id"] for s in r.json()["data"]["webhooks"]] == [payload["data"]["id"]]  # type: ignore[index]


def test_seed_gives_the_same_ids_and_secrets_every_run() -> None:
    results = []
    for _ in range(2):
        with serve("--seed", "42") as (base, _):
            results.append([create(base, url=f"https://x.com/{n}")["data"] for n in range(2)])
    ids = [[(s["id"], s["secret"]) for s in run_] for run_ in results]  # type: ignore[index]
    assert ids[0] == ids[1]
    assert ids[0][0] != ids[0][1]


def test_config_file_replaces_the_default_practice_and_token(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text(
        textwrap.dedent(
            """
            [[practices]]
            id = "0000000000000000000000aa"
            name = "North"
            [[practices]]
            name = "South"
            webhooksEnabled = false
            [[tokens]]
            token = "north-token"
            practiceId = "0000000000000000000000aa"
            permissions = ["seeWebhooks", "createWebhooks"]
            """
        )
    )
    with serve("--config", str(config)) as (base, _):
        assert create(base, token="north-token")["error"] is None
        r = httpx.post(base + "/graphql", json={"query": LIST}, headers={"x-token": "test-token"})
        assert r.status_code == 401


def test_env_vars_configure_serve() -> None:
    env = {"MOCK_SEMBLE_ALLOW_HTTP_LOCALHOST": "1", "MOCK_SEMBLE_SEED": "7"}
    with serve(env=env) as (base, _):
        assert create(base, url="http://127.0.0.1:1/h")["error"] is None
    with serve() as (base, _):
        assert create(base, url="http://127.0.0.1:1/h")["error"] == "url must be a valid HTTPS URL"
    with serve("--allow-http-localhost") as (base, _):
        assert create(base, url="http://localhost:1/h")["error"] is None


def test_flag_beats_env_var() -> None:
    with serve("--host", "127.0.0.1", env={"MOCK_SEMBLE_HOST": "256.0.0.1"}) as (base, _):
        assert base.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["--port", "99999"], {}, "--port must be between"),
        (["--port", "abc"], {}, "--port must be a whole number"),
        (["--nope"], {}, "unrecognized arguments"),
        (["--log-level", "loud"], {}, "--log-level must be one of"),
        (["--seed", "x"], {}, "--seed must be a whole number"),
        (["--signing-scheme", "md5"], {}, "--signing-scheme must be one of"),
        (["--retry-schedule", "1,x"], {}, "--retry-schedule"),
        (["--delivery-mode", "loud"], {}, "--delivery-mode must be one of"),
        (["--delivery-timeout", "-1"], {}, "--delivery-timeout"),
        (["--forward", "nope"], {}, "--forward must be ORIGIN=BASE_URL"),
        (["--config", "/nonexistent.toml"], {}, "config file not found"),
        ([], {"MOCK_SEMBLE_ALLOW_HTTP_LOCALHOST": "maybe"}, "MOCK_SEMBLE_ALLOW_HTTP_LOCALHOST"),
        ([], {"MOCK_SEMBLE_PORT": "-5"}, "--port must be between"),
    ],
)
def test_bad_flags_exit_with_one_line(args: list[str], env: dict[str, str], fragment: str) -> None:
    result = run("serve", *args, env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0] and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "content",
    [
        "not toml [",
        '[[practices]]\nname = ""\n',
        '[[practices]]\nname = "A"\nid = "xyz"\n',
        '[[practices]]\nname = "A"\nid = "0000000000000000000000aa"\n[[tokens]]\ntoken = "t"\n'
        'practiceId = "0000000000000000000000bb"\npermissions = []\n',
        '[[practices]]\nname = "A"\nid = "0000000000000000000000aa"\n[[tokens]]\ntoken = "t"\n'
        'practiceId = "0000000000000000000000aa"\npermissions = ["fly"]\n',
        'colour = "blue"\n',
        "[[tokens]]\n",
    ],
)
def test_bad_config_exits_with_one_line(tmp_path: Path, content: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    result = run("serve", "--config", str(config))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("mock-semble: error: config file")


def test_port_in_use_is_one_line() -> None:
    with serve() as (base, _):
        port = base.rsplit(":", 1)[1]
        result = run("serve", "--port", port)
    assert result.returncode != 0
    assert "cannot listen" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_console_script_and_module_are_the_same() -> None:
    exe = Path(sys.executable).with_name("mock-semble")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == run("--version").stdout.strip() == "mock-semble 0.1.0"
