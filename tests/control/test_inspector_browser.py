"""The inspector page (SPEC §4.2) in a real headless Chromium against a real server.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package
(no ``playwright install``: the system Chromium is used). Skipped when either is missing,
unless ``MOCK_SEMBLE_REQUIRE_BROWSER=1``, which turns the skip into a failure.
Screenshots of the main views are saved in the test's tmp dir (CI keeps them).
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from api.test_graphiql_browser import CHROMIUM, _drain

import mock_semble
from mock_semble import WebhookReceiver
from mock_semble.testing import MockSembleClient

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_S = 30.0
PATIENT_ID = "0123456789abcdef01234567"
ADMIN = "browser-admin-token"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser_ready() -> None:
    reason = None
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} not found (apt-get install -y chromium)"
    elif importlib.util.find_spec("playwright") is None:
        reason = "playwright is not installed (pip install playwright)"
    if reason is None:
        return
    if os.environ.get("MOCK_SEMBLE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"MOCK_SEMBLE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@contextmanager
def served(tmp_path: Path, *args: str) -> Iterator[str]:
    """``python -m mock_semble serve --port 0 ARGS``; yields the base URL."""
    root = str(Path(mock_semble.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    stderr_path = tmp_path / "server.stderr"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mock_semble",
                "serve",
                "--port",
                "0",
                "--allow-http-localhost",
                *args,
            ],
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
        line = lines.get(timeout=TIMEOUT_S)
        assert line and line.startswith("mock-semble ready: "), stderr_path.read_text()[-2000:]
        yield line.split("ready: ", 1)[1].strip().removesuffix("/graphql")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Watched:
    """A browser context that may reach only the mock, recording requests and problems."""

    def __init__(self, browser: Any, host: str, viewport: dict[str, int]) -> None:
        self.host = host
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.context = browser.new_context(viewport=viewport)
        self.context.route("**/*", self._offline_only)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_S * 1000)
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("websocket", lambda socket: self.requests.append(socket.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))

    def _offline_only(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname == self.host:
            route.continue_()
        else:
            route.abort()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console {message.type}: {message.text}")

    def leaving(self) -> list[str]:
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme in {"http", "https", "ws", "wss"}
            and urlsplit(url).hostname != self.host
        ]

    def fits_width(self) -> bool:
        return bool(self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => !el.closest('[hidden]'))
  .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label'))
  .map((el) => el.id || el.outerHTML.slice(0, 80))"""


