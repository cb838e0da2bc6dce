"""Issue 13, items 8, 11, 13 and 16: deliveries share one body per event and their journal
is bounded in bytes; a dead receiver delays only its own subscription; ``fire --wait``
fails unless everything was delivered; logs show a target's origin only; the mock never
delivers to itself.

Expected values are SPEC §2, §5 and §7 literals and the issue's decisions.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mock_semble.cli import main
from mock_semble.delivery.engine import engine_of
from mock_semble.delivery.journal import FAILED, SUCCEEDED, Attempt, Delivery, Journal
from mock_semble.testing import MockSembleServer, WebhookReceiver

from .helpers import CREATE, CliServer, Figures, graphql

TOKEN = "test-token"
PRACTICE = "000000000000000000000001"
MiB = 1024 * 1024
HEADERS = [{"key": f"X-H{n}", "value": "v" * 4096} for n in range(20)]  # the maximum


def _subscribe(
    http: httpx.Client, url: str, token: str = TOKEN, headers: list[dict[str, str]] | None = None
) -> str:
    variables: dict[str, Any] = {
        "input": {"url": url, "label": "hardening", "eventTypes": ["PATIENT_CREATED"]}
    }
    if headers:
        variables["input"]["headers"] = headers
    answer = graphql(http, token, CREATE, variables)
    payload = answer["data"]["createWebhook"]
    assert payload["error"] is None, payload
    return str(payload["data"]["id"])


def _final(http: httpx.Client, delivery_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry: dict[str, Any] = http.get(f"/__mock/deliveries/{delivery_id}").json()
        if entry["status"] in ("succeeded", "failed", "skipped_paused", "recorded"):
            return entry
        time.sleep(0.02)
    raise AssertionError(f"delivery {delivery_id} not final within {timeout} s")


# -- item 8: one body per event, a journal bounded in bytes ----------------------------------


def test_an_events_deliveries_share_one_body() -> None:
    with (
        MockSembleServer(delivery_mode="record") as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        subs = [_subscribe(http, f"https://share.example.com/{n}") for n in range(100)]
        patient = "ab" * 12
        fired = http.post(
            "/__mock/events",
            json={"eventType": "PATIENT_CREATED", "identifiers": {"patientId": patient}},
        ).json()["deliveries"]
        assert len(fired) == 100
        for delivery in fired:
            assert json.loads(delivery["body"]) == {
                "subscriptionId": delivery["subscriptionId"],
                "eventId": delivery["eventId"],
                "eventType": "patient.created",
                "identifiers": {"patientId": patient},
            }
            assert delivery["body"] == (
                f'{{"subscriptionId":"{delivery["subscriptionId"]}","eventId":'
                f'"{delivery["eventId"]}","eventType":"patient.created",'
                f'"identifiers":{{"patientId":"{patient}"}}}}'
            )
        assert sorted(d["subscriptionId"] for d in fired) == sorted(subs)
        journal = engine_of(server.runtime).journal.select()
        shared = journal[0].body_tail
        assert shared == f'"identifiers":{{"patientId":"{patient}"}}}}'
        assert all(d.body_tail is shared for d in journal)  # one text, whatever the fan-out


def _entry(n: int, status: str, header_bytes: int) -> Delivery:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    delivery = Delivery(f"{n:024x}", "e", "patient.created", "s", "p", "u", "u", "{}", at)
    delivery.status = status
    delivery.attempts.append(Attempt(1, at, {"X-Big": "v" * header_bytes}))
    return delivery


def test_the_delivery_journal_evicts_the_oldest_final_entries_past_its_byte_bound() -> None:
    journal = Journal(size=10_000, max_bytes=1 * MiB)
    busy = _entry(0, "pending", 600 * 1024)  # in progress: never evicted
    journal.add(busy)
    for n in range(1, 41):
        journal.add(_entry(n, SUCCEEDED, 100 * 1024))  # ~100 KiB each, 4 MiB in all
        assert journal.bytes <= 1 * MiB
    ids = [d.id for d in journal.select()]
    assert ids[0] == busy.id
    kept = [int(i, 16) for i in ids[1:]]
    assert kept == list(range(41 - len(kept), 41))  # the newest, in order
    assert journal.evicted == 40 - len(kept)
    assert 8 <= len(kept) <= 10  # 1 MiB of ~101 KiB entries
    busy.status = FAILED
    journal.finished(busy)  # final now, and the most recently: the others go first
    assert journal.bytes <= 1 * MiB
    ids = [d.id for d in journal.select()]
    assert busy.id in ids
    still = [int(i, 16) for i in ids if i != busy.id]
    assert len(still) < len(kept) and still == kept[len(kept) - len(still) :]


def test_maximal_headers_times_many_fires_stay_within_the_journal_bound(
    figures: Figures,
) -> None:
    """100 subscriptions with 20 headers of 4 KiB each, fired at repeatedly (record
    mode: every delivery holds its signed request headers). Before the bound, one
    GET /__mock/deliveries of such a journal was 880 MB."""
    with (
        MockSembleServer(delivery_mode="record") as server,
        httpx.Client(base_url=server.url, timeout=120) as http,
    ):
        for n in range(100):
            _subscribe(http, f"https://big.example.com/{n}", headers=HEADERS)
        for _ in range(12):  # 1 200 deliveries of ~82 KB of headers each: ~98 MB
            assert (
                http.post("/__mock/events", json={"eventType": "PATIENT_CREATED"}).status_code
                == 200
            )
        journal = engine_of(server.runtime).journal
        page = http.get("/__mock/deliveries", params={"limit": 1000})
        listing = page.json()
        figures.record(
            "hardening_delivery_journal",
            deliveries_fired=1200,
            kept=len(journal),
            evicted=listing["evicted"],
            journal_bytes=journal.bytes,
            page_entries=len(listing["deliveries"]),
            page_bytes=len(page.content),
        )
        assert journal.bytes <= 64 * MiB
        assert listing["evicted"] == 1200 - len(journal) > 0
        assert len(page.content) <= 9 * MiB  # a page stops at 8 MiB of entries
        assert listing["next"] is not None  # the rest is one page further
        rest = http.get("/__mock/deliveries", params={"limit": 1000, "after": listing["next"]})
        seen = len(listing["deliveries"]) + len(rest.json()["deliveries"])
        assert seen <= len(journal)


# -- item 11: fair scheduling and fire --wait's exit status ----------------------------------


def test_a_dead_receiver_delays_only_its_own_subscription() -> None:
    """Sixteen events to a receiver that never answers, then one to a healthy receiver:
    the healthy one is delivered while all sixteen are still waiting for their answer
    (before, they held every one of the 8 shared slots for the whole timeout)."""
    hold = threading.Event()
    dead = WebhookReceiver().respond_with(200, hold=hold).start()
    healthy = WebhookReceiver().start()
    try:
        with (
            MockSembleServer(
                allow_http_localhost=True, delivery_timeout=60.0, retry_schedule=()
            ) as server,
            httpx.Client(base_url=server.url, timeout=60) as http,
        ):
            other = server.new_practice("Other practice")
            dead_sub = _subscribe(http, dead.url + "/dead", token=other.token)
            healthy_sub = _subscribe(http, healthy.url + "/ok")
            stuck = [
                http.post(
                    "/__mock/events",
                    json={"eventType": "PATIENT_CREATED", "subscriptionId": dead_sub},
                ).json()["deliveries"][0]["id"]
                for _ in range(16)
            ]
            dead.wait_for(8)  # the dead receiver holds requests in flight
            [delivery] = http.post(
                "/__mock/events",
                json={"eventType": "PATIENT_CREATED", "subscriptionId": healthy_sub},
            ).json()["deliveries"]
            assert _final(http, delivery["id"])["status"] == "succeeded"
            statuses = {http.get(f"/__mock/deliveries/{i}").json()["status"] for i in stuck}
            assert statuses == {"pending"}  # none of the sixteen ended yet
            hold.set()
            assert {_final(http, i)["status"] for i in stuck} == {"succeeded"}
    finally:
        hold.set()
        dead.stop()
        healthy.stop()


@pytest.fixture
def fire_server() -> Iterator[MockSembleServer]:
    with MockSembleServer(
        allow_http_localhost=True, retry_schedule=(), delivery_timeout=5.0
    ) as server:
        yield server


def _fire(server_url: str, *extra: str) -> int:
    return main(["fire", "PATIENT_CREATED", "--url", server_url, "--wait", *extra])


def test_fire_wait_exits_0_only_when_everything_was_delivered(
    fire_server: MockSembleServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = WebhookReceiver().start()
    failing = WebhookReceiver().respond_with(500, times=None).start()
    try:
        with httpx.Client(base_url=fire_server.url, timeout=60) as http:
            assert _fire(fire_server.url) == 1  # nothing matched
            assert "nothing was sent" in capsys.readouterr().err
            ok_sub = _subscribe(http, ok.url + "/ok")
            assert _fire(fire_server.url) == 0
            failing_sub = _subscribe(http, failing.url + "/failing")
            assert _fire(fire_server.url, "--subscription", ok_sub) == 0
            assert _fire(fire_server.url, "--subscription", failing_sub) == 1
            assert _fire(fire_server.url) == 1  # one of two failed
            assert "1 of 2 deliveries not delivered (failed)" in capsys.readouterr().err
    finally:
        ok.stop()
        failing.stop()


PAUSE = "mutation($id: ID!) { updateWebhook(id: $id, input: {deliveryPaused: true}) { error } }"


def test_fire_wait_exits_1_when_a_delivery_is_paused_and_2_when_unreachable(
    fire_server: MockSembleServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with httpx.Client(base_url=fire_server.url, timeout=60) as http:
        fire_server.create_webhook("https://paused.example.com/x")
        [sub] = graphql(http, TOKEN, "{ webhooks { id } }")["data"]["webhooks"]
        graphql(
            http,
            TOKEN,
            PAUSE,
            {"id": sub["id"]},
        )
    assert _fire(fire_server.url) == 1
    capsys.readouterr()
    assert _fire("http://127.0.0.1:9") == 2
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


# -- item 16: never a delivery to the mock itself ------------------------------------------

OWN = re.compile(r"^the target is this mock's own address \(127\.0\.0\.1:(\d+)\); not sent$")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_deliveries_to_the_mocks_own_address_are_never_sent(
    cli_server: Callable[..., CliServer], host: str
) -> None:
    server = cli_server("--allow-http-localhost", "--retry-schedule", "", name="self")
    port = server.url.rsplit(":", 1)[1]
    with server.client() as http:
        _subscribe(http, f"http://{host}:{port}/__mock/reset")
        [delivery] = http.post(
            "/__mock/events", json={"eventType": "PATIENT_CREATED", "wait": True}
        ).json()["deliveries"]
        assert delivery["status"] == "failed"
        [attempt] = delivery["attempts"]
        match = OWN.match(attempt["error"] or "")
        assert match is not None and match.group(1) == port, attempt["error"]
        assert attempt["requestHeaders"] == {}  # never signed, never sent
        assert len(graphql(http, TOKEN, "{ webhooks { id } }")["data"]["webhooks"]) == 1
        assert http.get("/__mock/deliveries").json()["deliveries"]  # nothing was reset


def test_a_forward_to_the_mocks_own_address_is_never_sent(
    cli_server: Callable[..., CliServer],
) -> None:
    probe = cli_server("--allow-http-localhost", name="probe")  # a free port to reuse
    port = probe.url.rsplit(":", 1)[1]
    probe.terminate()
    server = cli_server(
        *("--port", port, "--retry-schedule", ""),
        *("--forward", f"https://app.example.com=http://127.0.0.1:{port}"),
        name="self-forward",
    )
    with server.client() as http:
        _subscribe(http, "https://app.example.com/__mock/reset")
        [delivery] = http.post(
            "/__mock/events", json={"eventType": "PATIENT_CREATED", "wait": True}
        ).json()["deliveries"]
        assert delivery["targetUrl"] == f"http://127.0.0.1:{port}/__mock/reset"
        assert OWN.match(delivery["attempts"][0]["error"] or "") is not None
        assert len(graphql(http, TOKEN, "{ webhooks { id } }")["data"]["webhooks"]) == 1


# -- item 13: delivery targets appear in logs as scheme://host:port only ----------------------


def test_logs_show_delivery_targets_as_their_origin_only(
    cli_server: Callable[..., CliServer],
) -> None:
    ok = WebhookReceiver().start()
    failing = WebhookReceiver().respond_with(500, times=None).start()
    ok_port, failing_port = ok.port, failing.port
    secrets = ["user9", "pass9", "T0SECRET", "B0SECRET", "pathsecret", "querysecret", "base9"]
    try:
        server = cli_server(
            *("--log-level", "debug", "--retry-schedule", "0.05"),
            *("--forward", f"https://app.example.com=http://user9:pass9@127.0.0.1:{ok.port}/base9"),
            *("--forward", f"https://fail.example.com=http://127.0.0.1:{failing.port}"),
            name="logs",
        )
        with server.client() as http:
            _subscribe(http, "https://app.example.com/services/T0SECRET/B0SECRET/pathsecret")
            _subscribe(http, "https://fail.example.com/hook?token=querysecret")
            fired = http.post(
                "/__mock/events", json={"eventType": "PATIENT_CREATED", "wait": True}
            ).json()["deliveries"]
            assert sorted(d["status"] for d in fired) == ["failed", "succeeded"]
        server.terminate()
        logs = server.logs()
    finally:
        ok.stop()
        failing.stop()
    assert f"to http://127.0.0.1:{ok_port}:" in logs  # DEBUG attempt line
    assert f"to http://127.0.0.1:{failing_port} failed after 2 attempt(s)" in logs  # INFO
    leaked = [s for s in secrets if s in logs]
    assert leaked == []
