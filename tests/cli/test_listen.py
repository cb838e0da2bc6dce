"""``mock-semble listen`` (SPEC §4.2) as a process against a live server: it prints
``listening on <url>`` once connected, then a line per delivery reaching a final status
and per retry scheduled; past deliveries are not replayed; Ctrl-C exits 0."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
from reliability.helpers import default_sigint

import mock_semble
from mock_semble import WebhookReceiver
from mock_semble.testing import MockSembleServer

TIMEOUT_S = 30.0
ADMIN = "listen-admin-token"
LINE = (
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  (?P<type>\S+)  subscription=(?P<sub>[0-9a-f]{24})"
    r"  status=(?P<status>\w+)  response=(?P<response>\S+)  attempt=(?P<attempt>\S+)"
    r"  delivery=(?P<delivery>[0-9a-f]{24})"
)


def _env() -> dict[str, str]:
    root = str(Path(mock_semble.__file__).resolve().parents[1])
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }


def _drain(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


class Listener:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        threading.Thread(target=_drain, args=(proc.stdout, self.lines), daemon=True).start()

    def next_line(self) -> str:
        line = self.lines.get(timeout=TIMEOUT_S)
        assert line is not None, f"listen ended: {self.stderr()}"
        return line

    def stderr(self) -> str:
        self.proc.wait(timeout=TIMEOUT_S)
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=TIMEOUT_S)


def start_listen(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mock_semble", "listen", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        preexec_fn=default_sigint,
    )


@contextmanager
def listening(url: str, *args: str) -> Iterator[Listener]:
    """``mock-semble listen --url URL ARGS``, connected; interrupted on the way out."""
    listener = Listener(start_listen("--url", url, *args))
    try:
        base = url.removesuffix("/graphql")
        assert listener.next_line() == f"listening on {base}"
        yield listener
    finally:
        if listener.proc.poll() is None:
            listener.proc.kill()
            listener.proc.wait(timeout=TIMEOUT_S)


@pytest.fixture
def server() -> Iterator[MockSembleServer]:
    with MockSembleServer(retry_schedule=(0.2,)) as started:
        yield started


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as started:
        yield started


def parsed(line: str) -> dict[str, str]:
    match = re.fullmatch(LINE, line)
    assert match, line
    return match.groupdict()


def test_new_deliveries_only_and_ctrl_c_exits_0(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    sub = server.create_webhook(receiver.url_for("/hooks"))
    past = [server.fire("patient.created")[0]["id"] for _ in range(2)]
    with listening(server.graphql_url) as listener:  # the /graphql URL is accepted
        (fired,) = server.fire("patient.created")
        first = parsed(listener.next_line())  # the first line is the new delivery's
        assert first == {
            "type": "patient.created",
            "sub": sub["id"],
            "status": "succeeded",
            "response": "200",
            "attempt": "1",
            "delivery": fired["id"],
        }
        assert first["delivery"] not in past
        assert listener.interrupt() == 0
        assert "Traceback" not in listener.stderr()


def test_a_retry_and_the_end_are_two_lines(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    server.create_webhook(receiver.url_for("/hooks"))
    receiver.respond_with(503, "busy", times=1)
    with listening(server.url) as listener:
        (fired,) = server.fire("patient.created", wait=False)
        retry, end = parsed(listener.next_line()), parsed(listener.next_line())
        assert listener.interrupt() == 0
    assert (retry["status"], retry["response"], retry["attempt"]) == ("retrying", "503", "1")
    assert (end["status"], end["response"], end["attempt"]) == ("succeeded", "200", "2")
    assert retry["delivery"] == end["delivery"] == fired["id"]


def test_json_lines_and_event_type_filter(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    sub = server.create_webhook(
        receiver.url_for("/hooks"), event_types=("PATIENT_CREATED", "PATIENT_UPDATED")
    )
    with listening(server.url, "--json", "--event-type", "PATIENT_UPDATED") as listener:
        server.fire("patient.created")  # not asked for: no line
        (updated,) = server.fire("patient.updated")
        entry = json.loads(listener.next_line())
        assert listener.interrupt() == 0
    assert entry["deliveryId"] == updated["id"]
    assert (entry["eventType"], entry["subscriptionId"]) == ("patient.updated", sub["id"])
    assert (entry["phase"], entry["status"], entry["responseStatus"]) == ("final", "succeeded", 200)
    assert (entry["attempt"], entry["error"], entry["signature"]) == (1, None, "valid")
    assert entry["time"] == updated["attempts"][0]["at"]


def test_admin_token() -> None:
    with MockSembleServer(admin_token=ADMIN) as server:
        refused = start_listen("--url", server.url)
        _, err = refused.communicate(timeout=TIMEOUT_S)
        assert refused.returncode == 2
        assert err.strip() == (
            "mock-semble: error: listen failed (401): missing or invalid x-mock-admin-token"
        )
        with listening(server.url, "--admin-token", ADMIN) as listener:
            assert listener.interrupt() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--url", "ftp://127.0.0.1:1"), "--url must be an http(s) URL of a mock-semble server"),
        (("--url", "http://127.0.0.1:1"), "cannot reach http://127.0.0.1:1"),
        (
            ("--url", "http://127.0.0.1:1", "--event-type", "patient.craeted"),
            "--event-type: unknown event type: 'patient.craeted' (did you mean 'patient.created'?)",
        ),
    ],
)
def test_bad_options_exit_2(args: tuple[str, ...], message: str) -> None:
    proc = start_listen(*args)
    out, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 2
    assert out == ""
    assert err.startswith(f"mock-semble: error: {message}"), err


def test_a_server_that_stops_ends_it_with_1(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "mock_semble", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(),
    )
    try:
        assert server.stdout is not None
        ready = server.stdout.readline()
        url = ready.split("ready: ", 1)[1].strip()
        with listening(url) as listener:
            server.terminate()
            assert server.wait(timeout=TIMEOUT_S) == 0
            assert listener.lines.get(timeout=TIMEOUT_S) is None  # stdout closed
            assert listener.proc.wait(timeout=TIMEOUT_S) == 1
            assert "closed the stream" in listener.stderr()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=TIMEOUT_S)
