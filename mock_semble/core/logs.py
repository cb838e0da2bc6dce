"""Logging set-up and the access log: one line per request, never a secret.

The access line names method, path, operationName, status and duration only — no
headers, query strings or bodies, which is where tokens, secrets and signatures live.
``--log-format json`` writes the same records as one JSON object per line: the same
message, plus the access line's values as fields.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("mock_semble.access")
# Start-up warnings print as their bare message in text format, so the line starts with
# "warning:" (SPEC §7); in JSON format they are records like any other.
startup_log = logging.getLogger("mock_semble.startup")
LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = "fields"  # the LogRecord attribute carrying a line's structured values


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and fields)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, object] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=True, default=str)


def configure_logging(level: str, log_format: str = "text") -> None:
    """Our records — and uvicorn's, so every line has one format — on stderr; uvicorn's
    own access log stays off (it logs query strings)."""
    handler = logging.StreamHandler(sys.stderr)
    json_lines = log_format == "json"
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger("mock_semble")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    bare = logging.StreamHandler(sys.stderr)
    bare.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(message)s"))
    startup_log.handlers[:] = [bare]
    startup_log.propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        server_log = logging.getLogger(name)
        server_log.handlers[:] = [handler] if name == "uvicorn" else []
        server_log.propagate = name != "uvicorn"
    accept_errors = logging.getLogger("asyncio")  # one line, not a traceback per socket
    if not any(isinstance(f, AcceptErrorFilter) for f in accept_errors.filters):
        accept_errors.addFilter(AcceptErrorFilter())
    # Libraries may log request lines with headers at DEBUG: keep them at INFO or above.
    for name in ("httpx", "httpcore", "hpack", "strawberry", "asyncio", "multipart"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger(name).level))


class AcceptErrorFilter(logging.Filter):
    """asyncio logs a traceback for every ``accept()`` that fails for lack of file
    descriptors; keep one line per 10 seconds instead."""

    def __init__(self) -> None:
        super().__init__()
        self._last = float("-inf")

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("socket.accept() out of system resource"):
            return True
        now = time.monotonic()
        if now - self._last < 10.0:
            return False
        self._last = now
        record.msg = "warning: cannot accept connections: out of file descriptors"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")


def printable(text: str, limit: int = 200) -> str:
    """User-controlled text made safe for a log line (no spaces or line breaks)."""
    return _UNPRINTABLE.sub("?", text[:limit])


def origin(url: str) -> str:
    """A URL as logs may show it: ``scheme://host:port`` only. User-info, path and query
    can carry credentials (``https://user:pw@…``, Slack-style ``/services/T0/B0/secret``)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<invalid url>"
    scheme = parts.scheme.lower() or "?"
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    if port is None:
        port = {"https": 443, "http": 80}.get(scheme)
    return printable(f"{scheme}://{host}" + (f":{port}" if port is not None else ""))


class AccessLog:
    """ASGI middleware writing the access line after each HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            state = scope.get("state") or {}
            operation = state.get("operation_name") or "-"
            method, path = scope["method"], printable(scope["path"])
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            fields = {
                "method": method,
                "path": path,
                "operationName": printable(operation),
                "status": status,
                "durationMs": duration_ms,
            }
            access_log.info(
                "%s %s op=%s status=%d %.1fms",
                method,
                path,
                fields["operationName"],
                status,
                duration_ms,
                extra={FIELDS: fields},
            )
