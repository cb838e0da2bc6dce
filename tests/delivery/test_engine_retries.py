"""The delivery engine's attempt series, in-process (SPEC §2.4, §2.5).

The receiver is an ``httpx.MockTransport`` handler on the test's own event loop, so each
test runs the engine's retry code in the test's thread: mutation testing maps these tests
to the functions they run (it never maps tests that drive a server thread), and no
socket or sleep is needed. Expected values are SPEC's, written out here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from request_context import context_of

from mock_semble.app import create_runtime
from mock_semble.core.context import RequestContext
from mock_semble.core.events import Event
from mock_semble.core.server import LISTENING
from mock_semble.core.settings import Settings
from mock_semble.delivery.engine import DeliveryEngine, engine_of
from mock_semble.delivery.journal import Delivery
from mock_semble.webhooks import operations as ops
from mock_semble.webhooks.models import Subscription

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
URL = "http://127.0.0.1:9/hooks/secret-path?token=abc"
PATIENT = "aaaaaaaaaaaaaaaaaaaaaaaa"
FAR = 3000.0  # a gap no test waits for: taking it makes the test time out

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


@dataclass
class Engine:
    """An engine on the test's loop whose HTTP client answers with ``handler``."""

    engine: DeliveryEngine
    ctx: RequestContext
    events: list[Event]
    requests: list[httpx.Request] = field(default_factory=list)

    def subscribe(self, url: str = URL, **changes: object) -> Subscription:
        sub = ops.create_webhook(
            self.ctx, url=url, event_types=["patient.created"], label="l", headers=None
        )
        for name, value in changes.items():
            setattr(sub, name, value)
        return sub

    def fire(self, sub: Subscription | None = None) -> Delivery:
        practice = self.ctx.practice.id
        made = self.engine.fire(
            Event(practice, "patient.created", {"patientId": PATIENT}, None, None)
            if sub is None
            else Event(practice, "patient.created", {"patientId": PATIENT}, None, sub.id)
        )
        assert len(made) == 1
        return made[0]

    async def settle(self, delivery: Delivery) -> None:
        await asyncio.wait_for(self.engine.wait([delivery], timeout=30), 30)
        assert delivery.final, delivery.status

    def failures_reported(self) -> list[Event]:
        return [e for e in self.events if e.event_type == "webhook.event.deliveryFailed"]


@asynccontextmanager
async def engine_with(handler: Handler, **options: object) -> AsyncIterator[Engine]:
    settings = Settings(
        **{"allow_http_localhost": True, "event_types": "strings", **options}  # type: ignore[arg-type]
    )
    runtime = create_runtime(settings)
    runtime.clock.freeze(NOW)
    events: list[Event] = []
    runtime.subscribe(events.append)
    ctx = context_of(runtime)
    engine = engine_of(runtime)
    await engine.start()
    harness = Engine(engine, ctx, events)

    async def record(request: httpx.Request) -> httpx.Response:
        harness.requests.append(request)
        return await handler(request)

    engine._client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    try:
        yield harness
    finally:
        await engine.stop()


def answers(*statuses: int, headers: dict[str, str] | None = None) -> Handler:
    """Answer each request with the next status (the last one repeats)."""
    queue = list(statuses)

    async def handler(request: httpx.Request) -> httpx.Response:
        status = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(status, headers=headers, text=f"answer {status}")

    return handler


def hanging(started: asyncio.Event | None = None) -> Handler:
    """A receiver that never answers; ``started`` is set when a request arrives."""

    async def handler(request: httpx.Request) -> httpx.Response:
        if started is not None:
            started.set()
        await asyncio.sleep(FAR)
        raise AssertionError("never answered")

    return handler


def numbers_and_statuses(delivery: Delivery) -> list[tuple[int, int | None]]:
    return [(a.number, a.response_status) for a in delivery.attempts]


# -- what counts as success (SPEC §2.4: any 2xx; a 3xx is a failure) -----------------------


@pytest.mark.parametrize("status", [200, 204, 299])
def test_any_2xx_succeeds_at_once(status: int) -> None:
    async def scenario() -> None:
        async with engine_with(answers(status), retry_schedule=(FAR,)) as h:
            sub = h.subscribe(failed_deliveries=3)
            delivery = h.fire()
            await h.settle(delivery)
            assert delivery.status == "succeeded"
            assert numbers_and_statuses(delivery) == [(1, status)]
            assert sub.failed_deliveries == 0  # a success ends the run of failures
            assert h.failures_reported() == []

    asyncio.run(scenario())


