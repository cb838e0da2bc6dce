"""The inspector's HTTP side (SPEC §4, §4.2): the page and its assets, ``/__mock/stream``
(server-sent events), ``/__mock/view`` and the secret reveal, with and without
``--admin-token``. Expected values are written from SPEC, not imported from the code."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

import mock_semble
from mock_semble import WebhookReceiver
from mock_semble.testing import MockSembleServer

ADMIN = "inspector-admin-0123"
DEFAULT_PRACTICE = "000000000000000000000001"
DENIED = {"error": "missing or invalid x-mock-admin-token"}
ASSETS = {
    "inspector.js": "text/javascript",
    "render.js": "text/javascript",
    "stream.js": "text/javascript",
    "fire-form.js": "text/javascript",
    "inspector.css": "text/css",
}
HEX24 = re.compile(r"[0-9a-f]{24}")

Event = tuple[str, Any]


class EventStream:
    """``GET /__mock/stream`` read line by line; every read is bounded by httpx's timeout."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()
        self.text = ""  # everything read, to prove what never appears

    def next(self) -> Event:
        name, data = "message", []
        for line in self._lines:
            self.text += line + "\n"
            if not line:
                if data:
                    return name, json.loads("\n".join(data))
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        raise AssertionError("the stream ended")

    def until(self, wanted: Callable[[str, Any], bool], limit: int = 200) -> Event:
        for _ in range(limit):
            event = self.next()
            if wanted(*event):
                return event
        raise AssertionError(f"no matching event in {limit}")


