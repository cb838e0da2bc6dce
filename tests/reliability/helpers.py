"""Tools shared by the reliability suite: a CLI-started server, figures, GraphQL text.

Everything here talks to 127.0.0.1 only. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from mock_semble.testing.documents import (
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    GET_WEBHOOK,
    LIST_WEBHOOKS,
    UPDATE_WEBHOOK,
)

READY = "mock-semble ready: "
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0

# Full selections (mock_semble.testing.documents), so every answer can be compared with
# the store.
CREATE = CREATE_WEBHOOK
UPDATE = UPDATE_WEBHOOK
DELETE = DELETE_WEBHOOK
LIST = LIST_WEBHOOKS
GET = GET_WEBHOOK

EVENTS = ("PATIENT_CREATED", "PATIENT_UPDATED", "PATIENT_DELETED")
ALL_PERMISSIONS = ("seeWebhooks", "createWebhooks", "editWebhooks", "deleteWebhooks")
MSG_CONFLICT = "A webhook subscription with this url and an overlapping event type already exists"
MSG_NOT_FOUND = "Webhook not found"
MSG_DISABLED = "Webhooks are not enabled for this practice."


def env_number(name: str, default: float) -> float:
    """A tuning knob from the environment (e.g. a longer soak on a workstation)."""
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def url_key(url: str) -> str:
    """The duplicate rule's URL comparison (SPEC §1.4), written independently of rules.py
    for the URLs these tests use: scheme and host lower-cased, default port dropped."""
    scheme, _, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    host, _, port = netloc.rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
    scheme = scheme.lower()
    host = host.lower()
    if port and {"https": "443", "http": "80"}.get(scheme) == port:
        port = ""
    return f"{scheme}://{host}{':' + port if port else ''}{slash}{path}"


def conflicts(subs: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of live subscriptions of one practice that break the duplicate rule."""
    claims: dict[tuple[str, str, str], str] = {}
    found: list[tuple[str, str]] = []
    for sub in subs:
        if sub.get("deleted"):
            continue
        practice = str(sub.get("practiceId", ""))
        for event in sub["eventTypes"]:
            key = (practice, url_key(sub["url"]), event)
            if key in claims:
                found.append((claims[key], sub["id"]))
            else:
                claims[key] = sub["id"]
    return found


class Figures:
    """Figures of a run, merged into one JSON file (written after every record) so that
    docs/reliability.md can be written from a real run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, section: str, **values: Any) -> None:
        with self._lock:
            data: dict[str, Any] = {}
            if self.path.exists():
                with contextlib.suppress(ValueError):
                    data = json.loads(self.path.read_text())
            data.setdefault(
                "run",
                {
                    "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "command": " ".join(sys.argv),
                    "python": sys.version.split()[0],
                    "cpus": os.cpu_count(),
                },
            )
            data[section] = {**data.get(section, {}), **values}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


# The CLI's own path (flags -> Settings -> serve), plus Settings fields that have no
# flag yet (the delivery journal's size), given as JSON in argv[1].
SERVE_WITH_EXTRA = """
import dataclasses, json, sys
from mock_semble.cli import build_parser, serve, settings_from
extra = json.loads(sys.argv[1])
settings = settings_from(build_parser().parse_args(sys.argv[2:]))
sys.exit(serve(dataclasses.replace(settings, **extra)))
"""


def default_sigint() -> None:
    """Run in a child before exec: Ctrl-C as in a terminal. A shell starts background jobs
    with SIGINT ignored and Python keeps that, so a test run started with ``&`` would
    otherwise see its servers shrug off the SIGINT a test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class CliServer:
    """``python -m mock_semble serve --port 0 ARGS`` in its own process, stdout and
    stderr written to files (a full pipe would block the server's logging). ``extra``
    sets Settings fields that have no flag, through the CLI's own functions."""

    def __init__(
        self,
        *args: str,
        log_dir: Path,
        name: str = "server",
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.args = ["serve", "--port", "0", *args]
        self.command = [sys.executable, "-m", "mock_semble", *self.args]
        if extra:
            self.command = [sys.executable, "-c", SERVE_WITH_EXTRA, json.dumps(extra), *self.args]
        self.stdout_path = log_dir / f"{name}.stdout"
        self.stderr_path = log_dir / f"{name}.stderr"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.exit_code: int | None = None

    @property
    def graphql_url(self) -> str:
        return self.url + "/graphql"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = START_TIMEOUT) -> CliServer:
        self.stdout_path.parent.mkdir(parents=True, exist_ok=True)
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                self.command,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                preexec_fn=default_sigint,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout_path.read_text(errors="replace")
            if READY in text:
                line = text.split(READY, 1)[1].splitlines()[0]
                self.url = line.strip().removesuffix("/graphql")
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        raise AssertionError(f"server did not start: {self.logs()[-2000:]}")

    def rss_kib(self) -> int:
        """Resident set size from /proc/PID/status (VmRSS, in KiB)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS line")

    def logs(self) -> str:
        parts = [p.read_text(errors="replace") for p in (self.stdout_path, self.stderr_path)]
        return "\n".join(parts)

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; a server that does not exit in time is killed and the
        test fails."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"server did not exit within {timeout} s of SIGTERM") from None
        self.exit_code = self.proc.returncode
        return self.exit_code

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=kwargs.pop("timeout", 30.0), **kwargs)

    def __enter__(self) -> CliServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.terminate()


def write_config(path: Path, practices: list[dict[str, Any]], tokens: list[dict[str, Any]]) -> Path:
    """A TOML config file (SPEC §5) of practices and tokens."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    lines: list[str] = []
    for kind, items in (("practices", practices), ("tokens", tokens)):
        for item in items:
            lines.append(f"[[{kind}]]")
            lines.extend(f"{k} = {value(v)}" for k, v in item.items())
            lines.append("")
    path.write_text("\n".join(lines))
    return path


def graphql(
    client: httpx.Client,
    token: str | None,
    query: str,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """POST one operation; the decoded answer (any status), with ``_status`` added."""
    headers = {} if token is None else {"x-token": token}
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = dict(variables)
    response = client.post("/graphql", json=body, headers=headers)
    result: dict[str, Any] = response.json()
    result["_status"] = response.status_code
    return result