@pytest.mark.parametrize("status", [101, 199, 300, 302, 400, 500])
def test_anything_else_is_retried_on_the_schedule_then_fails(status: int) -> None:
    async def scenario() -> None:
        async with engine_with(answers(status), retry_schedule=(0.0, 0.0)) as h:
            sub = h.subscribe()
            delivery = h.fire()
            await h.settle(delivery)
            assert delivery.status == "failed"
            assert numbers_and_statuses(delivery) == [(1, status), (2, status), (3, status)]
            assert [a.error for a in delivery.attempts] == [None, None, None]
            assert sub.failed_deliveries == 1
            [report] = h.failures_reported()
            assert report.identifiers == {"subscriptionId": sub.id, "outboxId": delivery.id}
            assert report.metadata == {
                "failedEventType": "patient.created",
                "httpStatusCode": status,
            }

    asyncio.run(scenario())


def test_a_later_2xx_ends_the_series() -> None:
    async def scenario() -> None:
        async with engine_with(answers(500, 502, 201), retry_schedule=(0.0, 0.0, 0.0)) as h:
            h.subscribe()
            delivery = h.fire()
            await h.settle(delivery)
            assert delivery.status == "succeeded"
            assert numbers_and_statuses(delivery) == [(1, 500), (2, 502), (3, 201)]
            assert h.failures_reported() == []

    asyncio.run(scenario())


def test_an_empty_schedule_means_one_attempt() -> None:
    async def scenario() -> None:
        async with engine_with(answers(500), retry_schedule=()) as h:
            h.subscribe()
            delivery = h.fire()
            await h.settle(delivery)
            assert (delivery.status, numbers_and_statuses(delivery)) == ("failed", [(1, 500)])

    asyncio.run(scenario())


def test_410_stops_retrying_and_counts_for_the_breaker() -> None:
    async def scenario() -> None:
        async with engine_with(answers(410), retry_schedule=(0.0, 0.0), circuit_breaker=2) as h:
            sub = h.subscribe(failed_deliveries=1)
            delivery = h.fire()
            await h.settle(delivery)
            assert (delivery.status, numbers_and_statuses(delivery)) == ("failed", [(1, 410)])
            assert sub.failed_deliveries == 2
            assert sub.delivery_paused is True
            assert sub.updated_at == NOW  # the pause moves updatedAt (to the frozen now)
            assert delivery.paused_subscription is True
            assert [e.event_type for e in h.events[-2:]] == [
                "webhook.event.deliveryFailed",
                "webhook.subscription.updated",
            ]

    asyncio.run(scenario())


def test_a_transport_error_is_a_failure_with_no_status() -> None:
    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("All connection attempts failed", request=request)

    async def scenario() -> None:
        async with engine_with(refuse, retry_schedule=(0.0,)) as h:
            sub = h.subscribe()
            delivery = h.fire()
            await h.settle(delivery)
            assert delivery.status == "failed"
            assert numbers_and_statuses(delivery) == [(1, None), (2, None)]
            assert [a.error for a in delivery.attempts] == [
                "connect error: All connection attempts failed"
            ] * 2
            assert sub.failed_deliveries == 1
            [report] = h.failures_reported()
            assert report.metadata == {"failedEventType": "patient.created"}

    asyncio.run(scenario())


# -- the gaps: schedule[n - 1] before attempt n + 1, or a Retry-After --------------------------


def test_the_gap_before_attempt_n_plus_1_is_the_nth_delay() -> None:
    """With (0, FAR), attempt 2 comes at once and attempt 3 would wait FAR: taking any
    other delay for the first gap makes this time out."""

    async def scenario() -> None:
        async with engine_with(answers(500), retry_schedule=(0.0, FAR)) as h:
            h.subscribe()
            delivery = h.fire()
            while len(delivery.attempts) < 2:
                await asyncio.sleep(0)
            assert numbers_and_statuses(delivery) == [(1, 500), (2, 500)]
            assert delivery.status == "retrying"
            assert len(h.requests) == 2

    asyncio.run(asyncio.wait_for(scenario(), 30))


@pytest.mark.parametrize("status", [429, 503])
def test_a_short_retry_after_replaces_the_scheduled_gap(status: int) -> None:
    async def scenario() -> None:
        async with engine_with(
            answers(status, 200, headers={"Retry-After": "0"}), retry_schedule=(FAR,)
        ) as h:
            h.subscribe()
            delivery = h.fire()
            await h.settle(delivery)
            assert numbers_and_statuses(delivery) == [(1, status), (2, 200)]

    asyncio.run(asyncio.wait_for(scenario(), 30))


# -- refusals to send: journaled as unsent attempts, never counted ----------------------------


def test_a_subscription_paused_while_waiting_is_not_sent_to() -> None:
    async def scenario() -> None:
        async with engine_with(answers(500), retry_schedule=(0.05,)) as h:
            sub = h.subscribe()
            delivery = h.fire()
            while not delivery.attempts:
                await asyncio.sleep(0)
            ops.update_webhook(h.ctx, sub.id, delivery_paused=True)
            await h.settle(delivery)
            assert delivery.status == "failed"
            second = delivery.attempts[1]
            assert (second.number, second.request_headers, second.at) == (2, {}, NOW)
            assert second.error == "subscription was paused; not sent"
            assert sub.failed_deliveries == 0
            assert h.failures_reported() == []

    asyncio.run(scenario())


