"""Server processes: the CLI-started mock, the bare app, the delivery receiver.

Each is a real child process on a port it picks itself (``--port 0``); the harness reads
its one ready line (``... ready: http://HOST:PORT/...``) from stdout. ``started_at`` is
taken just before the process is spawned, so start-up figures include interpreter start,
imports and the app build, as a user's CI pays them.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

READY = re.compile(r"ready: (http://\S+)")
ROOT = Path(__file__).resolve().parent.parent
# Where ``python -m mock_semble`` is run from (its cwd comes first on sys.path), so a
# patched copy of the package can be measured against the same bare app: --mock-src.
MOCK_SOURCE = {"dir": ROOT}
START_TIMEOUT = 120.0  # a 10^5-subscription --state-file takes a few seconds to load


class ProcessError(RuntimeError):
    """A server that did not start (its stderr tail is in the message)."""


class ServerProcess:
    """One child server; use as a context manager so it is always stopped."""

    def __init__(self, name: str, argv: Sequence[str], cwd: Path = ROOT) -> None:
        self.name = name
        self.argv = list(argv)
        self.cwd = cwd
        self.url = ""
        self.base = ""
        self.started_at = 0.0
        self.ready_at = 0.0
        self.proc: subprocess.Popen[str] | None = None
        # A file, not a pipe: a pipe nobody reads could fill up and block the server.
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)

    def start(self) -> ServerProcess:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # Bytecode caching as a user has it (pip compiles on install): without it every
        # start would compile the package from source again.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            deadline = self.started_at + START_TIMEOUT
            while True:
                if not selector.select(timeout=max(0.0, deadline - time.perf_counter())):
                    self.stop()
                    raise ProcessError(f"{self.name}: no ready line in {START_TIMEOUT:g} s")
                line = self.proc.stdout.readline()
                if not line:
                    tail = self._stderr_tail()
                    self.stop()
                    raise ProcessError(f"{self.name} exited: {tail}")
                match = READY.search(line)
                if match:
                    break
        self.ready_at = time.perf_counter()
        self.url = match.group(1)
        self.base = self.url.rsplit("/", 1)[0] if self.url.endswith("/graphql") else self.url
        return self

    def _stderr_tail(self) -> str:
        assert self.proc is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self._stderr.seek(0)
        lines = self._stderr.read().strip().splitlines()
        return " | ".join(lines[-3:]) or f"exit code {self.proc.returncode}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_mb(self) -> float:
        """Resident set size (VmRSS of /proc/PID/status) in MiB."""
        return rss_mb(self.pid)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
        self._stderr.close()

    def __enter__(self) -> ServerProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ProcessError(f"no VmRSS for pid {pid}")


def mock_server(*flags: str) -> ServerProcess:
    """``python -m mock_semble serve --port 0 --log-level warning`` plus ``flags``."""
    argv = [sys.executable, "-m", "mock_semble", "serve", "--port", "0", "--log-level", "warning"]
    return ServerProcess("mock-semble", [*argv, *flags], cwd=MOCK_SOURCE["dir"])


def bare_server() -> ServerProcess:
    return ServerProcess("bare app", [sys.executable, "-m", "benchmarks.bare_app", "--port", "0"])


def receiver() -> ServerProcess:
    return ServerProcess("receiver", [sys.executable, "-m", "benchmarks.receiver", "--port", "0"])
