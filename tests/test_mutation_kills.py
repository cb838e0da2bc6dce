"""Tests written for mutants that survived the suite (docs/mutation.md): exact messages
and codes, the edges of the input checks, and store and operation paths the API tests
reach only through a live server. Expected values come from SPEC §1.4, §1.5, §2.3 and
§2.5, or from the documented behaviour of the function under test."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from request_context import context_of

from mock_semble.app import create_runtime
from mock_semble.core.context import RequestContext
from mock_semble.core.errors import RuleError
from mock_semble.core.events import Event
from mock_semble.core.ids import IdFactory, is_object_id
from mock_semble.core.settings import Settings
from mock_semble.delivery.engine import engine_of
from mock_semble.delivery.signing import InvalidSignature, StaleTimestamp, sign, verify
from mock_semble.testing.receiver import WebhookReceiver
from mock_semble.webhooks import operations as ops
from mock_semble.webhooks.rules import (
    check_event_types,
    check_headers,
    check_url,
    conflict,
    not_found,
    url_key,
)
from mock_semble.webhooks.store import Changes, SubscriptionStore

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"eventType":"patient.created"}'
T0 = 1_700_000_000


# -- event types (SPEC §1.5: an unknown value is "invalid event type: <value>") ---------


def test_an_unknown_event_type_names_itself_with_its_code() -> None:
    with pytest.raises(RuleError) as info:
        check_event_types(["patient.created", "patient.exploded"])
    assert (info.value.message, info.value.code) == (
        "invalid event type: patient.exploded",
        "INVALID_EVENT_TYPES",
    )


def test_a_long_unknown_event_type_is_echoed_up_to_256_characters() -> None:
    unknown = "x" * 300
    with pytest.raises(RuleError) as info:
        check_event_types([unknown])
    assert info.value.message == "invalid event type: " + "x" * 256


# -- sign(): the standard scheme's message id ------------------------------------------------


def test_the_standard_scheme_without_a_message_id_says_so() -> None:
    with pytest.raises(ValueError) as info:
        sign(BODY, SECRET, scheme="standard", timestamp=T0)
    assert str(info.value) == "the 'standard' signing scheme needs a message_id (the event id)"


def test_a_message_id_that_is_not_text_is_a_type_error() -> None:
    with pytest.raises(TypeError) as info:
        sign(BODY, SECRET, scheme="standard", timestamp=T0, message_id=42)  # type: ignore[arg-type]
    assert str(info.value) == "message_id must be a str, not int"


@pytest.mark.parametrize("control", ["\x00", "\x1f", "\x7f", "\n"])
def test_control_characters_in_a_message_id_are_refused(control: str) -> None:
    with pytest.raises(ValueError) as info:
        sign(BODY, SECRET, scheme="standard", timestamp=T0, message_id=f"evt{control}1")
    assert str(info.value) == "message_id must not contain control characters"


@pytest.mark.parametrize("edge", [" ", "\x80", "é"])
def test_space_and_characters_past_delete_are_allowed_in_a_message_id(edge: str) -> None:
    headers = sign(BODY, SECRET, scheme="standard", timestamp=T0, message_id=f"evt{edge}1")
    assert headers["webhook-id"] == f"evt{edge}1"


def test_a_message_id_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValueError) as info:
        sign(BODY, SECRET, scheme="standard", timestamp=T0, message_id="evt\ud800")
    assert str(info.value) == "message_id is not encodable as UTF-8"


# -- webhook rules: messages and URL keys (SPEC §1.4) ----------------------------------------


def test_not_found_and_conflict_are_the_specs_payload_errors() -> None:
    assert (not_found().message, not_found().code, not_found().status) == (
        "Webhook not found",
        "NOT_FOUND",
        404,
    )
    assert (conflict().message, conflict().code, conflict().status) == (
        "A webhook subscription with this url and an overlapping event type already exists",
        "CONFLICT",
        409,
    )


@pytest.mark.parametrize("url", ["https://:443/h", "https://:8443/h", "https:///h"])
def test_a_url_without_a_host_is_refused(url: str) -> None:
    with pytest.raises(RuleError) as info:
        check_url(url)
    assert info.value.message == "url must be a valid HTTPS URL"


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("HTTPS://Hooks.Example.COM:443/H?Q=1", "https://hooks.example.com/H?Q=1"),
        ("https://[::1]:443/h", "https://[::1]/h"),
        ("https://[::1]:8443/h", "https://[::1]:8443/h"),
        ("https://[2001:DB8::1]/h", "https://[2001:db8::1]/h"),
    ],
)
def test_url_keys_are_written_out(url: str, key: str) -> None:
    assert url_key(url) == key


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ([(f"X-{n}", "v") for n in range(21)], "at most 20 headers are allowed"),
        ([("", "v")], "key must be between 1 and 256 characters"),
        ([("X" * 257, "v")], "key must be between 1 and 256 characters"),
        ([("Bad Key", "v")], "key 'Bad Key' is not a valid HTTP header name"),
        ([("X-A", "1"), ("x-a", "2")], "key 'x-a' is given more than once"),
        ([("X-A", "v" * 4097)], "value of 'X-A' is longer than 4096 characters"),
    ],
)
def test_header_refusals_say_why(headers: list[tuple[str, str]], why: str) -> None:
    with pytest.raises(RuleError) as info:
        check_headers(headers)
    assert (info.value.message, info.value.code) == (f"invalid header: {why}", "INVALID_HEADERS")


# -- the subscription store, directly ----------------------------------------------------------

NOW = datetime(2026, 11, 28, 15, 2, 26, 123000, tzinfo=UTC)
LATER = datetime(2026, 11, 28, 16, 0, 0, tzinfo=UTC)
P1, P2 = "0000000000000000000000e1", "0000000000000000000000e2"


def new_store() -> SubscriptionStore:
    return SubscriptionStore(IdFactory(seed=3), threading.RLock())


def add(store: SubscriptionStore, practice: str = P1, url: str = "https://a.example.com/h") -> Any:
    events = ("patient.created",)
    return store.create(practice, url=url, event_types=events, label="l", headers=None, now=NOW)


def test_created_subscriptions_get_fresh_ids_and_are_found() -> None:
    store = new_store()
    one, two = add(store), add(store, P2)
    assert is_object_id(one.id) and is_object_id(two.id) and one.id != two.id
    assert store.find(two.id) is two and store.find("0" * 24) is None


def test_update_and_delete_refuse_a_deleted_subscription_and_stamp_the_time() -> None:
    store = new_store()
    sub = add(store)
    assert store.delete(P1, sub.id, now=LATER).updated_at == LATER
    calls: list[Callable[[], object]] = [
        lambda: store.update(P1, sub.id, Changes(label="x"), now=LATER),
        lambda: store.delete(P1, sub.id, now=LATER),
    ]
    for call in calls:
        with pytest.raises(RuleError) as info:
            call()
        assert info.value.code == "NOT_FOUND"


def test_pausing_and_resuming_and_the_breaker_count() -> None:
    store = new_store()
    sub = add(store)
    store.update(P1, sub.id, Changes(delivery_paused=True), now=NOW)
    assert sub.delivery_paused is True
    sub.failed_deliveries = 3
    store.update(P1, sub.id, Changes(delivery_paused=True), now=NOW)  # paused again: kept
    assert sub.failed_deliveries == 3
    store.update(P1, sub.id, Changes(label="renamed"), now=NOW)  # not given: stays paused
    assert (sub.delivery_paused, sub.failed_deliveries) == (True, 3)
    store.update(P1, sub.id, Changes(delivery_paused=False), now=NOW)  # a resume clears it
    assert (sub.delivery_paused, sub.failed_deliveries) == (False, 0)
    sub.failed_deliveries = 2
    store.update(P1, sub.id, Changes(delivery_paused=False), now=NOW)  # not a resume
    assert sub.failed_deliveries == 2
    store.set_paused(sub, now=LATER)
    assert (sub.delivery_paused, sub.updated_at) == (True, LATER)


def test_reset_practice_drops_only_that_practice_and_frees_its_claims() -> None:
    store = new_store()
    mine, theirs = add(store, P1), add(store, P2)
    store.reset_practice(P1)
    assert store.find(mine.id) is None and store.list(P1, include_deleted=True) == []
    assert store.find(theirs.id) is theirs and store.list(P2) == [theirs]
    assert add(store, P1).practice_id == P1  # the URL is free again: no conflict
    with pytest.raises(RuleError):
        add(store, P2)  # the other practice's claim stands


def test_resetting_a_practice_without_subscriptions_is_fine() -> None:
    store = new_store()
    theirs = add(store, P2)
    store.reset_practice(P1)
    assert store.list(P2) == [theirs]


class RepeatingIds(IdFactory):
    """Gives the same id twice in a row, as a seeded run may after a reset."""

    def __init__(self) -> None:
        super().__init__(seed=1)
        self.given = ["a" * 24, "a" * 24, "b" * 24]

    def new_id(self) -> str:
        return self.given.pop(0) if self.given else super().new_id()


def test_a_taken_id_is_never_given_again() -> None:
    store = SubscriptionStore(RepeatingIds(), threading.RLock())
    first = add(store)
    second = add(store, P2)
    assert (first.id, second.id) == ("a" * 24, "b" * 24)


def test_loaded_subscriptions_are_indexed_like_created_ones() -> None:
    store = new_store()
    sub = add(store)
    deleted = add(store, url="https://b.example.com/h")
    store.delete(P1, deleted.id, now=NOW)
    store.clear()
    store.insert_loaded(sub)
    store.insert_loaded(deleted)
    store.insert_loaded(sub)  # a repeat is ignored
    assert store.list(P1, include_deleted=True) == [sub, deleted]
    assert store.list(P1) == [sub]  # deleted ones only when asked for
    with pytest.raises(RuleError):
        add(store)  # its claim is back
    assert add(store, url="https://b.example.com/h").url_key == "https://b.example.com/h"


# -- webhook operations, through a request context ------------------------------------------------


def context_for(settings: Settings) -> tuple[RequestContext, list[Event]]:
    runtime = create_runtime(settings)
    runtime.clock.freeze(NOW)
    events: list[Event] = []
    runtime.subscribe(events.append)
    return context_of(runtime), events


def test_allowed_http_hosts_and_localhost_apply_to_create_and_update() -> None:
    settings = Settings(allow_http_hosts=("host.docker.internal",), allow_http_localhost=True)
    ctx, _ = context_for(settings)
    made = ops.create_webhook(
        ctx, url="http://host.docker.internal/h", event_types=["patient.created"], label="l",
        headers=None,
    )  # fmt: skip
    moved = ops.update_webhook(ctx, made.id, url="http://127.0.0.1:9000/h")
    assert moved.url == "http://127.0.0.1:9000/h"
    back = ops.update_webhook(ctx, made.id, url="http://host.docker.internal/other")
    assert back.url == "http://host.docker.internal/other"


def test_an_update_that_changes_something_publishes_subscription_updated() -> None:
    ctx, events = context_for(Settings())
    sub = ops.create_webhook(
        ctx, url="https://a.example.com/h", event_types=["patient.created"], label="l",
        headers=[("X-A", "1")],
    )  # fmt: skip
    assert events == []
    ops.update_webhook(ctx, sub.id, label="l", headers=[("X-A", "1")])  # the same: nothing
    assert events == []
    paused = ops.update_webhook(ctx, sub.id, delivery_paused=True)
    assert paused.delivery_paused is True
    assert events == [
        Event(sub.practice_id, "webhook.subscription.updated", {"subscriptionId": sub.id},
              {"deliveryPaused": True})
    ]  # fmt: skip
    ops.update_webhook(ctx, sub.id, headers=[])
    assert sub.headers == () and len(events) == 2


def test_delete_stamps_the_clock_time() -> None:
    ctx, _ = context_for(Settings())
    sub = ops.create_webhook(
        ctx, url="https://a.example.com/h", event_types=["patient.created"], label="l",
        headers=None,
    )  # fmt: skip
    ctx.runtime.clock.freeze(LATER)
    assert ops.delete_webhook(ctx, sub.id).updated_at == LATER


# -- sign() and verify(): every refusal says what is wrong (SPEC §2.3) --------------------------

STD_SECRET = "whsec_" + "A" * 43 + "="  # 32 zero bytes, base64 with its padding


def semble(ts: int = T0, body: bytes = BODY) -> dict[str, str]:
    return sign(body, SECRET, timestamp=ts)


def stamped(signature: str, ts: str = str(T0)) -> dict[str, str]:
    return {"X-Webhook-Signature": signature, "X-Webhook-Timestamp": ts}


def refusal(call: Callable[[], object]) -> str:
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    return str(info.value)


def standard(secret: str) -> dict[str, str]:
    return sign(BODY, secret, scheme="standard", timestamp=T0, message_id="evt_1")


def test_sign_refusals() -> None:
    assert refusal(lambda: sign(BODY, SECRET, scheme="nope")) == (
        "unknown signing scheme 'nope'; valid schemes are 'semble', 'standard', "
        "'hmac-sha256-hex', 'hmac-sha256-base64'"
    )
    assert refusal(lambda: sign(1, SECRET)) == "body must be bytes or str, not int"  # type: ignore[arg-type]
    assert refusal(lambda: sign(BODY, 1)) == "secret must be a str, not int"  # type: ignore[arg-type]
    assert refusal(lambda: sign(BODY, "")) == "webhook secret may not be empty"
    assert refusal(lambda: sign(BODY, "\ud800")) == "webhook secret is not encodable as UTF-8"
    assert refusal(lambda: standard(1)) == "secret must be a str, not int"  # type: ignore[arg-type]
    assert refusal(lambda: standard("whsec_!!!!")) == (
        "webhook secret for the 'standard' scheme must be base64, optionally prefixed with 'whsec_'"
    )
    assert refusal(lambda: standard("whsec_")) == "webhook secret may not be empty"
    assert refusal(lambda: sign(BODY, SECRET, timestamp="1")) == (  # type: ignore[arg-type]
        "timestamp must be an int, not str"
    )
    assert refusal(lambda: sign(BODY, SECRET, timestamp=-1)) == "timestamp must not be negative"


def test_standard_secrets_may_carry_extra_padding() -> None:
    assert standard(STD_SECRET + "==") == standard(STD_SECRET)


def test_raw_byte_header_values_are_read_as_latin_1() -> None:
    raw = {k: v.encode("latin-1") for k, v in semble().items()}
    verify(BODY, raw, SECRET, now=T0)  # type: ignore[arg-type]


def test_any_of_several_v1_signatures_may_match() -> None:
    good = semble()["X-Webhook-Signature"]
    verify(BODY, stamped(good + ",v1=" + "0" * 64), SECRET, now=T0)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (stamped("v1"), "X-Webhook-Signature header must have the form 't=<unix s>,v1=<hex>'"),
        (stamped(f"t={T0},t={T0},v1=00"), "X-Webhook-Signature header has more than one t= entry"),
        (stamped("v1=00"), "X-Webhook-Signature header has no t= entry"),
        (stamped(f"t={T0}"), "X-Webhook-Signature header has no v1= signature"),
        (
            stamped("t=12=3,v1=00", "12=3"),
            "the t= value of X-Webhook-Signature is not a Unix timestamp in whole seconds",
        ),
        (
            stamped(f"t={T0},v1=" + "0" * 64),
            "no v1 signature in X-Webhook-Signature matches the body and timestamp",
        ),
    ],
)
def test_semble_verify_refusals(headers: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidSignature) as info:
        verify(BODY, headers, SECRET, now=T0)
    assert str(info.value) == message


def test_timestamps_of_twenty_digits_are_read_and_more_are_refused() -> None:
    huge = int("9" * 20)
    with pytest.raises(StaleTimestamp):  # read, authentic, far in the future
        verify(BODY, semble(huge), SECRET, now=T0)
    with pytest.raises(InvalidSignature) as info:
        verify(BODY, semble(huge * 10 + 9), SECRET, now=T0)
    assert "is not a Unix timestamp in whole seconds" in str(info.value)


def test_stale_timestamps_say_how_far_and_which_way() -> None:
    with pytest.raises(StaleTimestamp) as past:
        verify(BODY, semble(T0 - 1), SECRET, now=T0, tolerance=0)
    assert str(past.value) == f"webhook timestamp {T0 - 1} is 1 s in the past; the tolerance is 0 s"
    with pytest.raises(StaleTimestamp) as future:
        verify(BODY, semble(T0 + 5), SECRET, now=T0, tolerance=0)
    assert str(future.value) == (
        f"webhook timestamp {T0 + 5} is 5 s in the future; the tolerance is 0 s"
    )


def test_plain_hmac_verify_refusals() -> None:
    hexed = sign(BODY, SECRET, scheme="hmac-sha256-hex")
    with pytest.raises(InvalidSignature) as info:
        verify(BODY, {"X-Webhook-Signature": "md5=00"}, SECRET, scheme="hmac-sha256-hex")
    assert str(info.value) == "X-Webhook-Signature header must have the form 'sha256=<hex>'"
    for scheme, headers in (
        ("hmac-sha256-hex", {"X-Webhook-Signature": "sha256=" + "0" * 64}),
        ("hmac-sha256-base64", {"X-Webhook-Signature": "AAAA"}),
    ):
        with pytest.raises(InvalidSignature) as info:
            verify(BODY, headers, SECRET, scheme=scheme)
        assert str(info.value) == "X-Webhook-Signature signature does not match the body"
    verify(BODY, hexed, SECRET, scheme="hmac-sha256-hex")
    with pytest.raises(ValueError) as bad:
        verify(BODY, hexed, SECRET, scheme="hmac-sha256-hex", tolerance=-1)
    assert str(bad.value) == "tolerance must be a non-negative int (seconds)"


def std_headers(signature: str, msg_id: str = "evt_1", ts: str = str(T0)) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": signature}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            std_headers("v1,AAAA", ts="soon"),
            "webhook-timestamp is not a Unix timestamp in whole seconds",
        ),
        (std_headers("v1,AAAA", msg_id="evt\ud800"), "webhook-id header is not valid text"),
        (std_headers("v2,AAAA"), "webhook-signature header has no 'v1,<base64>' signature"),
        (std_headers("v1,AAAA,BBBB"), "no v1 signature in webhook-signature matches the message"),
    ],
)
def test_standard_verify_refusals(headers: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidSignature) as info:
        verify(BODY, headers, STD_SECRET, scheme="standard", now=T0)
    assert str(info.value) == message


def test_a_standard_secret_may_end_in_any_base64_character() -> None:
    key = b"\x00\x00\x17"  # base64 "AAAX": a secret whose last character is an X
    message = b"evt_1." + str(T0).encode() + b"." + BODY
    expected = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    assert standard("whsec_AAAX")["webhook-signature"] == f"v1,{expected}"


# -- delivery retries (SPEC §2.4, §2.5): a subscription deleted while its delivery waits ----------


def test_a_delivery_whose_subscription_is_deleted_while_waiting_ends_reported() -> None:
    asyncio.run(_deleted_while_waiting())


async def _deleted_while_waiting() -> None:
    settings = Settings(allow_http_localhost=True, retry_schedule=(0.2,), event_types="strings")
    ctx, events = context_for(settings)
    engine = engine_of(ctx.runtime)
    await engine.start()
    deleted = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        with WebhookReceiver() as receiver:
            receiver.respond_with(503)
            sub = ops.create_webhook(
                ctx, url=receiver.url, event_types=["patient.created"], label="l", headers=None
            )
            sub.failed_deliveries = 2
            [delivery] = engine.fire(Event(sub.practice_id, "patient.created", {"patientId": P1}))

            def delete_after_the_first_attempt() -> None:
                receiver.wait_for(1)
                loop.call_soon_threadsafe(deleted.set)

            await asyncio.to_thread(delete_after_the_first_attempt)
            await deleted.wait()
            ops.delete_webhook(ctx, sub.id)
            await engine.wait([delivery], timeout=10)
    finally:
        await engine.stop()
    assert delivery.status == "failed"
    first, second = delivery.attempts
    assert (first.number, first.response_status) == (1, 503)
    assert (second.number, second.request_headers, second.error) == (
        2,
        {},
        "subscription was deleted; not sent",
    )
    assert sub.failed_deliveries == 2  # not counted: nothing was sent to fail
    assert [e for e in events if e.event_type == "webhook.event.deliveryFailed"] == [
        Event(
            sub.practice_id,
            "webhook.event.deliveryFailed",
            {"subscriptionId": sub.id, "outboxId": delivery.id},
            {"failedEventType": "patient.created", "httpStatusCode": 503},
        )
    ]
