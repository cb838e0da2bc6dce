"""The delivery engine (SPEC §2): fan-out, signed sending, retries, shutdown.

Each delivery runs as its own asyncio task on the server's loop, so GraphQL requests
never wait for a receiver; a semaphore bounds how many requests are in flight. The HTTP
client (httpx, TLS context) is built on the first send, keeping start-up cheap; one
attempt's HTTP work is in :mod:`.sender`. The engine subscribes to the events the
domains publish (:meth:`Runtime.publish`) and owns no HTTP routes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..core.events import Event
from ..core.logs import origin
from ..core.runtime import Runtime
from ..core.server import LISTENING
from ..core.settings import Settings
from ..core.version import __version__
from ..webhooks import subscriptions_of
from ..webhooks.models import Subscription
from ..webhooks.operations import subscription_updated
from .failures import count_failure, count_success, delivery_failed
from .fan_out import FAN_OUT_SLICE, FanOut
from .faults import DeliveryFault, before_attempt, signed_headers, with_fault
from .journal import (
    FAILED,
    RECORDED,
    RETRYING,
    SKIPPED_PAUSED,
    SUCCEEDED,
    Attempt,
    Delivery,
    Journal,
)
from .lanes import Lanes
from .sender import RETRY_AFTER_LIMIT, build_client, own_address, send

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("mock_semble.delivery")

USER_AGENT = f"mock-semble/{__version__}"
SHUTDOWN_GRACE = 2.0  # in-flight attempts get this long to finish at shutdown
SHUT_DOWN = "server shut down"


ENGINE = "delivery"


def engine_of(runtime: Runtime) -> DeliveryEngine:
    """The delivery engine attached to ``runtime``."""
    engine = runtime.extensions[ENGINE]
    assert isinstance(engine, DeliveryEngine)
    return engine


class ShuttingDown(RuntimeError):
    """No new deliveries once stop() has begun."""


def wait_bound(schedule: tuple[float, ...], timeout: float) -> float:
    """Longest a delivery can stay in progress: every gap (a Retry-After may stretch one
    to just under 60 s), one timeout per attempt, and a little slack for queueing."""
    gaps = sum(max(delay, RETRY_AFTER_LIMIT) for delay in schedule)
    return gaps + (len(schedule) + 1) * timeout + 5.0


def _cancel_task(task: asyncio.Task[None]) -> None:
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    loop = task.get_loop()
    if running is loop:
        task.cancel()
    else:  # a reset from another thread (e.g. a test calling runtime.reset())
        loop.call_soon_threadsafe(task.cancel)


def _loggable(url: str) -> str:
    """scheme://host:port only: user-info, path and query may carry credentials."""
    return origin(url)


