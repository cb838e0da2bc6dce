"""The delivery engine's reset and shutdown, in-process (SPEC §2.4: on shutdown in-flight
attempts finish or are marked failed; nothing is silently lost). Same harness as
:mod:`test_engine_retries`: the receiver is a handler on the test's own loop."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx

from delivery.test_engine_retries import (
    FAR,
    NOW,
    answers,
    engine_with,
    hanging,
    numbers_and_statuses,
)
from mock_semble.core.events import Event
from mock_semble.delivery.faults import DeliveryFault


def test_a_reset_mid_request_keeps_the_attempt_that_was_sent() -> None:
    started = asyncio.Event()

    async def scenario() -> None:
        async with engine_with(hanging(started), retry_schedule=(0.0,)) as h:
            sub = h.subscribe()
            began = time.perf_counter()
            delivery = h.fire()
            await started.wait()
            await asyncio.sleep(0.05)
            h.engine.reset()
            await h.settle(delivery)
            window_ms = (time.perf_counter() - began) * 1000
            assert delivery.status == "failed"
            [attempt] = delivery.attempts
            assert attempt.number == 1
            assert attempt.request_headers["Content-Type"] == "application/json"
            assert attempt.error == "deliveries were reset during this attempt"
            # how long it ran, in ms to one decimal: within what the test saw
            assert type(attempt.duration_ms) is float
            assert 50.0 <= attempt.duration_ms <= window_ms
            assert attempt.duration_ms == round(attempt.duration_ms, 1)
            assert sub.failed_deliveries == 0
            assert h.failures_reported() == []

    asyncio.run(scenario())


def test_a_reset_between_attempts_journals_the_next_one_unsent() -> None:
    async def scenario() -> None:
        async with engine_with(answers(500), retry_schedule=(FAR,)) as h:
            h.subscribe()
            delivery = h.fire()
            while delivery.status != "retrying":
                await asyncio.sleep(0)
            h.engine.reset()
            await h.settle(delivery)
            assert delivery.status == "failed"
            assert numbers_and_statuses(delivery) == [(1, 500), (2, None)]
            assert delivery.attempts[1].error == "deliveries were reset; not sent"
            assert delivery.attempts[1].request_headers == {}

    asyncio.run(scenario())


def test_shutdown_during_an_attempt_lets_it_finish_then_sends_no_retry() -> None:
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(500)

    async def scenario() -> None:
        async with engine_with(slow, retry_schedule=(0.0, 0.0)) as h:
            sub = h.subscribe()
            delivery = h.fire()
            while not h.requests:
                await asyncio.sleep(0)
            stopping = asyncio.ensure_future(h.engine.stop())
            await asyncio.sleep(0)
            assert h.engine.closing
            release.set()
            await stopping
            assert delivery.status == "failed"
            assert numbers_and_statuses(delivery) == [(1, 500), (2, None)]
            assert delivery.attempts[1].error == "server shut down before this retry; not sent"
            assert sub.failed_deliveries == 0
            assert h.failures_reported() == []

    asyncio.run(scenario())


def test_shutdown_cancels_a_hanging_attempt_after_the_grace_and_marks_it() -> None:
    """An attempt still unanswered 2 s into the shutdown (here, before its 3 s timeout)
    is cancelled; stop() returns only once the cancelled attempt is journaled."""

    async def scenario() -> None:
        async with engine_with(hanging(), retry_schedule=(0.0,), delivery_timeout=3.0) as h:
            h.subscribe()
            delivery = h.fire()
            while not h.requests:
                await asyncio.sleep(0)
            await h.engine.stop()
            assert delivery.status == "failed"
            [attempt] = delivery.attempts
            assert attempt.error == "server shut down during this attempt"
            assert attempt.request_headers != {}

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_reset_with_finished_deliveries_in_the_journal() -> None:
    async def scenario() -> None:
        async with engine_with(answers(200)) as h:
            h.subscribe()
            done = h.fire()
            await h.settle(done)
            h.engine.reset()  # a finished delivery has no task left to cancel
            assert h.engine.journal.page(None, 10, None)[0] == []

    asyncio.run(scenario())


def test_a_reset_from_another_thread_wakes_the_loop_and_cancels() -> None:
    started = asyncio.Event()

    async def scenario() -> None:
        async with engine_with(hanging(started)) as h:
            h.subscribe()
            delivery = h.fire()
            await started.wait()
            worker = threading.Thread(target=h.engine.runtime.reset)
            await asyncio.to_thread(lambda: (worker.start(), worker.join()))
            await h.settle(delivery)
            assert delivery.attempts[-1].error == "deliveries were reset during this attempt"

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_duplicate_is_sent_once_the_first_entry_is_final() -> None:
    release = asyncio.Event()

    async def first_held(request: httpx.Request) -> httpx.Response:
        if len(h.requests) == 1:
            await release.wait()
        return httpx.Response(200)

    async def scenario() -> None:
        nonlocal h
        async with engine_with(first_held) as harness:
            h = harness
            sub = h.subscribe()
            first, second = h.engine.fire(
                Event(sub.practice_id, "patient.created", {"patientId": "a" * 24}),
                DeliveryFault("duplicate"),
            )
            assert second.fault is not None and second.fault.duplicate_of is first
            while not h.requests:
                await asyncio.sleep(0)
            for _ in range(20):
                await asyncio.sleep(0)
            assert len(h.requests) == 1  # the second waits for the first
            assert (first.status, second.status) == ("pending", "pending")
            release.set()
            await h.settle(second)
            assert [r.content for r in h.requests] == [first.body.encode()] * 2
            assert numbers_and_statuses(second) == [(1, 200)]
            assert second.attempts[0].at == NOW

    h = None  # type: ignore[assignment]
    asyncio.run(scenario())


def test_a_reset_before_the_first_attempt_journals_it_unsent() -> None:
    """The duplicate's entry waits for the first one before its first attempt; a reset
    then ends it with attempt 1 unsent."""
    release = asyncio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200)

    async def scenario() -> None:
        async with engine_with(held) as h:
            sub = h.subscribe()
            _, second = h.engine.fire(
                Event(sub.practice_id, "patient.created", {"patientId": "a" * 24}),
                DeliveryFault("duplicate"),
            )
            while not h.requests:
                await asyncio.sleep(0)
            h.engine.reset()
            await h.settle(second)
            [attempt] = second.attempts
            assert (attempt.number, attempt.request_headers) == (1, {})
            assert attempt.error == "deliveries were reset; not sent"
            release.set()

    asyncio.run(scenario())


def test_at_shutdown_a_delivery_waiting_to_retry_ends_at_once() -> None:
    """Only attempts in flight get the grace; one waiting for its retry is failed at the
    start of the shutdown, while the one in flight is still running."""
    release = asyncio.Event()

    async def by_path(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/hang":
            await release.wait()
        return httpx.Response(500)

    async def scenario() -> None:
        async with engine_with(by_path, retry_schedule=(FAR,), delivery_timeout=3.0) as h:
            waiting = h.fire(h.subscribe("http://127.0.0.1:9/fail"))
            in_flight = h.fire(h.subscribe("http://127.0.0.1:9/hang"))
            while waiting.status != "retrying" or len(h.requests) < 2:
                await asyncio.sleep(0)
            stopping = asyncio.ensure_future(h.engine.stop())
            for _ in range(5):
                await asyncio.sleep(0)
            assert waiting.status == "failed"
            assert waiting.attempts[-1].error == "server shut down; not sent"
            assert in_flight.status == "pending"
            release.set()
            await stopping
            assert in_flight.status == "failed"

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_task_cancelled_for_no_given_reason_says_cancelled() -> None:
    """E.g. the loop cancelling what is left when it closes."""
    started = asyncio.Event()

    async def scenario() -> None:
        async with engine_with(hanging(started)) as h:
            h.subscribe()
            in_flight = h.fire()
            await started.wait()
            h.engine._tasks[in_flight.id].cancel()
            await h.settle(in_flight)
            assert in_flight.attempts[-1].error == "cancelled during this attempt"

        async with engine_with(answers(500), retry_schedule=(FAR,)) as h:
            h.subscribe()
            waiting = h.fire()
            while waiting.status != "retrying":
                await asyncio.sleep(0)
            h.engine._tasks[waiting.id].cancel()
            await h.settle(waiting)
            assert waiting.attempts[-1].error == "cancelled; not sent"

    asyncio.run(scenario())


def test_stop_closes_the_http_client() -> None:
    async def scenario() -> None:
        async with engine_with(answers(200)) as h:
            client = h.engine._client
            assert client is not None
            h.subscribe()
            await h.settle(h.fire())
            await h.engine.stop()
            assert client.is_closed
            assert h.engine._client is None

    asyncio.run(scenario())
