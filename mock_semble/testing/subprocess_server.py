"""A mock-semble server in a child process (``mock_semble_process = subprocess``).

An in-process server shares the test's GIL: every call pays for two busy threads
(~1.6 ms). In its own process a call costs what it costs over loopback (~0.35 ms).
The price: there is no ``.runtime`` white-box handle, and a reset is an HTTP call.

The child is ``python -m mock_semble.testing.subprocess_server OPTIONS_JSON READY_FILE``:
the same ``serve`` as the CLI, with Settings options as JSON, and ``--ready-file`` telling
the parent where it listens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

from ..cli import serve
from ..core.errors import ConfigError
from ..core.settings import Settings
from .server import MockSembleServer

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def options_json(settings: Settings, base: Settings) -> str:
    """The fields of ``settings`` that differ from ``base``, as JSON options."""
    changed = {
        name: getattr(settings, name)
        for name in settings.__dataclass_fields__
        if getattr(settings, name) != getattr(base, name)
    }
    if "practices" in changed or "tokens" in changed:
        raise ConfigError("a subprocess server takes its practices and tokens from a state_file")
    return json.dumps(changed, default=str)  # paths as strings, tuples as lists


class SubprocessServer(MockSembleServer):
    """A :class:`MockSembleServer` whose server runs in a child process."""

    _process: subprocess.Popen[bytes] | None = None
    _folder: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> SubprocessServer:
        base = Settings(port=0)
        quiet = self.settings
        if quiet.log_level == base.log_level:  # one access line per call would be costly
            quiet = Settings.from_options({"log_level": "warning"}, quiet)
        self._folder = tempfile.TemporaryDirectory(prefix="mock-semble-")
        folder = Path(self._folder.name)
        ready, errors = folder / "ready.json", folder / "stderr.log"
        with errors.open("wb") as stderr:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, options_json(quiet, base), str(ready)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready.is_file():
            if self._process.poll() is not None or time.monotonic() > deadline:
                detail = errors.read_text(errors="replace").strip().splitlines()
                self.stop()
                raise ConfigError(detail[-1] if detail else "mock-semble did not start")
            time.sleep(0.01)
        self.url = str(json.loads(ready.read_text())["url"])
        self.token, self.practice_id = _defaults(self.settings)
        return self

    def stop(self) -> None:
        self.close()
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()  # SIGTERM: a clean shutdown
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def runtime(self) -> NoReturn:
        raise AttributeError(
            "a mock-semble server in a subprocess has no .runtime; "
            "use mock_semble_process = thread for white-box access"
        )


def _defaults(settings: Settings) -> tuple[str | None, str | None]:
    """The default token and practice, as the child's runtime has them: the state file's
    first token, else the configured first token."""
    if settings.state_file is not None:
        tokens = json.loads(settings.state_file.read_text(encoding="utf-8")).get("tokens") or []
        if tokens:
            return str(tokens[0]["token"]), str(tokens[0]["practiceId"])
        return None, None
    if settings.tokens:
        return settings.tokens[0].token, settings.tokens[0].practice_id
    return None, None


def main(argv: list[str]) -> int:
    options, ready_file = json.loads(argv[0]), Path(argv[1])
    try:
        settings = Settings.from_options({**options, "host": "127.0.0.1", "port": 0})
        return serve(settings, ready_file=ready_file)
    except ConfigError as exc:
        print(f"mock-semble: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