def test_fire_inspect_and_redeliver(browser_ready: None, tmp_path: Path) -> None:
    with (
        served(tmp_path) as url,
        WebhookReceiver() as receiver,
        closing(MockSembleClient(url)) as mock,
    ):
        sub = mock.create_webhook(receiver.url_for("/hooks"), label="browser receiver")
        host = urlsplit(url).hostname
        assert host == "127.0.0.1"
        with chromium() as browser:
            watched = Watched(browser, host, DESKTOP)
            page = watched.page
            response = page.goto(url + "/__mock/ui", wait_until="load")
            assert response is not None and response.status == 200
            page.wait_for_selector('#connection[data-state="live"]')
            page.wait_for_selector("#fire-practice option", state="attached")
            assert page.evaluate(UNLABELLED) == []

            # fire an event from the form, with identifiers typed in
            assert page.input_value("#fire-type") == "patient.created"
            page.fill("#fire-identifiers", "{not json")  # refused on the page, nothing sent
            page.click("#fire-form button[type=submit]")
            page.wait_for_selector('#fire-result[data-kind="error"]')
            assert "not a JSON object" in page.inner_text("#fire-result")
            assert page.get_attribute("#fire-identifiers", "aria-invalid") == "true"
            assert mock.deliveries() == []
            page.fill("#fire-identifiers", json.dumps({"patientId": PATIENT_ID}))
            page.click("#fire-form button[type=submit]")
            page.wait_for_selector('#delivery-detail [data-signature="valid"]')
            assert page.inner_text("#fire-result") == "Fired patient.created: 1 delivery."
            detail = page.inner_text("#delivery-detail")
            assert "succeeded" in detail and PATIENT_ID in detail
            assert '"patientId": "' + PATIENT_ID + '"' in page.inner_text(
                "#delivery-detail pre.body"
            )
            first_id = mock.deliveries()[0]["id"]
            assert first_id in detail
            (got,) = receiver.wait_for(1)
            assert json.loads(got.body)["identifiers"] == {"patientId": PATIENT_ID}
            assert sub["secret"] not in page.content()  # never shown unless asked
            page.screenshot(path=str(tmp_path / "inspector-deliveries.png"))

            # redeliver it: a new entry, same event id, freshly signed and valid
            page.click('#delivery-detail button:has-text("Redeliver")')
            page.wait_for_function(
                "(first) => document.querySelectorAll('#delivery-rows tr').length === 2"
                " && !document.getElementById('delivery-detail').innerText.includes(first)"
                " && !!document.querySelector('#delivery-detail [data-signature=\"valid\"]')",
                arg=first_id,
            )
            second, again = receiver.wait_for(2)
            assert json.loads(again.body)["eventId"] == json.loads(second.body)["eventId"]
            assert page.inner_text("#detail-result").startswith("Redelivered as ")

            # the secret only on a click
            page.click('#delivery-detail button:has-text("Reveal secret")')
            page.wait_for_selector("#delivery-detail .secret code")
            assert page.inner_text("#delivery-detail .secret code") == sub["secret"]
            page.click('#delivery-detail button:has-text("Hide secret")')
            page.wait_for_selector("#delivery-detail .secret", state="detached")

            # keyboard: a row opens with Enter; the tabs move with the arrow keys
            page.focus("#delivery-rows tr:last-child button")
            page.keyboard.press("Enter")
            page.wait_for_function(
                "(first) => document.getElementById('delivery-detail').innerText.includes(first)",
                arg=first_id,
            )
            page.focus("#tab-deliveries")
            page.keyboard.press("ArrowRight")
            assert page.get_attribute("#tab-practices", "aria-selected") == "true"
            assert page.evaluate("document.activeElement.id") == "tab-practices"
            assert page.is_visible("#practices >> text=browser receiver")
            page.screenshot(path=str(tmp_path / "inspector-practices.png"))
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            assert page.get_attribute("#tab-requests", "aria-selected") == "true"
            page.wait_for_selector("#request-rows td:has-text('CreateWebhook')")
            page.screenshot(path=str(tmp_path / "inspector-requests.png"))
            assert watched.fits_width()

            # clock and journals from the control panel
            page.click("#clock-freeze")
            page.wait_for_selector("#clock-state:has-text('frozen at')")
            assert mock.clock()["frozen"] is True
            page.click("#clock-unfreeze")
            page.wait_for_selector("#clock-state:has-text('real time')")
            page.click("#tab-deliveries")
            page.click("#clear-journals")
            page.wait_for_selector("#deliveries-empty", state="visible")
            assert mock.deliveries() == []

            # reset one practice (its subscription goes), then everything
            page.select_option("#reset-scope", mock.practice_id)
            page.click("#reset-button")
            page.wait_for_selector(
                f"#control-result:has-text('Practice {mock.practice_id} reset.')"
            )
            assert mock.state()["subscriptions"] == []
            page.select_option("#reset-scope", "")
            page.click("#reset-button")
            page.wait_for_selector("#control-result:has-text('Everything reset.')")

            phone = Watched(browser, host, PHONE)
            phone.page.goto(url + "/__mock/ui", wait_until="load")
            phone.page.wait_for_selector('#connection[data-state="live"]')
            phone.page.screenshot(path=str(tmp_path / "inspector-phone.png"), full_page=True)
            assert phone.fits_width()
            phone.context.close()
            watched.context.close()

    for seen in (watched, phone):
        assert not seen.leaving(), f"requests left {host}: {seen.leaving()}"
        assert not seen.problems, seen.problems
    assert any(u.endswith("/__mock/ui/inspector.js") for u in watched.requests)
    print(f"inspector screenshots: {tmp_path}")


def test_admin_token_is_asked_for_and_sent(browser_ready: None, tmp_path: Path) -> None:
    with served(tmp_path, "--admin-token", ADMIN) as url:
        host = urlsplit(url).hostname
        assert host is not None
        with chromium() as browser:
            watched = Watched(browser, host, DESKTOP)
            page = watched.page
            data_calls: list[dict[str, str]] = []
            page.on(
                "request",
                lambda r: data_calls.append(r.headers) if "/__mock/stream" in r.url else None,
            )
            page.goto(url + "/__mock/ui", wait_until="load")
            page.wait_for_selector("#token-input:focus")  # asked before any data call
            assert data_calls == []
            page.fill("#token-input", ADMIN)
            page.keyboard.press("Enter")
            page.wait_for_selector('#connection[data-state="live"]')
            page.wait_for_selector("#practices h2:has-text('Mock Practice')", state="attached")
            assert data_calls and all(h.get("x-mock-admin-token") == ADMIN for h in data_calls)
            watched.context.close()
    assert not watched.leaving()
    assert not watched.problems, watched.problems
