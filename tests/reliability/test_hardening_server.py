"""Issue 13, items 5, 12 and 14: shutdown during a waiting fire, slow and surplus
connections, and exposure off loopback — against ``mock-semble serve`` processes.

Times are recorded as figures, never asserted; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_semble.testing import WebhookReceiver

from .helpers import CREATE, READY, CliServer, Figures, graphql

TOKEN = "test-token"
REFUSED = {"error": "too many open connections"}
HALF_OPEN = 1_100
FD_LIMIT = 1_024  # the server's, as in the reproduction


# -- item 5: SIGTERM while a client waits for deliveries -------------------------------------


def test_sigterm_during_a_waiting_fire_answers_503_json(
    cli_server: Callable[..., CliServer], figures: Figures
) -> None:
    hold = threading.Event()
    receiver = WebhookReceiver().respond_with(200, hold=hold).start()
    try:
        server = cli_server(
            *("--allow-http-localhost", "--delivery-timeout", "3", "--retry-schedule", "1"),
            name="sigterm-wait",
        )
        with server.client() as http:
            variables = {
                "input": {
                    "url": receiver.url + "/held",
                    "label": "w",
                    "eventTypes": ["PATIENT_CREATED"],
                }
            }
            assert graphql(http, TOKEN, CREATE, variables)["data"]["createWebhook"]["error"] is None
        answer: dict[str, Any] = {}

        def fire() -> None:
            with server.client(timeout=60) as client:
                answer["response"] = client.post(
                    "/__mock/events", json={"eventType": "PATIENT_CREATED", "wait": True}
                )

        waiting = threading.Thread(target=fire)
        waiting.start()
        receiver.wait_for(1)  # the delivery is in flight; the client waits for it
        started = time.monotonic()
        assert server.terminate() == 0
        exit_seconds = time.monotonic() - started
        waiting.join(30)
    finally:
        hold.set()
        receiver.stop()
    response = answer["response"]
    figures.record("hardening_sigterm_wait", exit_seconds=round(exit_seconds, 2))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == "server shut down"
    [delivery] = body["deliveries"]
    assert delivery["status"] == "failed"
    assert delivery["attempts"][-1]["error"] == "server shut down during this attempt"
    assert "Traceback" not in server.logs()


# -- item 12: slow and surplus connections ----------------------------------------------------

LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), int(sys.argv[1])))
from mock_semble.cli import main
sys.exit(main(sys.argv[2:]))
"""


@contextlib.contextmanager
def limited_server(tmp_path: Path, fd_limit: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``mock-semble serve`` in a process that may open ``fd_limit`` files."""
    out, err = tmp_path / "limited.stdout", tmp_path / "limited.stderr"
    command = [sys.executable, "-c", LIMITED, str(fd_limit), "serve", "--port", "0"]
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(command, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while READY not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, err.read_text()
            time.sleep(0.02)
        url = out.read_text().split(READY, 1)[1].split()[0].removesuffix("/graphql")
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(20)


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False
    except OSError:  # reset: closed too
        return True


def test_half_open_connections_are_closed_and_surplus_ones_refused(
    tmp_path: Path, figures: Figures
) -> None:
    """1,100 sockets that send half a request head and stop, against a server allowed
    1,024 files: before, normal requests timed out and the log took 171k tracebacks."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < HALF_OPEN + 200:
        if hard != resource.RLIM_INFINITY and hard < HALF_OPEN + 200:
            pytest.skip(f"this process may open only {hard} files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (HALF_OPEN + 200, hard))
    sockets: list[socket.socket] = []
    with limited_server(tmp_path, FD_LIMIT) as (url, _proc):
        port = int(url.rsplit(":", 1)[1])
        try:
            for _ in range(HALF_OPEN):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                sock.sendall(b"GET /__mock/health HTTP/1.1\r\nHost: x\r\n")  # and nothing more
                sockets.append(sock)
            opened = time.monotonic()
            during = httpx.get(url + "/__mock/health", timeout=10)
            time.sleep(1.0)  # let the refusals arrive (not a proof of anything)
            refused = 0
            for sock in sockets:
                sock.setblocking(False)
                with contextlib.suppress(OSError):
                    if sock.recv(65536).startswith(b"HTTP/1.1 503 "):
                        refused += 1
            open_ = list(sockets)
            deadline = opened + 40  # the server's deadline is 10 s
            while open_ and time.monotonic() < deadline:
                open_ = [s for s in open_ if not _closed_by_server(s)]
                time.sleep(0.1)
            closed_after = time.monotonic() - opened
            after = httpx.get(url + "/__mock/health", timeout=10)
        finally:
            for sock in sockets:
                sock.close()
    stderr = (tmp_path / "limited.stderr").read_text()
    figures.record(
        "hardening_slowloris",
        half_open=HALF_OPEN,
        server_fd_limit=FD_LIMIT,
        refused_with_503=refused,
        all_closed_after_seconds=round(closed_after, 1),
        stderr_lines=len(stderr.splitlines()),
    )
    assert refused > 0  # beyond the cap: answered at once, not left hanging
    assert during.status_code == 503 and during.json() == REFUSED
    assert open_ == []  # every half-open connection was closed by the server
    assert after.status_code == 200
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) <= 10  # a line per 10 s at most, never one per socket


def test_a_request_body_that_stops_arriving_is_cut(cli_server: Callable[..., CliServer]) -> None:
    server = cli_server(name="slow-body")
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=40) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\nx-token: test-token\r\n\r\n{"query"'
        )
        started = time.monotonic()
        data = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):  # ends when the server closes
                data += chunk
        waited = time.monotonic() - started
    assert waited < 35  # closed by the server's deadline, not by our socket timeout
    assert b"HTTP/1.1 200" not in data
    with server.client() as http:
        journal = http.get("/__mock/requests").json()["requests"]
    assert [entry["status"] for entry in journal] == [400]  # "closed during the body"


# -- item 14: exposure off loopback ----------------------------------------------------------


def _served(server: CliServer) -> str:
    """The server's URL with a loopback address to connect to."""
    return server.url.replace("0.0.0.0", "127.0.0.1")


def _warnings(server: CliServer) -> list[str]:
    return [line for line in server.logs().splitlines() if line.startswith("warning: listening")]


@pytest.mark.parametrize(
    ("flags", "warned", "prefilled"),
    [
        (("--host", "0.0.0.0"), True, False),
        (("--host", "0.0.0.0", "--admin-token", "adm"), False, False),
        (("--host", "127.0.0.1"), False, True),
    ],
)
def test_off_loopback_the_server_warns_and_graphiql_prefills_no_token(
    cli_server: Callable[..., CliServer], flags: tuple[str, ...], warned: bool, prefilled: bool
) -> None:
    server = cli_server(*flags, name="exposure")
    assert _warnings(server) == (
        [
            "warning: listening on 0.0.0.0 without --admin-token: anyone who can reach it can "
            "read, change and reset the mock through /__mock"
        ]
        if warned
        else []
    )
    page = httpx.get(_served(server) + "/graphql", headers={"accept": "text/html"}, timeout=30)
    assert page.status_code == 200
    assert (TOKEN in page.text) is prefilled


def test_the_warning_is_one_line_on_stderr(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_semble", "serve", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith(READY)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    lines = [x for x in err.decode().splitlines() if "admin-token" in x]
    assert len(lines) == 1 and lines[0].startswith("warning: ")
