"""Delivery faults (SPEC §4.1) on real deliveries to a real receiver, for every signing
scheme: what a receiver gets, what ``verify()`` and the ``standardwebhooks`` library say
about it, what the journal names, and rules (match, ``times``, ``probability``)."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from mock_semble import (
    InvalidSignature,
    MissingSignature,
    MockSembleError,
    SignatureError,
    StaleTimestamp,
    WebhookReceiver,
    verify,
)
from mock_semble.cli import main as cli_main
from mock_semble.testing import MockSembleServer

SEED = 5
SCHEMES = ("semble", "standard", "hmac-sha256-hex", "hmac-sha256-base64")
TIMESTAMPED = ("semble", "standard")
FROZEN_AT = "2030-01-01T00:00:00Z"
FROZEN_TS = 1893456000
# SPEC §2.3: the signature header of each scheme and its format
SIGNATURE = {
    "semble": ("X-Webhook-Signature", r"t=\d+,v1=[0-9a-f]{64}"),
    "standard": ("webhook-signature", r"v1,[A-Za-z0-9+/]{43}="),
    "hmac-sha256-hex": ("X-Webhook-Signature", r"sha256=[0-9a-f]{64}"),
    "hmac-sha256-base64": ("X-Webhook-Signature", r"[A-Za-z0-9+/]{43}="),
}
TIMESTAMP_HEADER = {"semble": "X-Webhook-Timestamp", "standard": "webhook-timestamp"}
CREATE_PATIENT = """mutation AddPatient($data: CreatePatientDataInput) {
  createPatient(patientData: $data) { data { id } error } }"""


@pytest.fixture(scope="module", params=SCHEMES)
def server(request: pytest.FixtureRequest) -> Iterator[MockSembleServer]:
    with MockSembleServer(
        seed=SEED, signing_scheme=request.param, retry_schedule=(0.05,)
    ) as started:
        yield started


@pytest.fixture(scope="module")
def standard() -> Iterator[MockSembleServer]:
    with MockSembleServer(signing_scheme="standard") as started:
        yield started


@pytest.fixture
def receiver(server: MockSembleServer) -> Iterator[WebhookReceiver]:
    server.reset()
    with WebhookReceiver() as started:
        yield started


def scheme_of(server: MockSembleServer) -> str:
    return server.settings.signing_scheme


def subscribe(
    server: MockSembleServer, receiver: WebhookReceiver, path: str = "/hook"
) -> dict[str, Any]:
    return server.create_webhook(receiver.url_for(path), ["PATIENT_CREATED"])


def header(request: Any, name: str) -> str | None:
    value = request.headers.get(name)
    return None if value is None else str(value)


def add_rule(server: MockSembleServer, **rule: Any) -> dict[str, Any]:
    return server.control("POST", "faults", json={"target": "delivery", **rule})  # type: ignore[no-any-return]


# -- the three signature faults, every scheme ---------------------------------------------------

EXPECTED = {
    "bad_signature": InvalidSignature,
    "missing_signature": MissingSignature,
    "stale_timestamp": StaleTimestamp,
}


@pytest.mark.parametrize("fault", EXPECTED)
def test_signature_faults_fail_verify_with_their_error(
    server: MockSembleServer, receiver: WebhookReceiver, fault: str
) -> None:
    scheme = scheme_of(server)
    sub = subscribe(server, receiver)
    server.freeze_clock(FROZEN_AT)
    if fault == "stale_timestamp" and scheme not in TIMESTAMPED:
        with pytest.raises(MockSembleError) as refused:
            server.fire("PATIENT_CREATED", fault=fault)
        assert refused.value.status == 400
        assert server.deliveries() == []
        return
    (delivery,) = server.fire("PATIENT_CREATED", fault=fault)
    assert delivery["status"] == "succeeded"
    assert delivery["fault"] == {"type": fault, "ruleId": None}
    (got,) = receiver.wait_for(1)
    with pytest.raises(EXPECTED[fault]):
        verify(got.body, got.headers, sub["secret"], scheme=scheme, now=FROZEN_TS)
    name, pattern = SIGNATURE[scheme]
    if fault == "missing_signature":
        assert header(got, name) is None
        if scheme in TIMESTAMPED:  # only the signature is missing
            assert header(got, TIMESTAMP_HEADER[scheme]) == str(FROZEN_TS)
    else:
        assert re.fullmatch(pattern, header(got, name) or "")  # the right format
    if fault == "stale_timestamp":
        assert header(got, TIMESTAMP_HEADER[scheme]) == str(FROZEN_TS - 600)
        # authentic: it verifies at the time it claims
        verify(got.body, got.headers, sub["secret"], scheme=scheme, now=FROZEN_TS - 600)


def test_an_unfaulted_delivery_verifies(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    sub = subscribe(server, receiver)
    (delivery,) = server.fire("PATIENT_CREATED")
    assert "fault" not in delivery
    (got,) = receiver.wait_for(1)
    verify(got.body, got.headers, sub["secret"], scheme=scheme_of(server))


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("bad_signature", "No matching signature found"),
        ("missing_signature", "Missing required headers"),
        ("stale_timestamp", "Message timestamp too old"),
        (None, None),
    ],
)
def test_standard_scheme_faults_against_standardwebhooks(
    standard: MockSembleServer, fault: str | None, reason: str | None
) -> None:
    standard.reset()
    with WebhookReceiver() as receiver:
        sub = subscribe(standard, receiver)
        standard.fire("PATIENT_CREATED", fault=fault)
        (got,) = receiver.wait_for(1)
    hook = Webhook(sub["secret"])
    if reason is None:
        hook.verify(got.body, dict(got.headers))
        return
    with pytest.raises(WebhookVerificationError, match=reason):
        hook.verify(got.body, dict(got.headers))


# -- duplicate and delay ----------------------------------------------------------------------


def test_duplicate_sends_the_same_body_and_event_id_twice_in_order(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    sub = subscribe(server, receiver)
    receiver.respond_with(200, delay=0.5, times=1)  # the first is answered slowly
    first, second = server.fire("PATIENT_CREATED", fault="duplicate")
    assert first["eventId"] == second["eventId"] and first["body"] == second["body"]
    assert first["id"] != second["id"]
    assert first["fault"] == {"type": "duplicate", "ruleId": None}
    assert second["fault"] == {"type": "duplicate", "ruleId": None, "duplicateOf": first["id"]}
    assert [d["status"] for d in (first, second)] == ["succeeded", "succeeded"]
    one, two = receiver.wait_for(2)
    assert one.body == two.body == first["body"].encode()
    # the second is sent once the first is final (not while it is being answered)
    assert two.received_at >= one.received_at + 0.5
    for got in (one, two):  # both are correctly signed
        verify(got.body, got.headers, sub["secret"], scheme=scheme_of(server))
    if scheme_of(server) == "standard":
        assert header(one, "webhook-id") == header(two, "webhook-id") == first["eventId"]


def test_delay_waits_before_each_attempt_and_blocks_no_other_delivery(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    with WebhookReceiver() as slow_receiver:
        slow = subscribe(server, slow_receiver)
        subscribe(server, receiver)
        slow_receiver.respond_with(500, times=1)  # one retry: two attempts
        add_rule(server, match={"subscriptionId": slow["id"]}, action={"type": "delay", "ms": 600})
        fired_at = time.time()
        deliveries = server.fire("PATIENT_CREATED", wait=False)
        (fast,) = receiver.wait_for(1)
        assert not slow_receiver.requests, "the delayed delivery held up another one"
        one, two = slow_receiver.wait_for(2)
    assert fast.received_at < one.received_at
    assert one.received_at - fired_at >= 0.6
    assert two.received_at - one.received_at >= 0.6 + 0.05  # delay and the retry gap
    faults = {d["subscriptionId"]: d.get("fault") for d in deliveries}
    assert faults[slow["id"]]["type"] == "delay"
    assert faults[slow["id"]]["ms"] == 600
    assert sum(f is None for f in faults.values()) == 1


def test_event_fault_object_form_and_delay_default(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    subscribe(server, receiver)
    (delivery,) = server.fire("PATIENT_CREATED", fault={"type": "delay", "ms": 10})
    assert delivery["fault"] == {"type": "delay", "ruleId": None, "ms": 10}
    (delivery,) = server.fire("PATIENT_CREATED", fault="delay", wait=False)
    assert delivery["fault"]["ms"] == 1000  # decision: a delay without ms waits 1 s


@pytest.mark.parametrize(
    "fault",
    ["drop", "nonsense", {"type": "delay", "ms": -1}, {"type": "bad_signature", "ms": 5}, 7],
)
def test_a_bad_event_fault_is_refused_and_delivers_nothing(
    server: MockSembleServer, receiver: WebhookReceiver, fault: Any
) -> None:
    subscribe(server, receiver)
    body = {"eventType": "PATIENT_CREATED", "fault": fault}
    with pytest.raises(MockSembleError) as refused:
        server.control("POST", "events", json=body)
    assert refused.value.status == 400
    assert "'fault" in refused.value.message
    assert server.deliveries() == []


# -- rules ---------------------------------------------------------------------------------------


def test_rule_matches_subscription_and_event_type_and_times_counts_deliveries(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    target = subscribe(server, receiver, "/target")
    subscribe(server, receiver, "/other")
    rule = add_rule(
        server,
        match={"subscriptionId": target["id"], "eventType": "PATIENT_CREATED"},
        action={"type": "bad_signature"},
        times=2,
    )
    assert rule["match"]["eventType"] == "patient.created"
    for _ in range(3):
        server.fire("PATIENT_CREATED")
    faulted = [
        (d["subscriptionId"] == target["id"], d.get("fault", {}).get("ruleId"))
        for d in server.deliveries()
    ]
    assert faulted.count((True, rule["id"])) == 2
    assert faulted.count((True, None)) == 1
    assert faulted.count((False, None)) == 3
    assert server.faults()[0]["hits"] == 2


def test_rule_probability_is_exact_under_the_seed(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    subscribe(server, receiver)
    add_rule(server, action={"type": "missing_signature"}, times=None, probability=0.5)
    for _ in range(20):
        server.fire("PATIENT_CREATED", wait=False)
    draws = random.Random(SEED)
    expected = [draws.random() < 0.5 for _ in range(20)]
    assert ["fault" in d for d in server.deliveries()] == expected
    assert server.faults()[0]["hits"] == sum(expected)


def test_patient_mutation_deliveries_are_faulted_by_rules(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    sub = subscribe(server, receiver)
    add_rule(server, match={"eventType": "patient.created"}, action={"type": "bad_signature"})
    result = server.execute(CREATE_PATIENT, {"data": {"first": "Ada", "last": "Lovelace"}})
    assert result["data"]["createPatient"]["error"] is None
    (got,) = receiver.wait_for(1)
    with pytest.raises(InvalidSignature):
        verify(got.body, got.headers, sub["secret"], scheme=scheme_of(server))


def test_redeliveries_meet_rules_too(server: MockSembleServer, receiver: WebhookReceiver) -> None:
    sub = subscribe(server, receiver)
    (original,) = server.fire("PATIENT_CREATED")
    add_rule(server, action={"type": "bad_signature"})
    again = server.redeliver(original["id"])
    assert again["fault"]["type"] == "bad_signature"
    first, second = receiver.wait_for(2)
    verify(first.body, first.headers, sub["secret"], scheme=scheme_of(server))
    with pytest.raises(InvalidSignature):
        verify(second.body, second.headers, sub["secret"], scheme=scheme_of(server))


def test_cli_fire_fault(server: MockSembleServer, receiver: WebhookReceiver) -> None:
    subscribe(server, receiver)
    url = server.url
    assert cli_main(["fire", "PATIENT_CREATED", "--url", url, "--fault", "bad_signature"]) == 0
    assert cli_main(["fire", "PATIENT_CREATED", "--url", url, "--fault", "delay:20"]) == 0
    assert cli_main(["fire", "PATIENT_CREATED", "--url", url, "--fault", "drop"]) == 2
    assert [d.get("fault") for d in server.deliveries()] == [
        {"type": "bad_signature", "ruleId": None},
        {"type": "delay", "ruleId": None, "ms": 20},
    ]


def test_record_mode_journals_faulted_headers(live_server: Any) -> None:
    recorder = live_server(delivery_mode="record")
    sub = recorder.create_webhook("https://example.com/hook", ["PATIENT_CREATED"])
    (delivery,) = recorder.fire("PATIENT_CREATED", fault="bad_signature")
    assert delivery["status"] == "recorded"
    headers = delivery["attempts"][0]["requestHeaders"]
    with pytest.raises(InvalidSignature):
        verify(delivery["body"], headers, sub["secret"])


def test_a_verifying_receiver_refuses_every_signature_fault(
    server: MockSembleServer, receiver: WebhookReceiver
) -> None:
    # README "Testing error paths": a receiver that checks signatures answers 401.
    scheme = scheme_of(server)
    sub = subscribe(server, receiver)

    def endpoint(request: Any) -> int:
        try:
            verify(request.body, request.headers, sub["secret"], scheme=scheme)
        except SignatureError:
            return 401
        return 200

    receiver.respond_with(endpoint, times=None)
    faults = ["bad_signature", "missing_signature", None]
    if scheme in TIMESTAMPED:
        faults.append("stale_timestamp")
    answers = {}
    for fault in faults:
        (delivery,) = server.fire("PATIENT_CREATED", fault=fault)
        answers[fault] = delivery["attempts"][0]["responseStatus"]
    assert answers == {fault: 200 if fault is None else 401 for fault in faults}
