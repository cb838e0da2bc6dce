"""Logs: one access line per request; no token or secret at any level."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
from conftest import CREATE, LIST, UPDATE, webhook_input


def test_no_token_or_secret_in_debug_logs() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_semble",
            "serve",
            "--port",
            "0",
            "--log-level",
            "debug",
            "--admin-token",
            "admin-sekrit",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    base = proc.stdout.readline().split("ready: ", 1)[1].strip().removesuffix("/graphql")
    secrets: list[str] = []
    requests = 0
    with httpx.Client(base_url=base) as client:
        for token in ("test-token", "Bearer test-token"):
            r = client.post(
                "/graphql",
                json={
                    "query": CREATE,
                    "variables": {"input": webhook_input(url=f"https://x.com/{len(secrets)}")},
                    "operationName": "CreateWebhook",
                },
                headers={"x-token": token},
            )
            data = r.json()["data"]["createWebhook"]["data"]
            secrets.append(data["secret"])
            r = client.post(
                "/graphql",
                json={"query": UPDATE, "variables": {"id": data["id"], "input": {"label": "n"}}},
                headers={"x-token": token},
            )
            assert r.json()["data"]["updateWebhook"]["data"]["secret"] == data["secret"]
            requests += 2
        client.post("/graphql", json={"query": LIST}, headers={"x-token": "wrong-token-value"})
        client.post("/graphql", json={"query": "{ nope"}, headers={"x-token": "test-token"})
        client.get("/__mock/requests", headers={"x-mock-admin-token": "admin-sekrit"})
        client.get("/__mock/requests", headers={"x-mock-admin-token": "bad-admin-guess"})
        journal = client.get(
            "/__mock/requests", headers={"x-mock-admin-token": "admin-sekrit"}
        ).text
        requests += 5
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=10)
    access = [line for line in stderr.splitlines() if "mock_semble.access" in line]
    assert len(access) == requests
    assert any("POST /graphql op=CreateWebhook status=200" in line for line in access)
    for needle in ("test-token", "wrong-token-value", "admin-sekrit", "bad-admin-guess", *secrets):
        assert needle not in stderr
        assert needle not in journal
