"""Deliveries sent by a live mock to real scripted receivers (SPEC §2.2, §2.4).

Retry schedules are tens of milliseconds so the suite stays fast; the control-plane
clock is used only where a test needs distinct signature timestamps.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from driver import Driver, closed_port

from mock_semble import verify
from mock_semble.app import create_app, create_runtime
from mock_semble.core.events import Event
from mock_semble.core.settings import Settings
from mock_semble.delivery.engine import engine_of
from mock_semble.testing import MockSembleServer
from mock_semble.testing.receiver import ReceivedRequest, Reply, Responder, WebhookReceiver
from mock_semble.webhooks import subscriptions_of

FAST = (0.05, 0.05)
PATIENT = "abcdef0123456789abcdef01"
LiveServer = Callable[..., MockSembleServer]


@pytest.fixture
def mock(live_server: LiveServer) -> Iterator[Callable[..., Driver]]:
    """``mock(**settings)`` starts a live mock and returns a driver for it."""
    drivers: list[Driver] = []

    def start(**options: Any) -> Driver:
        options.setdefault("retry_schedule", FAST)
        driver = Driver(live_server(allow_http_localhost=True, **options))
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        driver.close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., WebhookReceiver]]:
    """``receiver(script, default=Reply(...))``: each of ``script`` answers one request,
    then ``default`` (without one: 200 ok) answers every later one."""
    started: list[WebhookReceiver] = []

    def start(
        script: list[Reply | Responder] | None = None,
        default: Reply | None = None,
        **options: Any,
    ) -> WebhookReceiver:
        r = WebhookReceiver(**options).start()
        for reply in script or []:
            r.respond_with(reply, times=1)
        if default is not None:
            r.respond_with(default)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


def statuses(delivery: dict[str, Any]) -> list[int | None]:
    return [a["responseStatus"] for a in delivery["attempts"]]


def event_of(request: ReceivedRequest) -> dict[str, Any]:
    return json.loads(request.body)  # type: ignore[no-any-return]


def test_delivery_is_signed_ordered_and_byte_exact(mock: Any, receiver: Any) -> None:
    r = receiver(default=Reply(200, b"thanks", {"Set-Cookie": "session=abc; Path=/"}))
    m = mock()
    sub = m.subscribe(r.url + "/hooks/in?tenant=1", headers=[("X-One", "1"), ("x-two", "2")])
    [first] = m.fire(wait=True, identifiers={"patientId": PATIENT})
    [second] = m.fire(wait=True)
    one, two = r.wait_for(2)

    assert one.path == "/hooks/in?tenant=1"
    # Only the SPEC's headers, in its order; Host and Content-Length come from HTTP itself,
    # and the receiver's cookie is never sent back.
    assert [k for k, _ in two.raw_headers] == [
        "Host",
        "Content-Type",
        "User-Agent",
        "X-One",
        "x-two",
        "X-Webhook-Signature",
        "X-Webhook-Timestamp",
        "Content-Length",
    ]
    for request, delivery in [(one, first), (two, second)]:
        assert request.body == delivery["body"].encode()
        verify(request.body, request.headers, sub["secret"])  # real time, 300 s tolerance
        sent = delivery["attempts"][0]["requestHeaders"]
        assert {k: request.headers.get(k) for k in sent} == sent
        assert event_of(request)["eventId"] == delivery["eventId"]
    assert first["status"] == "succeeded"
    [attempt] = first["attempts"]
    assert (attempt["responseStatus"], attempt["responseBody"], attempt["error"]) == (
        200,
        "thanks",
        None,
    )
    assert isinstance(attempt["durationMs"], float) and attempt["durationMs"] >= 0
    assert event_of(one)["identifiers"] == {"patientId": PATIENT}


def test_failures_are_retried_with_the_same_event_id(mock: Any, receiver: Any) -> None:
    r = receiver([Reply(500, b"boom"), Reply(502)], default=Reply(200))
    m = mock()
    sub = m.subscribe(r.url)
    [delivery] = m.fire(wait=True)
    requests = r.wait_for(3)
    assert delivery["status"] == "succeeded"
    assert statuses(delivery) == [500, 502, 200]
    assert [a["number"] for a in delivery["attempts"]] == [1, 2, 3]
    assert delivery["attempts"][0]["responseBody"] == "boom"
    assert {req.body for req in requests} == {delivery["body"].encode()}
    assert {event_of(req)["eventId"] for req in requests} == {delivery["eventId"]}
    for req in requests:
        verify(req.body, req.headers, sub["secret"])


def test_each_attempt_is_signed_with_its_own_timestamp(mock: Any, receiver: Any) -> None:
    m = mock()

    def advance(_: ReceivedRequest) -> Reply:
        m.server.advance_clock(120)  # the server's own client: the driver's is busy firing
        return Reply(500)

    r = receiver([advance], default=Reply(200))
    sub = m.subscribe(r.url)
    m.client.freeze_clock("2030-01-01T00:00:00Z")
    [delivery] = m.fire(wait=True)
    first, second = r.wait_for(2)
    stamps = [int(req.headers.get("X-Webhook-Timestamp") or 0) for req in (first, second)]
    assert stamps == [1893456000, 1893456120]
    assert first.headers["X-Webhook-Signature"] != second.headers["X-Webhook-Signature"]
    for req, stamp in zip((first, second), stamps, strict=True):
        verify(req.body, req.headers, sub["secret"], now=stamp)
    ats = [datetime.fromisoformat(a["at"].replace("Z", "+00:00")) for a in delivery["attempts"]]
    assert (ats[1] - ats[0]).total_seconds() == 120


def test_exhausted_retries_fail(mock: Any, receiver: Any) -> None:
    r = receiver(default=Reply(500))
    m = mock()
    m.subscribe(r.url)
    [delivery] = m.fire(wait=True)
    assert delivery["status"] == "failed" and statuses(delivery) == [500, 500, 500]
    assert len(r.requests) == 3


def test_empty_schedule_disables_retries(mock: Any, receiver: Any) -> None:
    r = receiver(default=Reply(500))
    m = mock(retry_schedule=())
    m.subscribe(r.url)
    [delivery] = m.fire(wait=True)
    assert delivery["status"] == "failed" and statuses(delivery) == [500]


def test_gone_stops_retrying(mock: Any, receiver: Any) -> None:
    r = receiver([Reply(410)])
    m = mock()
    m.subscribe(r.url)
    [delivery] = m.fire(wait=True)
    assert delivery["status"] == "failed" and statuses(delivery) == [410]
    assert len(r.requests) == 1


def test_redirects_are_failures_and_not_followed(mock: Any, receiver: Any) -> None:
    r = receiver(default=Reply(302, headers={"Location": "/elsewhere"}))
    m = mock(retry_schedule=(0.05,))
    m.subscribe(r.url + "/hook")
    [delivery] = m.fire(wait=True)
    assert delivery["status"] == "failed" and statuses(delivery) == [302, 302]
    assert [req.path for req in r.requests] == ["/hook", "/hook"]


def test_retry_after_under_60_s_replaces_the_schedule(mock: Any, receiver: Any) -> None:
    r = receiver([Reply(503, headers={"Retry-After": "1"})], default=Reply(200))
    m = mock(retry_schedule=(40.0,))
    m.subscribe(r.url)
    [delivery] = m.fire()
    first, second = r.wait_for(2, timeout=20)  # long before the schedule's 40 s
    assert second.received_at - first.received_at >= 0.9
    delivery = m.wait_final(delivery["id"])
    assert delivery["status"] == "succeeded" and statuses(delivery) == [503, 200]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(429, headers={"Retry-After": "60"}),  # not shorter than 60 s
        Reply(429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}),  # not seconds
        Reply(500, headers={"Retry-After": "30"}),  # only 429 and 503 ask to wait
    ],
)
def test_other_retry_afters_are_ignored(mock: Any, receiver: Any, reply: Reply) -> None:
    r = receiver([reply], default=Reply(200))
    m = mock(retry_schedule=(0.05,))
    m.subscribe(r.url)
    [delivery] = m.fire()
    r.wait_for(2, timeout=20)  # the schedule's 0.05 s, long before the header's 30 or 60 s
    delivery = m.wait_final(delivery["id"])
    assert delivery["status"] == "succeeded" and statuses(delivery) == [reply.status, 200]


def test_slow_receiver_times_out(mock: Any, receiver: Any) -> None:
    r = receiver(default=Reply(200, delay=1.5))
    m = mock(delivery_timeout=0.3, retry_schedule=())
    m.subscribe(r.url)
    [delivery] = m.fire(wait=True)
    [attempt] = delivery["attempts"]
    assert delivery["status"] == "failed"
    assert attempt["responseStatus"] is None
    assert attempt["error"] == "timeout: no complete response within 0.3 s"


def test_timeout_bounds_the_whole_response_not_each_read(mock: Any, receiver: Any) -> None:
    # Each piece arrives well within the timeout; the whole answer does not.
    r = receiver(default=Reply(200, b"x" * 100, drip=0.15))
    m = mock(delivery_timeout=0.6, retry_schedule=())
    m.subscribe(r.url)
    [delivery] = m.fire(wait=True)
    assert delivery["status"] == "failed"
    assert delivery["attempts"][0]["error"].startswith("timeout")


def test_connection_refused_is_journaled_and_retried(mock: Any) -> None:
    m = mock(retry_schedule=(0.05,))
    m.subscribe(f"http://127.0.0.1:{closed_port()}/hook")
    [delivery] = m.fire(wait=True)
    assert delivery["status"] == "failed"
    assert [a["error"] for a in delivery["attempts"]] == ["connection refused"] * 2
    assert statuses(delivery) == [None, None]
    assert all(a["requestHeaders"] for a in delivery["attempts"])  # they were attempted


def test_response_body_is_cut_at_4_kib(mock: Any, receiver: Any) -> None:
    r = receiver(default=Reply(200, b"a" * 5000 + b"\xff"))
    m = mock()
    m.subscribe(r.url)
    [delivery] = m.fire(wait=True)
    assert delivery["attempts"][0]["responseBody"] == "a" * 4096
    r.clear()
    r.respond_with(Reply(200, b"ok\xff"))
    [delivery] = m.fire(wait=True)
    assert delivery["attempts"][0]["responseBody"] == "ok\ufffd"


def test_forward_rewrites_origin_and_keeps_path_and_query(mock: Any, receiver: Any) -> None:
    r = receiver()
    m = mock(forwards=(("https://app.example.com", r.url + "/local"),))
    sub = m.subscribe("https://App.Example.com:443/hooks/in?a=1&b=2")
    [delivery] = m.fire(wait=True)
    [request] = r.wait_for(1)
    assert request.path == "/local/hooks/in?a=1&b=2"
    assert delivery["url"] == "https://App.Example.com:443/hooks/in?a=1&b=2"
    assert delivery["targetUrl"] == r.url + "/local/hooks/in?a=1&b=2"
    assert delivery["status"] == "succeeded"
    verify(request.body, request.headers, sub["secret"])


def test_record_mode_sends_nothing(live_server: LiveServer, receiver: Any) -> None:
    r = receiver()
    server = live_server(allow_http_localhost=True, delivery_mode="record")
    m = Driver(server)
    m.subscribe(r.url)
    [delivery] = m.fire()
    assert delivery["status"] == "recorded"
    [redelivered] = [m.http.post(f"/__mock/deliveries/{delivery['id']}/redeliver").json()]
    assert redelivered["status"] == "recorded"
    m.close()
    # Stopping drains every delivery task (in-flight sends get their grace period), so
    # a send would have reached the receiver, or changed the journal, by now.
    server.stop()
    journal = [d.to_json() for d in engine_of(server.runtime).journal.select()]
    assert [d["status"] for d in journal] == ["recorded", "recorded"]
    assert [a["responseStatus"] for d in journal for a in d["attempts"]] == [None, None]
    assert r.requests == [] and r.incomplete == []


def test_redeliver_sends_the_same_event_again(mock: Any, receiver: Any) -> None:
    r = receiver([Reply(500)], default=Reply(200))
    m = mock(retry_schedule=())
    sub = m.subscribe(r.url)
    [failed] = m.fire(wait=True)
    assert failed["status"] == "failed"
    again = m.client.redeliver(failed["id"])  # waits
    assert again["status"] == "succeeded" and again["eventId"] == failed["eventId"]
    first, second = r.wait_for(2)
    assert first.body == second.body == failed["body"].encode()
    verify(second.body, second.headers, sub["secret"])
    assert m.delivery(failed["id"])["status"] == "failed"  # the original is untouched


@pytest.mark.parametrize("change", ["delete", "pause"])
def test_deleting_or_pausing_stops_pending_retries(mock: Any, receiver: Any, change: str) -> None:
    m = mock()
    sub: dict[str, Any] = {}

    def act(_: ReceivedRequest) -> Reply:
        with Driver(m.server) as other:
            if change == "delete":
                other.delete(sub["id"])
            else:
                other.update(sub["id"], deliveryPaused=True)
        return Reply(500)

    r = receiver([act], default=Reply(200))
    sub.update(m.subscribe(r.url))
    [delivery] = m.fire(wait=True)
    expected = "deleted" if change == "delete" else "paused"
    assert delivery["status"] == "failed"
    assert [a["error"] for a in delivery["attempts"]] == [
        None,
        f"subscription was {expected}; not sent",
    ]
    assert delivery["attempts"][1]["requestHeaders"] == {}
    assert len(r.requests) == 1


@pytest.mark.parametrize("how", ["reset", "clear"])
def test_reset_and_clear_stop_retries(mock: Any, receiver: Any, how: str) -> None:
    r = receiver(default=Reply(500))
    m = mock(retry_schedule=(1.0, 1.0))
    m.subscribe(r.url)
    [delivery] = m.fire()
    assert m.wait_until(delivery["id"], "retrying")  # the next attempt is 1 s away
    [held] = [d for d in engine_of(m.server.runtime).journal.select() if d.id == delivery["id"]]
    if how == "reset":
        m.client.reset()
    else:
        m.client.clear_deliveries()
    # Not a sleep: the delivery's task ends at once, giving up the retry with the reason;
    # once it has, no retry can follow.
    deadline = time.monotonic() + 10
    while held.status == "retrying":
        assert time.monotonic() < deadline, "the retry was not cancelled"
        time.sleep(0.01)
    assert held.status == "failed"
    assert [a.error for a in held.attempts] == [None, "deliveries were reset; not sent"]
    assert len(r.requests) == 1
    assert m.deliveries() == []


def test_graphql_answers_while_receivers_are_held(mock: Any, receiver: Any) -> None:
    hold = threading.Event()
    r = receiver(default=Reply(200, hold=hold))
    m = mock(delivery_timeout=25.0)  # the hold, not a timeout, decides when they end
    m.subscribe(r.url)
    for _ in range(5):
        m.fire()
    waiting = threading.Thread(target=lambda: m.fire(wait=True))  # a waiting control call too
    waiting.start()
    r.wait_for(6)
    deadline = time.monotonic() + 1.5  # keep the receiver held for seconds, querying
    answered = 0
    while time.monotonic() < deadline or answered < 10:
        assert m.graphql("{ webhooks { id } }")["webhooks"]
        answered += 1
        assert not hold.is_set()
    assert {d["status"] for d in m.deliveries()} == {"pending"}
    assert waiting.is_alive()
    hold.set()
    waiting.join(10)
    assert not waiting.is_alive()
    for d in m.deliveries():
        assert m.wait_final(d["id"])["status"] == "succeeded"


def test_shutdown_ends_every_delivery_with_a_reason(live_server: LiveServer, receiver: Any) -> None:
    server = live_server(allow_http_localhost=True, retry_schedule=(30.0,), delivery_concurrency=3)
    m = Driver(server)
    late = threading.Event()  # released during the shutdown grace period
    failing = receiver(default=Reply(500))
    held = receiver(default=Reply(200, hold=threading.Event()))
    late_ok = receiver(default=Reply(200, hold=late))
    late_bad = receiver(default=Reply(500, hold=late))
    subs = [m.subscribe(r.url + f"/{n}") for n, r in enumerate([failing, held, late_ok, late_bad])]

    def fire(n: int) -> dict[str, Any]:
        [delivery] = m.fire(subscriptionId=subs[n]["id"])
        return delivery

    retrying = fire(0)
    assert m.wait_until(retrying["id"], "retrying")  # sleeping 30 s: holds no slot
    in_flight, finishes, fails_late = fire(1), fire(2), fire(3)
    for r in (held, late_ok, late_bad):
        r.wait_for(1)
    queued = fire(1)  # all three slots are busy: it waits for one
    m.close()
    engine = engine_of(server.runtime)

    def release_once_stopping() -> None:  # i.e. during the grace period
        while not engine.closing:
            time.sleep(0.01)
        late.set()

    threading.Thread(target=release_once_stopping, daemon=True).start()
    server.stop()
    journal = {d.id: d.to_json() for d in engine_of(server.runtime).journal.select()}

    assert journal[finishes["id"]]["status"] == "succeeded"
    shut = journal[in_flight["id"]]
    assert shut["status"] == "failed"
    assert shut["attempts"][-1]["error"] == "server shut down during this attempt"
    assert shut["attempts"][-1]["requestHeaders"]  # it had been sent
    for entry, sent, reason in [
        (journal[retrying["id"]], [500], "server shut down; not sent"),
        (journal[fails_late["id"]], [500], "server shut down before this retry; not sent"),
        (journal[queued["id"]], [], "server shut down; not sent"),
    ]:
        assert entry["status"] == "failed"
        assert [a["responseStatus"] for a in entry["attempts"][:-1]] == sent
        assert entry["attempts"][-1]["error"] == reason
        assert entry["attempts"][-1]["requestHeaders"] == {}
    assert len(held.requests) == 1 and len(late_bad.requests) == 1
    with pytest.raises(RuntimeError, match="server shut down"):
        engine_of(server.runtime).fire(Event(server.practice_id or "", "patient.created", {}))


@pytest.mark.anyio
async def test_wait_returns_the_current_state_when_its_bound_passes(receiver: Any) -> None:
    hold = threading.Event()
    r = receiver(default=Reply(200, hold=hold))
    app = create_app(Settings(allow_http_localhost=True))
    runtime = app.state.runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        created = await client.post(
            "/graphql",
            headers={"x-token": "test-token"},
            json={
                "query": "mutation($url: String!) { createWebhook(input: {url: $url, "
                'label: "t", eventTypes: [PATIENT_CREATED]}) { error } }',
                "variables": {"url": r.url},
            },
        )
        assert created.json()["data"]["createWebhook"]["error"] is None
        engine = engine_of(runtime)
        deliveries = engine.fire(Event(runtime.default_practice_id, "patient.created", {}))
        await engine.wait(deliveries, timeout=0.3)
        assert [d.status for d in deliveries] == ["pending"]
        hold.set()
        await engine.wait(deliveries)
        assert [d.status for d in deliveries] == ["succeeded"]
        await engine.stop()


def test_logs_show_no_secret_signature_header_value_or_query(
    mock: Any, receiver: Any, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("mock_semble")
    logger.addHandler(caplog.handler)  # whatever propagation other tests configured
    caplog.handler.setLevel(logging.DEBUG)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        r = receiver([Reply(500)], default=Reply(200))
        m = mock()
        sub = m.subscribe(r.url + "/in?key=query-secret", headers=[("X-Api-Key", "hdr-secret")])
        dead = m.subscribe(f"http://127.0.0.1:{closed_port()}/x?k=q2", events=["PATIENT_DELETED"])
        [delivered] = m.fire(wait=True)
        [failed] = m.fire("PATIENT_DELETED", wait=True)
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(previous)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert delivered["id"] in text and failed["id"] in text  # one line per attempt exists
    assert "connection refused" in text
    forbidden = [sub["secret"], dead["secret"], "hdr-secret", "query-secret", "q2"]
    for attempt in delivered["attempts"]:
        forbidden += [attempt["requestHeaders"]["X-Webhook-Signature"].split("v1=")[1]]
    for value in forbidden:
        assert value not in text


def test_deliveries_ignore_proxy_environment(
    mock: Any, receiver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = receiver()
    m = mock()
    m.subscribe(r.url)
    dead_proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)  # the engine's client is built at first send
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    [delivery] = m.fire(wait=True)
    assert delivery["status"] == "succeeded"


def test_one_runtime_can_be_served_again_on_a_new_loop(receiver: Any) -> None:
    r = receiver()
    runtime = create_runtime(Settings(allow_http_localhost=True, delivery_concurrency=1))
    sub = subscriptions_of(runtime).create(
        runtime.default_practice_id or "",
        url=r.url,
        event_types=("patient.created",),
        label="t",
        headers=None,
        now=runtime.clock.now(),
    )
    engine = engine_of(runtime)
    assert engine is not None

    async def serve_once() -> list[str]:
        await engine.start()
        fired = [engine.fire(Event(sub.practice_id, "patient.created", {})) for _ in range(3)]
        deliveries = [d for batch in fired for d in batch]  # contended: one slot, three sends
        await engine.wait(deliveries)
        await engine.stop()
        return [d.status for d in deliveries]

    assert asyncio.run(serve_once()) == ["succeeded"] * 3
    assert asyncio.run(serve_once()) == ["succeeded"] * 3
    assert len(r.requests) == 6