def test_a_subscription_gone_by_a_reset_is_not_sent_to() -> None:
    async def scenario() -> None:
        async with engine_with(answers(500), retry_schedule=(0.05,)) as h:
            h.subscribe()
            delivery = h.fire()
            while not delivery.attempts:
                await asyncio.sleep(0)
            h.engine.subscriptions.clear()
            await h.settle(delivery)
            assert delivery.attempts[1].error == "subscription no longer exists; not sent"
            assert h.failures_reported() == []

    asyncio.run(scenario())


def test_the_mock_s_own_address_is_never_sent_to() -> None:
    async def scenario() -> None:
        async with engine_with(answers(200)) as h:
            h.engine.runtime.extensions[LISTENING] = [("127.0.0.1", 9)]
            h.subscribe()
            delivery = h.fire()
            await h.settle(delivery)
            assert delivery.status == "failed"
            [attempt] = delivery.attempts
            assert (attempt.number, attempt.request_headers) == (1, {})
            assert attempt.error == (
                "the target is this mock's own address (127.0.0.1:9); not sent"
            )
            assert h.requests == []

    asyncio.run(scenario())


@pytest.mark.parametrize("mode", ["send", "record"])
def test_a_secret_the_scheme_cannot_use_fails_unsent(mode: str) -> None:
    async def scenario() -> None:
        async with engine_with(answers(200), signing_scheme="standard", delivery_mode=mode) as h:
            h.subscribe(signing_secret="not-a-standard-secret")
            delivery = h.fire()
            await h.settle(delivery)
            assert delivery.status == "failed"
            [attempt] = delivery.attempts
            assert (attempt.number, attempt.request_headers) == (1, {})
            assert attempt.error is not None
            assert attempt.error.startswith("cannot sign: ")
            assert h.requests == []

    asyncio.run(scenario())


def test_an_unexpected_error_ends_the_delivery_instead_of_leaving_it_pending(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        async with engine_with(answers(200)) as h:

            async def broken(delivery: Delivery) -> str | None:
                raise RuntimeError("boom")

            h.engine._own_address = broken  # type: ignore[method-assign]
            h.subscribe()
            delivery = h.fire()
            await h.settle(delivery)
            assert delivery.status == "failed"
            [attempt] = delivery.attempts
            assert (attempt.number, attempt.error) == (1, "internal error: RuntimeError('boom')")
            [record] = [r for r in caplog.records if r.levelname == "ERROR"]
            assert record.getMessage() == f"delivery {delivery.id}: unexpected error"
            assert record.exc_info is not None  # the traceback, for the bug report

    asyncio.run(scenario())


# -- fairness and logs ------------------------------------------------------------------------


def test_a_hanging_receiver_does_not_hold_up_another_subscription() -> None:
    """One request at a time (concurrency 1): each subscription has its own lane, so the
    other subscription's delivery goes once the hanging request gives back its fast slot
    (after the lanes' 1 s slow mark); with one lane for all, it would wait for the hang."""
    release = asyncio.Event()

    async def by_path(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/slow":
            await release.wait()
        return httpx.Response(200)

    async def scenario() -> None:
        async with engine_with(by_path, delivery_concurrency=1) as h:
            slow = h.subscribe("http://127.0.0.1:9/slow")
            fast = h.subscribe("http://127.0.0.1:9/fast")
            stuck = h.fire(slow)
            while not h.requests:
                await asyncio.sleep(0)
            delivered = h.fire(fast)
            await h.settle(delivered)
            assert delivered.status == "succeeded"
            assert stuck.status == "pending"
            release.set()
            await h.settle(stuck)
            assert stuck.status == "succeeded"

    asyncio.run(scenario())


def test_logs_name_the_origin_and_the_outcome_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="mock_semble.delivery")

    async def scenario() -> Delivery:
        async with engine_with(answers(500), retry_schedule=(0.0,)) as h:
            h.subscribe()
            delivery = h.fire()
            await h.settle(delivery)
            return delivery

    delivery = asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if r.name == "mock_semble.delivery"]
    assert lines == [
        f"delivery {delivery.id} attempt 1 to http://127.0.0.1:9: HTTP 500",
        f"delivery {delivery.id} attempt 2 to http://127.0.0.1:9: HTTP 500",
        f"delivery {delivery.id} to http://127.0.0.1:9 failed after 2 attempt(s): HTTP 500",
    ]
    assert "secret-path" not in caplog.text and "token" not in caplog.text
