"""Logging set-up and the access log: one line per request, never a secret.

The access line names method, path, operationName, status and duration only — no
headers, query strings or bodies, which is where tokens, secrets and signatures live.
"""

from __future__ import annotations

import logging
import re
import sys
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("mock_semble.access")


def configure_logging(level: str) -> None:
    """Our records on stderr; uvicorn's own access log stays off (it logs query strings)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("mock_semble")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # Libraries may log request lines with headers at DEBUG: keep them at INFO or above.
    for name in ("httpx", "httpcore", "hpack", "strawberry", "asyncio", "multipart"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger(name).level))


_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")


def printable(text: str, limit: int = 200) -> str:
    """User-controlled text made safe for a log line (no spaces or line breaks)."""
    return _UNPRINTABLE.sub("?", text[:limit])


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
            access_log.info(
                "%s %s op=%s status=%d %.1fms",
                scope["method"],
                printable(scope["path"]),
                printable(operation),
                status,
                (time.perf_counter() - started) * 1000,
            )