class DeliveryEngine:
    """Owns the delivery journal and every delivery task of one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.subscriptions = subscriptions_of(runtime)
        self.journal = Journal(runtime.settings.delivery_journal_size)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._inflight: set[str] = set()
        self._cancel_reasons: dict[str, str] = {}
        self._lanes = Lanes(runtime.settings.delivery_concurrency)
        self._client: httpx.AsyncClient | None = None
        self._client_lock = asyncio.Lock()
        self._closing = False
        self._fan_outs: dict[asyncio.Task[None], str] = {}  # -> the event's practice
        runtime.extensions[ENGINE] = self
        runtime.subscribe(self.on_event)
        runtime.on_reset(self.reset)

    @property
    def closing(self) -> bool:
        """True from the start of stop(): no new deliveries, no new retries."""
        return self._closing

    @property
    def settings(self) -> Settings:
        return self.runtime.settings  # read live: a --state-file replaces the runtime's

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        # Fresh primitives for this loop: a runtime may be served again on a new loop.
        self._lanes = Lanes(self.settings.delivery_concurrency)
        self._client_lock = asyncio.Lock()
        self._closing = False

    async def stop(self) -> None:
        """Nothing is silently lost: waiting deliveries end ``failed`` at once, in-flight
        attempts get SHUTDOWN_GRACE to finish, then are cancelled and marked."""
        self._closing = True  # fan-outs stop at their next slice
        tasks = dict(self._tasks)
        for delivery_id in tasks:
            if delivery_id not in self._inflight:
                self._cancel(delivery_id, SHUT_DOWN)
        busy = [task for delivery_id, task in tasks.items() if delivery_id in self._inflight]
        if busy:
            await asyncio.wait(busy, timeout=min(SHUTDOWN_GRACE, self.settings.delivery_timeout))
        for delivery_id in list(self._tasks):
            self._cancel(delivery_id, SHUT_DOWN)
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def reset(self, practice_id: str | None = None) -> None:
        """Reset hook and ``DELETE /__mock/deliveries``: drop entries, stop their tasks."""
        for task, practice in list(self._fan_outs.items()):
            if practice_id is None or practice == practice_id:
                _cancel_task(task)
        for delivery in self.journal.remove_where(practice_id):
            self._cancel(delivery.id, "deliveries were reset")

    def _cancel(self, delivery_id: str, reason: str) -> None:
        task = self._tasks.get(delivery_id)
        if task is None or task.done():
            return
        self._cancel_reasons[delivery_id] = reason
        _cancel_task(task)

    # -- creating deliveries -------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """A domain published an event (after its change was stored): deliver it. Events
        published while shutting down are not delivered (nothing is waiting for them)."""
        if not self._closing:
            self.fire(event)

    def fire(self, event: Event, fault: DeliveryFault | None = None) -> list[Delivery]:
        """Fan an event out to the practice's subscriptions that list it (or to the one
        it names); ``fault`` spoils each of its deliveries (SPEC §4.1). The first
        :data:`FAN_OUT_SLICE` deliveries exist when this returns (what a test reads back
        at once); beyond that a task makes the rest a slice at a time (SPEC §7: one
        request must not hold the loop for an event that reaches 10⁵ subscriptions)."""
        if self._closing:
            raise ShuttingDown(SHUT_DOWN)
        fan_out = FanOut(self.runtime, event, fault)
        made = self._make(fan_out)
        if not fan_out.done:
            task = asyncio.get_running_loop().create_task(self._make_rest(fan_out))
            self._fan_outs[task] = event.practice_id
            task.add_done_callback(self._fan_outs.pop)
        return made

    async def fire_all(self, event: Event, fault: DeliveryFault | None = None) -> list[Delivery]:
        """As :meth:`fire`, returning every delivery once all exist (``POST /__mock/events``
        answers with all of them), yielding to the loop between slices."""
        if self._closing:
            raise ShuttingDown(SHUT_DOWN)
        fan_out = FanOut(self.runtime, event, fault)
        made = self._make(fan_out)
        while not fan_out.done and not self._closing:
            await asyncio.sleep(0)
            made += self._make(fan_out)
        return made

    async def _make_rest(self, fan_out: FanOut) -> None:
        """A task: it starts at the loop's next turn, one slice per turn."""
        while not self._closing:
            self._make(fan_out)
            if fan_out.done:
                return
            await asyncio.sleep(0)

    def _make(self, fan_out: FanOut) -> list[Delivery]:
        made = []
        for delivery, sub in fan_out.next_slice(FAN_OUT_SLICE):
            self._dispatch(delivery, sub)
            made.append(delivery)
        return made

    def redeliver(self, original: Delivery, sub: Subscription) -> Delivery:
        """A new entry: same request (body, eventId, url, custom headers), freshly signed."""
        if self._closing:
            raise ShuttingDown(SHUT_DOWN)
        delivery = Delivery(
            id=self.runtime.ids.new_id(),
            event_id=original.event_id,
            event_type=original.event_type,
            subscription_id=original.subscription_id,
            practice_id=original.practice_id,
            url=original.url,
            target_url=original.target_url,
            body_head=original.body_head,
            body_tail=original.body_tail,
            created_at=self.runtime.clock.now(),
            custom_headers=original.custom_headers,
        )
        for each in with_fault(self.runtime, delivery, None):
            self._dispatch(each, sub)
        return delivery

    def _dispatch(self, delivery: Delivery, sub: Subscription) -> None:
        if sub.delivery_paused:
            delivery.status = SKIPPED_PAUSED
        elif self.settings.delivery_mode == "record":
            try:
                delivery.attempts.append(self._new_attempt(delivery, 1, sub.signing_secret))
                delivery.status = RECORDED
            except ValueError as exc:  # a secret this scheme cannot use (from a state file)
                self._give_up(delivery, 1, f"cannot sign: {exc}")
        self.journal.add(delivery)
        if not delivery.final:
            task = asyncio.get_running_loop().create_task(self._run(delivery))
            self._tasks[delivery.id] = task
            task.add_done_callback(lambda _: self._forget(delivery.id))

    def _forget(self, delivery_id: str) -> None:
        self._tasks.pop(delivery_id, None)
        self._cancel_reasons.pop(delivery_id, None)

    def _new_attempt(self, delivery: Delivery, number: int, secret: str) -> Attempt:
        """Headers in SPEC order, signed now: each attempt has its own timestamp."""
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        headers.update(delivery.custom_headers)
        headers.update(
            signed_headers(
                delivery.fault,
                delivery.body.encode(),
                secret,
                scheme=self.settings.signing_scheme,
                timestamp=self.runtime.clock.timestamp(),
                message_id=delivery.event_id,
            )
        )
        return Attempt(number=number, at=self.runtime.clock.now(), request_headers=headers)

    # -- waiting ---------------------------------------------------------------------

    async def wait(self, deliveries: Iterable[Delivery], timeout: float | None = None) -> None:
        """Until each delivery is final, or ``timeout`` (default: :func:`wait_bound`)."""
        tasks = [self._tasks[d.id] for d in deliveries if d.id in self._tasks]
        if tasks:
            if timeout is None:
                timeout = wait_bound(self.settings.retry_schedule, self.settings.delivery_timeout)
            await asyncio.wait(tasks, timeout=timeout)

    # -- one delivery's attempt series -----------------------------------------------------

    async def _run(self, delivery: Delivery) -> None:
        schedule = self.settings.retry_schedule
        current: Attempt | None = None
        started = 0.0
        try:
            number = 1
            while True:
                await before_attempt(delivery.fault, number, self.wait)
                sub = self.subscriptions.find(delivery.subscription_id)
                reason = self._unsendable(sub) or await self._own_address(delivery)
                if reason is not None or sub is None:
                    self._give_up(delivery, number, f"{reason}; not sent")
                    if sub is not None and sub.deleted:  # deleted while it waited: reported
                        self._failed_for_good(delivery, sub, counted=False)
                    return
                async with self._lanes.slot(sub.id):  # fair: per subscription
                    try:
                        current = self._new_attempt(delivery, number, sub.signing_secret)
                    except ValueError as exc:
                        self._give_up(delivery, number, f"cannot sign: {exc}")
                        return
                    started = time.perf_counter()
                    self._inflight.add(delivery.id)
                    try:
                        retry_after = await self._send(delivery, current)
                    finally:
                        self._inflight.discard(delivery.id)
                attempt, current = current, None
                delivery.attempts.append(attempt)
                status = attempt.response_status
                ok = attempt.error is None and status is not None and 200 <= status < 300
                log.debug(
                    "delivery %s attempt %d to %s: %s",
                    delivery.id,
                    number,
                    _loggable(delivery.target_url),
                    self._outcome(attempt),
                )
                if ok:
                    self._finish(delivery, SUCCEEDED)
                    count_success(self.subscriptions, sub)
                    return
                if status == 410 or number > len(schedule):
                    self._failed_for_good(delivery, sub, counted=True)
                    return
                if self._closing:
                    self._give_up(delivery, number + 1, f"{SHUT_DOWN} before this retry; not sent")
                    return
                delivery.status = RETRYING
                delay = schedule[number - 1] if retry_after is None else retry_after
                await asyncio.sleep(delay)
                number += 1
        except asyncio.CancelledError:
            reason = self._cancel_reasons.get(delivery.id, "cancelled")
            if current is not None:  # cancelled mid-request: keep what was sent
                current.error = f"{reason} during this attempt"
                current.duration_ms = round((time.perf_counter() - started) * 1000, 1)
                delivery.attempts.append(current)
                self._finish(delivery, FAILED)
            else:
                self._give_up(delivery, len(delivery.attempts) + 1, f"{reason}; not sent")
            raise
        except Exception as exc:  # a bug must not leave a delivery pending forever
            log.exception("delivery %s: unexpected error", delivery.id)
            self._give_up(delivery, len(delivery.attempts) + 1, f"internal error: {exc!r}")

    async def _own_address(self, delivery: Delivery) -> str | None:
        """Why a delivery to this server's own address is not sent (SPEC §7)."""
        listening = self.runtime.extensions.get(LISTENING, ())
        own = await own_address(delivery.target_url, listening)
        return None if own is None else f"the target is this mock's own address ({own})"

    @staticmethod
    def _unsendable(sub: Subscription | None) -> str | None:
        if sub is None:
            return "subscription no longer exists"
        if sub.deleted:
            return "subscription was deleted"
        if sub.delivery_paused:
            return "subscription was paused"
        return None

    def _give_up(self, delivery: Delivery, number: int, reason: str) -> None:
        """Journal an attempt that was never sent (empty request headers) and fail."""
        delivery.attempts.append(
            Attempt(number=number, at=self.runtime.clock.now(), request_headers={}, error=reason)
        )
        self._finish(delivery, FAILED)

    def _failed_for_good(self, delivery: Delivery, sub: Subscription, *, counted: bool) -> None:
        """SPEC §2.5: the circuit breaker counts a failure after sent attempts (``counted``),
        and ``webhook.event.deliveryFailed`` reports it. Shutdown, reset and refusals to
        send never come here."""
        if counted:
            now = self.runtime.clock.now()
            threshold = self.settings.circuit_breaker
            delivery.paused_subscription = count_failure(
                self.subscriptions, sub, threshold=threshold, now=now
            )
        if not delivery.final:
            self._finish(delivery, FAILED)
        report = delivery_failed(delivery)
        if report is not None:
            self.runtime.publish(report)
        if delivery.paused_subscription:
            self.runtime.publish(subscription_updated(sub))

    def _finish(self, delivery: Delivery, status: str) -> None:
        delivery.status = status
        self.journal.finished(delivery)
        if status == FAILED:  # every failure has an attempt, sent or journaled unsent
            log.info(
                "delivery %s to %s failed after %d attempt(s): %s",
                delivery.id,
                _loggable(delivery.target_url),
                len(delivery.attempts),
                self._outcome(delivery.attempts[-1]),
            )

    @staticmethod
    def _outcome(attempt: Attempt) -> str:
        """For logs: the status, or the error's category only (error texts can quote
        header values, which never go to a log)."""
        if attempt.error is not None:
            return attempt.error.split(":", 1)[0]
        return f"HTTP {attempt.response_status}"

    # -- HTTP --------------------------------------------------------------------------

    async def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            async with self._client_lock:
                if self._client is None:
                    # Importing httpx and loading the trust store take a while: off the loop.
                    self._client = await asyncio.to_thread(build_client, self.settings)
        return self._client

    async def _send(self, delivery: Delivery, attempt: Attempt) -> float | None:
        try:
            client = await self._get_client()
        except Exception as exc:  # e.g. an unreadable --ca-bundle
            attempt.error = f"cannot set up HTTPS: {type(exc).__name__}: {exc}"
            return None
        timeout = self.settings.delivery_timeout
        return await send(client, attempt, delivery.target_url, delivery.body.encode(), timeout)
