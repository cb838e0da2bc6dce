"""The pytest plugin's fixtures, used directly (dogfooding): ``mock_semble`` and
``webhook_receiver``, and ``MockSembleServer`` / ``MockSembleClient`` outside pytest."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest

from mock_semble.core.errors import ConfigError
from mock_semble.core.settings import Settings
from mock_semble.delivery.signing import InvalidSignature, StaleTimestamp, sign
from mock_semble.pytest_plugin import ServerPool, parse_ini_options
from mock_semble.testing import (
    MockSembleClient,
    MockSembleError,
    MockSembleServer,
    settings_options,
)
from mock_semble.testing.receiver import Reply, WebhookReceiver

LIST = "query Hooks { webhooks(includeDeleted: true) { id url deleted } }"
# SPEC §1.2 and README "Testing with pytest", written here, not imported.
DEFAULT_PRACTICE_ID = "000000000000000000000001"
DEFAULT_TOKEN = "test-token"
FIXTURE_DEFAULTS = {
    "allow_http_localhost": True,
    "retry_schedule": (0.05, 0.1, 0.2),
    "delivery_timeout": 5.0,
}


# -- the mock_semble fixture -----------------------------------------------------------------


def test_handle_exposes_the_running_server(mock_semble: MockSembleServer) -> None:
    assert mock_semble.url.startswith("http://127.0.0.1:")
    assert mock_semble.graphql_url == mock_semble.url + "/graphql"
    assert mock_semble.token == DEFAULT_TOKEN
    assert mock_semble.practice_id == DEFAULT_PRACTICE_ID
    assert httpx.get(mock_semble.url + "/__mock/health").json()["status"] == "ok"
    # the documented test defaults are in force
    settings = mock_semble.runtime.settings
    assert settings.allow_http_localhost is True
    assert settings.retry_schedule == (0.05, 0.1, 0.2)
    assert settings.delivery_timeout == 5.0


def test_execute_returns_the_decoded_response(mock_semble: MockSembleServer) -> None:
    sub = mock_semble.create_webhook("https://hooks.example/a", ["PATIENT_CREATED"])
    result = mock_semble.execute(LIST, operation_name="Hooks")
    assert result == {
        "data": {"webhooks": [{"id": sub["id"], "url": sub["url"], "deleted": False}]}
    }
    # errors are answers, not exceptions: a bad token gives the 401 body
    unauth = mock_semble.execute(LIST, token="not-a-token")
    assert unauth["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    query = "query One($id: ID!) { webhook(id: $id) { id } }"
    assert mock_semble.execute(query, {"id": sub["id"]})["data"]["webhook"]["id"] == sub["id"]


def test_create_webhook_helper_raises_on_a_payload_error(mock_semble: MockSembleServer) -> None:
    with pytest.raises(MockSembleError, match="url must be a valid HTTPS URL"):
        mock_semble.create_webhook("ftp://nope.example/")


def test_each_test_starts_from_the_start_up_state(mock_semble: MockSembleServer) -> None:
    # Runs after tests that created webhooks, practices and froze the clock (in file
    # order; tests/testing/test_plugin_runs.py proves the reset whatever the order).
    assert mock_semble.requests() == []  # journal cleared too
    assert mock_semble.execute(LIST)["data"]["webhooks"] == []
    assert mock_semble.deliveries() == []
    assert mock_semble.clock()["frozen"] is False
    assert [p["id"] for p in mock_semble.state()["practices"]] == [DEFAULT_PRACTICE_ID]


def test_new_practice_is_isolated(mock_semble: MockSembleServer) -> None:
    a = mock_semble.new_practice("A")
    b = mock_semble.new_practice("B", permissions=["seeWebhooks"])
    assert a.id != b.id and a.token != b.token
    assert b.permissions == ("seeWebhooks",)
    url = "https://hooks.example/shared"
    mock_semble.create_webhook(url, token=a.token)
    mock_semble.create_webhook(url)  # same url in the default practice: no conflict
    assert [h["url"] for h in a.execute(LIST)["data"]["webhooks"]] == [url]
    assert b.execute(LIST)["data"]["webhooks"] == []
    denied = b.execute('mutation { deleteWebhook(id: "x") { error } }')
    assert denied["errors"][0]["message"] == "Missing permission: deleteWebhooks"
    disabled = mock_semble.new_practice("off", webhooks_enabled=False)
    assert disabled.webhooks_enabled is False
    assert disabled.execute(LIST)["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_fire_delivers_to_the_receiver(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    practice = mock_semble.new_practice()
    sub = mock_semble.create_webhook(
        webhook_receiver.url_for("/hooks/semble"),
        ["PATIENT_CREATED", "PATIENT_DELETED"],
        headers={"X-Tenant": "t1"},
        token=practice.token,
    )
    deliveries = practice.fire("patient.created", identifiers={"patientId": "f" * 24})
    assert [d["status"] for d in deliveries] == ["succeeded"]
    [request] = webhook_receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/hooks/semble")
    assert request.headers["x-tenant"] == "t1" and "X-TENANT" in request.headers
    assert request.json == {
        "subscriptionId": sub["id"],
        "eventId": deliveries[0]["eventId"],
        "eventType": "patient.created",
        "identifiers": {"patientId": "f" * 24},
    }
    assert request.body.decode() == deliveries[0]["body"]  # the exact bytes
    assert webhook_receiver.verify(sub["secret"]) == 1
    # filters, snake_case or camelCase; the default practice saw nothing
    assert practice.deliveries(status="succeeded") == deliveries
    assert mock_semble.deliveries(subscription_id=sub["id"]) == deliveries
    assert mock_semble.deliveries(practiceId=DEFAULT_PRACTICE_ID) == []
    assert mock_semble.fire("PATIENT_UPDATED", practice_id=practice.id) == []


def test_scripted_failures_are_retried_on_the_short_schedule(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.respond_with(500, "boom", times=2)
    sub = mock_semble.create_webhook(webhook_receiver.url)
    # fire() returns once the delivery is final: on the fixture's short schedule (0.05,
    # 0.1 s gaps; asserted in test_handle_exposes_the_running_server), not 1 + 5 s
    [delivery] = mock_semble.fire("PATIENT_CREATED")
    assert delivery["status"] == "succeeded"
    assert [a["responseStatus"] for a in delivery["attempts"]] == [500, 500, 200]
    assert delivery["attempts"][0]["responseBody"] == "boom"
    requests = webhook_receiver.requests
    assert len(requests) == 3
    assert len({r.json["eventId"] for r in requests}) == 1  # same event across retries
    assert webhook_receiver.verify(sub["secret"]) == 3


def test_scripted_gone_and_callable_replies(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    seen: list[str] = []

    def by_path(request: object) -> Reply | int:
        seen.append(request.path)  # type: ignore[attr-defined]
        return 410 if request.path == "/gone" else Reply(202, {"ok": True})  # type: ignore[attr-defined]

    webhook_receiver.respond_with(by_path)
    mock_semble.create_webhook(webhook_receiver.url_for("/gone"))
    mock_semble.create_webhook(webhook_receiver.url_for("/fine"))
    by_url = {d["url"]: d for d in mock_semble.fire("PATIENT_CREATED")}
    gone = by_url[webhook_receiver.url_for("/gone")]
    fine = by_url[webhook_receiver.url_for("/fine")]
    assert gone["status"] == "failed" and len(gone["attempts"]) == 1  # 410 stops retries
    assert fine["status"] == "succeeded"
    assert json.loads(fine["attempts"][0]["responseBody"]) == {"ok": True}
    assert sorted(seen) == ["/fine", "/gone"]


def test_receiver_delay_triggers_the_delivery_timeout(webhook_receiver: WebhookReceiver) -> None:
    with MockSembleServer(delivery_timeout=0.2, retry_schedule=()) as server:
        webhook_receiver.respond_with(200, delay=1.0, times=1)
        server.create_webhook(webhook_receiver.url)
        [delivery] = server.fire("PATIENT_CREATED")
    assert delivery["status"] == "failed"
    assert "timeout" in delivery["attempts"][0]["error"].lower()


def test_receiver_records_any_method_and_chunked_bodies(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.respond_with(201, b"made", headers={"X-Reply": "1"}, times=1)
    r = httpx.put(webhook_receiver.url_for("/a?x=1"), content=b"raw\x00bytes")
    assert (r.status_code, r.content, r.headers["x-reply"]) == (201, b"made", "1")

    def chunks() -> object:
        yield b'{"a":'
        yield b" 1}"

    r = httpx.post(webhook_receiver.url_for("/b"), content=chunks())  # type: ignore[arg-type]
    assert (r.status_code, r.text) == (200, "ok")
    first, second = webhook_receiver.wait_for(2, timeout=1)
    assert (first.method, first.path, first.body, first.json) == (
        "PUT",
        "/a?x=1",
        b"raw\x00bytes",
        None,
    )
    assert second.headers["transfer-encoding"] == "chunked"
    assert second.json == {"a": 1} and second.text == '{"a": 1}'


def test_receiver_wait_for_times_out_with_a_count(webhook_receiver: WebhookReceiver) -> None:
    httpx.post(webhook_receiver.url, content=b"{}")
    with pytest.raises(TimeoutError, match="got 1 of 2 request"):
        webhook_receiver.wait_for(2, timeout=0.2)


def test_receiver_wait_for_wakes_on_arrival(webhook_receiver: WebhookReceiver) -> None:
    # Condition.wait returns True when notified and False when its timeout ran out: every
    # wait must have been ended by the arrival, none by the clock.
    condition = webhook_receiver._cond
    real_wait = condition.wait
    woken: list[bool] = []

    def wait(timeout: float | None = None) -> bool:
        woken.append(real_wait(timeout))
        return woken[-1]

    condition.wait = wait  # type: ignore[method-assign]
    timer = threading.Timer(0.2, lambda: httpx.post(webhook_receiver.url, content=b"late"))
    timer.start()
    assert webhook_receiver.wait_for(1, timeout=60)[0].body == b"late"
    timer.join()
    assert woken and all(woken), woken


def test_receiver_verify_raises_on_a_bad_signature(webhook_receiver: WebhookReceiver) -> None:
    secret = "whsec_" + "A" * 43 + "="
    body = b'{"eventId":"e1"}'
    now = int(time.time())
    httpx.post(webhook_receiver.url_for("/ok"), content=body, headers=sign(body, secret))
    with pytest.raises(AssertionError, match="no requests"):
        WebhookReceiver().verify(secret)  # nothing to verify is a failure, not a pass
    assert webhook_receiver.verify(secret) == 1
    assert webhook_receiver.verify(secret, now=now + 10) == 1
    with pytest.raises(StaleTimestamp):
        webhook_receiver.verify(secret, now=now + 3600)
    tampered = {**sign(body, secret), "X-Webhook-Signature": "t=1,v1=00"}
    httpx.post(webhook_receiver.url_for("/bad"), content=body, headers=tampered)
    with pytest.raises(InvalidSignature) as info:
        webhook_receiver.verify(secret)
    assert "request #1: POST /bad" in "\n".join(info.value.__notes__)
    webhook_receiver.clear()
    assert webhook_receiver.requests == []
    with pytest.raises(ValueError, match="times"):
        webhook_receiver.respond_with(200, times=0)


def test_clock_control(mock_semble: MockSembleServer) -> None:
    frozen = mock_semble.freeze_clock(datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
    assert frozen == {"now": "2030-01-02T03:04:05.678Z", "frozen": True, "offsetSeconds": 0.0}
    sub = mock_semble.create_webhook("https://hooks.example/c")
    assert sub["createdAt"] == "2030-01-02T03:04:05.678Z"
    assert mock_semble.advance_clock(60)["now"] == "2030-01-02T03:05:05.678Z"
    assert mock_semble.freeze_clock("2031-01-01T00:00:00Z")["now"] == "2031-01-01T00:00:00.000Z"
    assert mock_semble.unfreeze_clock()["frozen"] is False
    # freeze_clock() with no argument pins the current instant
    pinned = mock_semble.freeze_clock()["now"]
    # not a fixed sleep: wait until real time has visibly left the pinned millisecond
    while datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z") <= pinned:
        time.sleep(0.001)
    assert mock_semble.clock()["now"] == pinned
    with pytest.raises(MockSembleError) as info:
        mock_semble.freeze_clock("yesterday")
    assert info.value.status == 400


# -- markers -----------------------------------------------------------------------------------


@pytest.mark.mock_semble(delivery_mode="record", signing_scheme="standard", seed=5)
def test_marker_options_start_a_dedicated_server(
    mock_semble: MockSembleServer,
    mock_semble_server: MockSembleServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    assert mock_semble is not mock_semble_server
    settings = mock_semble.runtime.settings
    assert (settings.delivery_mode, settings.signing_scheme, settings.seed) == (
        "record",
        "standard",
        5,
    )
    assert settings.allow_http_localhost is True  # the fixture defaults stay underneath
    mock_semble.create_webhook(webhook_receiver.url)
    [delivery] = mock_semble.fire("PATIENT_CREATED")
    assert delivery["status"] == "recorded"
    assert delivery["attempts"][0]["responseStatus"] is None
    assert "webhook-signature" in delivery["attempts"][0]["requestHeaders"]
    assert webhook_receiver.requests == []  # record mode sends nothing


@pytest.mark.mock_semble(seed=5, signing_scheme="standard", delivery_mode="record")
def test_same_marker_options_reuse_that_server_reset(mock_semble: MockSembleServer) -> None:
    # The previous test's server (same options, another order), reset: no webhooks,
    # and the seeded id sequence rewound, so ids repeat.
    assert mock_semble.execute(LIST)["data"]["webhooks"] == []
    assert mock_semble.deliveries() == []


@pytest.mark.mock_semble(seed=11)
class TestClassMarker:
    @pytest.mark.mock_semble(request_journal_size=2)
    def test_closest_marker_wins_and_merges(self, mock_semble: MockSembleServer) -> None:
        settings = mock_semble.runtime.settings
        assert (settings.seed, settings.request_journal_size) == (11, 2)

    def test_class_marker_alone(self, mock_semble: MockSembleServer) -> None:
        assert mock_semble.runtime.settings.seed == 11


def test_pool_refuses_bad_options() -> None:
    pool = ServerPool(FIXTURE_DEFAULTS)
    with pytest.raises(pytest.fail.Exception, match="unknown mock-semble option"):
        pool.get({"sede": 1})
    with pytest.raises(pytest.fail.Exception, match="signing_scheme must be one of"):
        pool.get({"signing_scheme": "md5"})
    with pytest.raises(pytest.fail.Exception, match="state file not found"):
        pool.get({"state_file": "/nonexistent/state.json"})
    pool.close()


def test_ini_lines_and_string_options() -> None:
    options = parse_ini_options(
        [
            "seed = 3",
            "retry_schedule=0.1, 0.2",
            "allow_http_localhost=false",
            "forwards=https://a.example=http://127.0.0.1:9",
        ]
    )
    assert settings_options(options) == {
        "seed": 3,
        "retry_schedule": (0.1, 0.2),
        "allow_http_localhost": False,
        "forwards": (("https://a.example", "http://127.0.0.1:9"),),
    }
    assert settings_options({"retry_schedule": [], "delivery_timeout": "2.5"}) == {
        "retry_schedule": (),
        "delivery_timeout": 2.5,
    }
    with pytest.raises(pytest.fail.Exception, match="name=value"):
        parse_ini_options(["seed"])
    with pytest.raises(ConfigError, match="seed must be a int"):
        settings_options({"seed": "one"})
    with pytest.raises(ConfigError, match="seed must be a int"):
        settings_options({"seed": True})


# -- outside pytest --------------------------------------------------------------------------


def test_context_manager_takes_cli_options_and_settings() -> None:
    with MockSembleServer(Settings(seed=9), admin_token="adm", request_journal_size=5) as server:
        assert server.running and server.settings.seed == 9
        assert server.settings.allow_http_localhost is False  # an explicit base is kept
        assert httpx.post(server.url + "/__mock/reset").status_code == 401
        server.reset()  # the handle sends its admin token
        assert server.requests() == []
        with pytest.raises(MockSembleError) as info:
            MockSembleClient(server.url).requests()  # a client without the admin token
        assert info.value.status == 401
    assert not server.running
    with pytest.raises(ConfigError, match="free port"):
        MockSembleServer(port=8000)


def test_client_drives_a_server_it_did_not_start() -> None:
    with MockSembleServer() as server:
        client = MockSembleClient(server.url + "/")
        try:
            assert client.graphql_url == server.url + "/graphql"
            client.create_webhook("https://hooks.example/remote")
            assert len(server.execute(LIST)["data"]["webhooks"]) == 1
            client.reset()
            assert server.execute(LIST)["data"]["webhooks"] == []
        finally:
            client.close()
