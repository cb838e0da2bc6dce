"""GraphiQL in a real headless Chromium against the real server, fully offline.

Needs Debian's ``chromium`` (``/usr/bin/chromium``), the ``playwright`` Python package (no
``playwright install``: the system Chromium is used) and the vendored GraphiQL assets
(``python scripts/fetch_graphiql_assets.py``). Skipped when any is missing, unless
``MOCK_SEMBLE_REQUIRE_BROWSER=1``, which turns the skip into a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import pytest

import mock_semble
from mock_semble.api import graphiql

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY = re.compile(r"mock-semble ready: (?P<url>https?://\S+)")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIMEOUT_S = 30.0


def _missing_prerequisite() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    if not graphiql.assets_installed():
        return "GraphiQL assets not installed (python scripts/fetch_graphiql_assets.py)"
    return None


@pytest.fixture
def browser_prerequisites() -> None:
    reason = _missing_prerequisite()
    if reason is None:
        return
    if os.environ.get("MOCK_SEMBLE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"MOCK_SEMBLE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _drain(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """Start ``python -m mock_semble serve --port 0``; yield the URL from its ready line."""
    package_root = str(Path(mock_semble.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    stderr_path = tmp_path / "server.stderr"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mock_semble", "serve", "--port", "0"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_drain, args=(proc.stdout, lines), daemon=True).start()
    try:
        deadline = time.monotonic() + TIMEOUT_S
        url: str | None = None
        seen: list[str] = []
        while url is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"server not ready after {TIMEOUT_S}s; stdout: {seen!r}")
            if line is None:
                proc.wait(timeout=5)
                pytest.fail(
                    f"server exited ({proc.returncode}) before ready; stdout: {seen!r}; "
                    f"stderr: {stderr_path.read_text()[-2000:]}"
                )
            seen.append(line)
            match = READY.search(line)
            if match:
                url = match["url"]
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


_EDITOR_VALUE_JS = """
(selector) => {
  const el = document.querySelector(selector + " .CodeMirror");
  return el && el.CodeMirror ? el.CodeMirror.getValue() : null;
}
"""


def test_graphiql_runs_sample_query_offline(
    browser_prerequisites: None, server_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import ConsoleMessage, Request, Route, WebSocket, sync_playwright

    host = urlsplit(server_url).hostname
    assert host in LOOPBACK, server_url
    requests: list[str] = []
    posts: list[dict[str, str]] = []
    problems: list[str] = []

    def on_request(request: Request) -> None:
        requests.append(request.url)
        if request.method == "POST":
            posts.append(request.headers)

    def on_websocket(socket: WebSocket) -> None:
        requests.append(socket.url)

    def offline_only(route: Route) -> None:  # never let the page reach the network
        if urlsplit(route.request.url).hostname == host:
            route.continue_()
        else:
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.route("**/*", offline_only)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_S * 1000)
            page.on("request", on_request)
            page.on("websocket", on_websocket)
            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))

            response = page.goto(server_url, wait_until="load")
            assert response is not None and response.status == 200
            assert "text/html" in response.headers["content-type"]
            page.wait_for_selector(".graphiql-container .graphiql-query-editor .CodeMirror")
            page.wait_for_function("() => !!document.querySelector('.graphiql-execute-button')")
            query = page.evaluate(_EDITOR_VALUE_JS, ".graphiql-query-editor")
            assert query is not None and "query ListWebhooks" in query
            headers = page.evaluate(
                _EDITOR_VALUE_JS, ".graphiql-editor-tool .graphiql-editor:not(.hidden)"
            )
            assert headers is not None and json.loads(headers) == {"x-token": "test-token"}

            page.click(".graphiql-execute-button")
            page.wait_for_function(
                "(selector) => {"
                "  const el = document.querySelector(selector);"
                "  return !!(el && el.CodeMirror && el.CodeMirror.getValue().includes("
                "'\"webhooks\"'));"
                "}",
                arg=".graphiql-response .CodeMirror",
            )
            result = page.evaluate(_EDITOR_VALUE_JS, ".graphiql-response")
            shot = tmp_path / "graphiql.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"GraphiQL screenshot: {shot}")
        finally:
            browser.close()

    assert result is not None
    body = json.loads(result)
    assert "errors" not in body, body
    assert isinstance(body["data"]["webhooks"], list)
    assert any(p.get("x-token") == "test-token" for p in posts), posts

    leaving = [
        url
        for url in requests
        if urlsplit(url).scheme in {"http", "https", "ws", "wss"} and urlsplit(url).hostname != host
    ]
    assert not leaving, f"requests left {host}: {leaving}"
    assert any("/graphiql/assets/graphiql-3.8.3.min.js" in url for url in requests)
    assert not problems, problems