@contextmanager
def stream(
    server: MockSembleServer, params: dict[str, str] | None = None, token: str | None = None
) -> Iterator[EventStream]:
    headers = {"accept": "text/event-stream"}
    if token is not None:
        headers["x-mock-admin-token"] = token
    with (
        httpx.Client(base_url=server.url, timeout=10.0) as client,
        client.stream("GET", "/__mock/stream", params=params, headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response)


def delivery_event(phase: str, delivery_id: str | None = None) -> Callable[[str, Any], bool]:
    def wanted(event: str, data: Any) -> bool:
        return (
            event == "delivery"
            and data["phase"] == phase
            and (delivery_id is None or data["delivery"]["id"] == delivery_id)
        )

    return wanted


@pytest.fixture
def server() -> Iterator[MockSembleServer]:
    with MockSembleServer(retry_schedule=(0.2,)) as started:
        yield started


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as started:
        yield started


# -- the page -----------------------------------------------------------------------------


def test_page_and_assets_are_local_and_locked_down(server: MockSembleServer) -> None:
    page = httpx.get(server.url + "/__mock/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert '<script type="module" src="/__mock/ui/inspector.js">' in page.text
    assert '<meta name="mock-semble-admin-token" content="none">' in page.text
    for name, kind in ASSETS.items():
        asset = httpx.get(f"{server.url}/__mock/ui/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(kind), name
        # no CDN, no remote font or script: nothing but this server
        assert not re.search(r"https?://", asset.text), name
    assert not re.search(r"(src|href)=\"https?://", page.text)
    shipped = Path(mock_semble.__file__).parent / "static" / "inspector"
    assert {p.name for p in shipped.iterdir() if p.suffix in (".js", ".css")} == set(ASSETS)
    missing = httpx.get(server.url + "/__mock/ui/..%2F..%2Fcli.py")
    assert missing.status_code == 404
    unknown = httpx.get(server.url + "/__mock/ui/index.html")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"error": "unknown inspector asset: index.html"},
    )


def test_graphiql_links_to_the_inspector(server: MockSembleServer) -> None:
    page = httpx.get(server.url + "/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert 'href="/__mock/ui"' in page.text


# -- the admin token --------------------------------------------------------------------


def test_with_an_admin_token_only_the_page_and_assets_are_open() -> None:
    with MockSembleServer(admin_token=ADMIN) as server:
        page = httpx.get(server.url + "/__mock/ui")
        assert page.status_code == 200
        assert '<meta name="mock-semble-admin-token" content="required">' in page.text
        assert ADMIN not in page.text
        for name in ASSETS:
            assert httpx.get(f"{server.url}/__mock/ui/{name}").status_code == 200
        sub = server.create_webhook("https://hooks.example/admin")
        guarded = [
            ("GET", "/__mock/stream"),
            ("GET", "/__mock/view"),
            ("GET", f"/__mock/view/subscriptions/{sub['id']}/secret"),
            ("POST", "/__mock/ui"),  # only GET is open
            ("DELETE", "/__mock/ui/inspector.js"),
        ]
        for method, path in guarded:
            for given in ({}, {"x-mock-admin-token": ADMIN + "x"}):
                headers = {"accept": "text/event-stream", **given}
                answer = httpx.request(method, server.url + path, headers=headers)
                assert (answer.status_code, answer.json()) == (401, DENIED), (method, path)
        with stream(server, token=ADMIN) as events:
            name, hello = events.next()
            assert name == "hello" and hello["version"]
        shown = httpx.get(
            f"{server.url}/__mock/view/subscriptions/{sub['id']}/secret",
            headers={"x-mock-admin-token": ADMIN},
        )
        assert shown.json() == {"subscriptionId": sub["id"], "secret": sub["secret"]}


# -- the stream ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "headers", "status", "message"),
    [
        ({}, {}, 406, "this is an event stream: send 'Accept: text/event-stream'"),
        ({"topics": "world,bogus"}, None, 400, "'topics' must list some of"),
        ({"topics": ""}, None, 400, "'topics' must list some of"),
        ({"replay": "-1"}, None, 400, "'replay' must be an integer from 0 to 500"),
        ({"replay": "501"}, None, 400, "'replay' must be an integer from 0 to 500"),
        ({"since": "1"}, None, 400, "unknown query parameter(s): since"),
    ],
)
def test_bad_stream_requests_are_refused(
    server: MockSembleServer,
    params: dict[str, str],
    headers: dict[str, str] | None,
    status: int,
    message: str,
) -> None:
    sent = {"accept": "text/event-stream"} if headers is None else headers
    answer = httpx.get(server.url + "/__mock/stream", params=params, headers=sent)
    assert answer.status_code == status
    assert answer.json()["error"].startswith(message)


def test_stream_shows_world_requests_and_signed_deliveries(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    with stream(server) as events:
        name, hello = events.next()
        assert name == "hello"
        types = {spec["type"]: spec for spec in hello["eventTypes"]}
        assert types["patient.created"]["required"] == ["patientId"]
        assert "webhook.event.deliveryFailed" in types
        assert hello["signingScheme"] == "semble"
        assert hello["faults"] is True  # /__mock/faults is served
        _, world = events.until(lambda n, _: n == "world")
        assert world["defaultPracticeId"] == DEFAULT_PRACTICE
        assert [p["id"] for p in world["practices"]] == [DEFAULT_PRACTICE]
        assert world["clock"] == {"frozen": False, "frozenAt": None, "offsetSeconds": 0.0}

        sub = server.create_webhook(
            receiver.url_for("/hooks"), label="inspected", headers={"Authorization": "Bearer s3"}
        )
        _, world = events.until(lambda n, d: n == "world" and d["practices"][0]["subscriptions"])
        shown = world["practices"][0]["subscriptions"][0]
        assert shown["id"] == sub["id"] and shown["label"] == "inspected"
        assert shown["eventTypes"] == ["patient.created"]
        assert (shown["paused"], shown["deleted"], shown["headerNames"]) == (
            False,
            False,
            ["Authorization"],
        )
        _, requests = events.until(lambda n, d: n == "requests" and d["count"] >= 1)
        assert requests["requests"][0]["operationName"] == "CreateWebhook"

        fired = server.fire("patient.created", wait=False)
        assert len(fired) == 1
        _, final = events.until(delivery_event("final", fired[0]["id"]))
        delivery = final["delivery"]
        assert delivery["status"] == "succeeded" and final["attempt"] == 1
        attempt = delivery["attempts"][0]
        assert attempt["responseStatus"] == 200
        assert attempt["signatureCheck"]["result"] == "valid"
        # what the receiver got is what the stream shows
        got = receiver.wait_for(1)[0]
        assert got.body.decode() == delivery["body"]
    assert sub["secret"] not in events.text  # never a secret


def test_patients_appear_in_the_world(server: MockSembleServer) -> None:
    with stream(server, {"topics": "world"}) as events:
        assert events.next()[0] == "hello"
        events.until(lambda n, _: n == "world")
        patient = server.create_patient("Ada", "Lovelace")
        _, world = events.until(
            lambda n, d: n == "world" and d["practices"][0]["patients"]["count"]
        )
    patients = world["practices"][0]["patients"]
    assert patients["count"] == 1
    newest = patients["newest"][0]
    assert (newest["id"], newest["firstName"], newest["lastName"]) == (
        patient["id"],
        "Ada",
        "Lovelace",
    )


@pytest.mark.parametrize(
    ("fault", "result"),
    [("bad_signature", "invalid"), ("missing_signature", "missing"), ("stale_timestamp", "stale")],
)
def test_signature_faults_are_marked(
    server: MockSembleServer, receiver: WebhookReceiver, fault: str, result: str
) -> None:
    server.create_webhook(receiver.url_for("/hooks"))
    with stream(server, {"topics": "deliveries"}) as events:
        assert events.next()[0] == "hello"
        fired = server.fire("patient.created", wait=False, fault=fault)
        _, final = events.until(delivery_event("final", fired[0]["id"]))
    assert final["delivery"]["attempts"][0]["signatureCheck"]["result"] == result


def test_retries_are_announced_once_each(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    server.create_webhook(receiver.url_for("/hooks"))
    receiver.respond_with(500, "boom", times=1)
    with stream(server, {"topics": "deliveries"}) as events:
        assert events.next()[0] == "hello"
        fired = server.fire("patient.created", wait=False)
        _, retry = events.until(delivery_event("retry_scheduled", fired[0]["id"]))
        assert retry["attempt"] == 1
        assert retry["delivery"]["attempts"][0]["responseStatus"] == 500
        assert retry["delivery"]["attempts"][0]["responseBody"] == "boom"
        phases = []
        while not phases or phases[-1] != "final":
            name, data = events.next()
            if name == "delivery":
                phases.append(data["phase"])
    assert "retry_scheduled" not in phases  # the one retry was announced once
    assert data["attempt"] == 2 and data["delivery"]["status"] == "succeeded"


def test_past_deliveries_are_not_replayed_unless_asked(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    server.create_webhook(receiver.url_for("/hooks"))
    old = [server.fire("patient.created")[0]["id"] for _ in range(3)]
    with stream(server, {"topics": "deliveries"}) as events:
        assert events.next()[0] == "hello"
        new = server.fire("patient.updated", wait=False)
        assert new == []  # the subscription does not list it: nothing
        fresh = server.fire("patient.created", wait=False)[0]["id"]
        seen = []
        while fresh not in seen or seen[-1] != fresh:
            name, data = events.next()
            if name == "delivery":
                seen.append(data["delivery"]["id"])
        assert not set(old) & set(seen)
    with stream(server, {"topics": "deliveries", "replay": "2"}) as events:
        assert events.next()[0] == "hello"
        replayed = [events.next() for _ in range(2)]
    assert [d["phase"] for _, d in replayed] == ["replay", "replay"]
    assert [d["delivery"]["id"] for _, d in replayed] == [old[2], fresh]


def test_cleared_deliveries_are_announced_as_removed(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    server.create_webhook(receiver.url_for("/hooks"))
    with stream(server, {"topics": "deliveries"}) as events:
        assert events.next()[0] == "hello"
        fired = server.fire("patient.created", wait=False)[0]["id"]
        events.until(delivery_event("final", fired))
        server.clear_deliveries()
        _, removed = events.until(lambda n, _: n == "removed")
    assert removed == {"ids": [fired]}


def test_record_mode_attempts_are_signed_and_checked(receiver: WebhookReceiver) -> None:
    with MockSembleServer(delivery_mode="record") as server:
        server.create_webhook(receiver.url_for("/hooks"))
        fired = server.fire("patient.created")[0]
        view = httpx.get(server.url + "/__mock/view").json()
    (delivery,) = view["deliveries"]
    assert delivery["id"] == fired["id"] and delivery["status"] == "recorded"
    attempt = delivery["attempts"][0]
    assert attempt["responseStatus"] is None
    assert attempt["signatureCheck"]["result"] == "valid"


# -- the JSON view and the reveal ----------------------------------------------------------------


def test_view_is_one_snapshot(server: MockSembleServer, receiver: WebhookReceiver) -> None:
    sub = server.create_webhook(receiver.url_for("/hooks"))
    ids = [server.fire("patient.created")[0]["id"] for _ in range(3)]
    view = httpx.get(server.url + "/__mock/view").json()
    assert {"version", "eventTypes", "world", "requests", "deliveries", "faults"} <= set(view)
    assert [d["id"] for d in view["deliveries"]] == ids
    assert all(d["attempts"][0]["signatureCheck"]["result"] == "valid" for d in view["deliveries"])
    assert sub["secret"] not in json.dumps(view)
    newest = httpx.get(server.url + "/__mock/view", params={"limit": "1"}).json()
    assert [d["id"] for d in newest["deliveries"]] == ids[-1:]
    refused = httpx.get(server.url + "/__mock/view", params={"limit": "x"})
    assert refused.status_code == 400


def test_secret_is_revealed_only_on_request(server: MockSembleServer) -> None:
    sub = server.create_webhook("https://hooks.example/reveal")
    shown = httpx.get(f"{server.url}/__mock/view/subscriptions/{sub['id']}/secret")
    assert shown.json() == {"subscriptionId": sub["id"], "secret": sub["secret"]}
    assert shown.headers["cache-control"] == "no-store"
    unknown = httpx.get(f"{server.url}/__mock/view/subscriptions/{'0' * 24}/secret")
    assert unknown.status_code == 404
    assert HEX24.fullmatch(sub["id"])


def test_an_open_stream_does_not_hold_a_shutdown() -> None:
    server = MockSembleServer().start()
    with stream(server, {"topics": "deliveries"}) as events:
        assert events.next()[0] == "hello"
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        with pytest.raises(AssertionError, match="the stream ended"):
            events.next()  # ends rather than waiting for the read timeout
        stopping.join(timeout=30)
        assert not stopping.is_alive()
        assert not server.running
