"""An event that reaches many subscriptions (SPEC §2.1, §7): its deliveries are made a
slice of 256 at a time with turns for other requests in between; the first slice exists
when ``fire`` returns, ``POST /__mock/events`` answers with all of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from loop_turns import LoopTurns
from request_context import context_of

from mock_semble.app import create_app
from mock_semble.core.events import Event
from mock_semble.core.runtime import Runtime
from mock_semble.core.settings import Settings
from mock_semble.delivery.engine import DeliveryEngine, engine_of
from mock_semble.webhooks import operations as ops
from mock_semble.webhooks.models import Subscription

COUNT = 600  # three slices: 256 + 256 + 88
PATIENT = "aaaaaaaaaaaaaaaaaaaaaaaa"


@asynccontextmanager
async def served() -> AsyncIterator[tuple[httpx.AsyncClient, Runtime, list[Subscription]]]:
    app = create_app(Settings(event_types="strings", delivery_mode="record"))
    runtime: Runtime = app.state.runtime
    ctx = context_of(runtime)
    subs = [
        ops.create_webhook(
            ctx,
            url=f"https://hooks.example.com/{n}",
            event_types=["patient.created"],
            label=f"hook {n}",
            headers=None,
        )
        for n in range(COUNT)
    ]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            yield client, runtime, subs


def event(runtime: Runtime) -> Event:
    practice = runtime.default_practice_id
    assert practice is not None
    return Event(practice, "patient.created", {"patientId": PATIENT})


def journaled(engine: DeliveryEngine) -> list[str]:
    return [d.subscription_id for d in engine.journal.page(None, 10_000, None)[0]]


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def test_fire_makes_one_slice_at_once_and_the_rest_in_turns() -> None:
    async def scenario() -> None:
        async with served() as (_, runtime, subs):
            engine = engine_of(runtime)
            made = engine.fire(event(runtime))
            assert [d.subscription_id for d in made] == [s.id for s in subs[:256]]
            assert len(journaled(engine)) == 256
            await asyncio.sleep(0)
            assert len(journaled(engine)) == 512  # one more slice per turn
            await settle()
            assert journaled(engine) == [s.id for s in subs]  # each once, in order
            tails = {id(d.body_tail) for d in engine.journal.page(None, 10_000, None)[0]}
            assert len(tails) == 1  # one body tail for the whole event

    asyncio.run(scenario())


def test_fire_all_returns_every_delivery_after_turns_for_others() -> None:
    async def scenario() -> None:
        async with served() as (_, runtime, subs):
            async with LoopTurns() as turns:
                made = await engine_of(runtime).fire_all(event(runtime))
            assert [d.subscription_id for d in made] == [s.id for s in subs]
            assert turns.count >= 2  # before the second and the third slice

    asyncio.run(scenario())


def test_a_subscription_deleted_before_its_slice_is_left_out() -> None:
    async def scenario() -> None:
        async with served() as (_, runtime, subs):
            engine = engine_of(runtime)
            engine.fire(event(runtime))
            ctx = context_of(runtime)
            ops.delete_webhook(ctx, subs[300].id)
            await settle()
            expected = [s.id for s in subs if s is not subs[300]]
            assert journaled(engine) == expected

    asyncio.run(scenario())


def test_a_reset_stops_a_fan_out() -> None:
    async def scenario() -> None:
        async with served() as (_, runtime, _subs):
            engine = engine_of(runtime)
            engine.fire(event(runtime))
            runtime.reset(runtime.default_practice_id)
            await settle()
            assert journaled(engine) == []  # the first slice went with the reset, no more came

    asyncio.run(scenario())


def test_a_shutdown_stops_a_fan_out() -> None:
    async def scenario() -> None:
        async with served() as (_, runtime, _subs):
            engine = engine_of(runtime)
            engine.fire(event(runtime))
            await engine.stop()
            await settle()
            assert len(journaled(engine)) == 256

    asyncio.run(scenario())


def test_post_events_answers_with_every_delivery() -> None:
    async def scenario() -> None:
        async with served() as (client, _, subs):
            async with LoopTurns() as turns:
                answer = await client.post("/__mock/events", json={"eventType": "patient.created"})
            assert answer.status_code == 200
            assert answer.headers["content-length"] == str(len(answer.content))
            deliveries = answer.json()["deliveries"]
            assert [d["subscriptionId"] for d in deliveries] == [s.id for s in subs]
            assert {d["status"] for d in deliveries} == {"recorded"}
            assert turns.count >= 4  # two while the deliveries were made, two while encoded

    asyncio.run(scenario())


def test_subscriptions_a_reset_removed_get_nothing_from_a_fan_out_in_progress() -> None:
    async def scenario() -> None:
        async with served() as (_, runtime, _subs):
            engine = engine_of(runtime)
            making = asyncio.ensure_future(engine.fire_all(event(runtime)))
            await asyncio.sleep(0)  # the first slice is made
            runtime.reset(runtime.default_practice_id)
            made = await making
            assert len(made) == 256  # no delivery for the subscriptions the reset removed
            assert journaled(engine) == []

    asyncio.run(scenario())
