"""A real ``mock-semble serve`` for the examples: its own process on a free port, found
through ``--ready-file``, stopped with SIGTERM (its whole process group)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
DOC_PORT = "127.0.0.1:8000"  # the address the docs show; replaced by the live one


def clean_env(url: str | None = None) -> dict[str, str]:
    """The environment of an example: this venv first on PATH, no MOCK_SEMBLE_* setting
    of the caller's (it would change flags), ``MOCK_SEMBLE_URL`` = the live server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_SEMBLE_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("COLUMNS", None)
    if url is not None:
        env["MOCK_SEMBLE_URL"] = url
    return env


def stop_group(process: subprocess.Popen[Any]) -> None:
    """SIGTERM to the process group we started, then SIGKILL if it lingers."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


class LiveServer:
    def __init__(self, flags: Sequence[str] = ()) -> None:
        self.flags = list(flags)
        self._dir = tempfile.TemporaryDirectory(prefix="mock-semble-docs-")
        ready = Path(self._dir.name) / "ready.json"
        self.log = Path(self._dir.name) / "server.log"
        command = [str(BIN / "mock-semble"), "serve", *self.flags]
        command += ["--port", "0", "--ready-file", str(ready)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=clean_env(),
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not ready.exists() or not ready.read_text().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"mock-semble serve {' '.join(self.flags)} did not start:\n"
                    + self.log.read_text(errors="replace")
                )
            time.sleep(0.05)
        document = json.loads(ready.read_text())
        self.url: str = document["url"].rstrip("/")
        self.address = self.url.removeprefix("http://")

    def substitute(self, text: str) -> str:
        return text.replace(DOC_PORT, self.address).replace("localhost:8000", self.address)

    def stop(self) -> None:
        stop_group(self.process)
        self._dir.cleanup()
