"""``GET /__mock/state`` built in slices (SPEC §7: no request holds the loop ~100 ms at
10⁵ records): the same document as one pass, a turn for other requests between slices,
and one consistent moment even when the state changes while it is built."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from request_context import context_of

from mock_semble.control import state_export
from mock_semble.control.state import export_state, parse_state
from mock_semble.control.state_export import export_state_parts
from mock_semble.core.context import RequestContext
from mock_semble.core.errors import RuleError
from mock_semble.core.runtime import Runtime
from mock_semble.core.settings import Settings
from mock_semble.core.tenancy import PracticeSeed, TokenSeed
from mock_semble.domains import DOMAINS
from mock_semble.patients import operations as patients
from mock_semble.webhooks import operations as webhooks
from mock_semble.webhooks.models import Subscription

SUBSCRIPTIONS = 450  # three slices of 200
PATIENTS = 250


def _world() -> tuple[Runtime, RequestContext, list[Subscription]]:
    runtime = Runtime(Settings(event_types="strings"), DOMAINS)  # no delivery engine
    runtime.load_startup(runtime.startup)
    ctx = context_of(runtime)
    subs = [
        webhooks.create_webhook(
            ctx,
            url=f"https://example.com/hooks/{n}",
            event_types=["patient.created"],
            label=f"hook {n}",
            headers=None,
        )
        for n in range(SUBSCRIPTIONS)
    ]
    for n in range(PATIENTS):
        patients.create_patient(ctx, patient_data={"first": f"P{n}", "last": "Doe"}, flat={})
    return runtime, ctx, subs


def _sliced(runtime: Runtime, turn: Callable[[], None] | None = None) -> dict[str, Any]:
    """The route's export, with ``turn`` run each time the export lets others go first."""

    async def scenario() -> bytes:
        task = asyncio.ensure_future(export_state_parts(runtime))
        while not task.done():
            await asyncio.sleep(0)
            if turn is not None and not task.done():
                turn()
        return b"".join(task.result())

    document: dict[str, Any] = json.loads(asyncio.run(scenario()))
    return document


@pytest.fixture(autouse=True)
def _yield_before_every_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state_export, "YIELD_AFTER", 0.0)


def test_the_sliced_export_is_the_one_pass_export() -> None:
    runtime, _, _ = _world()
    document = _sliced(runtime)
    assert document == export_state(runtime)
    assert list(document) == ["version", "practices", "tokens", "subscriptions", "patients"]
    assert document["version"] == 2
    assert [s["url"] for s in document["subscriptions"]] == [
        f"https://example.com/hooks/{n}" for n in range(SUBSCRIPTIONS)
    ]
    assert [p["firstName"] for p in document["patients"]] == [f"P{n}" for n in range(PATIENTS)]


def test_other_requests_get_turns_while_the_document_is_built() -> None:
    runtime, _, _ = _world()
    turns = 0

    def count() -> None:
        nonlocal turns
        turns += 1

    _sliced(runtime, count)
    assert turns >= (SUBSCRIPTIONS + PATIENTS) // 200  # a turn before each later slice


def test_a_change_while_exporting_starts_it_again() -> None:
    """Between two slices, subscription 0 (already written out) gives its URL to
    subscription 300 (not yet written): a document mixing the two moments would have
    two subscriptions on one URL and event, which no import accepts."""
    runtime, ctx, subs = _world()
    moved = False

    def swap_urls() -> None:
        nonlocal moved
        if not moved:
            moved = True
            webhooks.update_webhook(ctx, subs[0].id, url="https://example.com/moved")
            webhooks.update_webhook(ctx, subs[300].id, url="https://example.com/hooks/0")

    document = _sliced(runtime, swap_urls)
    assert moved
    parse_state(document, runtime)  # imports back: one moment
    assert document == export_state(runtime)  # the moment after the change
    assert document["subscriptions"][300]["url"] == "https://example.com/hooks/0"


def test_under_constant_change_it_still_ends_with_one_moment() -> None:
    runtime, ctx, subs = _world()
    changes = 0

    def change() -> None:
        nonlocal changes
        changes += 1
        webhooks.update_webhook(ctx, subs[changes % 10].id, label=f"changed {changes}")

    document = _sliced(runtime, change)
    assert document == export_state(runtime)
    assert changes >= 3  # three tries were interrupted, then one pass without a turn


# -- every change is counted: a change the counter misses could mix two moments ----------------


def _counted(runtime: Runtime, change: Callable[[], object]) -> int:
    before = state_export.changes(runtime)
    change()
    return state_export.changes(runtime) - before


def test_every_kind_of_change_is_counted() -> None:
    runtime, ctx, subs = _world()
    sub_store = runtime.stores["webhooks"]
    patient_store = runtime.stores["patients"]
    patient = patients.create_patient(ctx, patient_data={"first": "A", "last": "B"}, flat={})
    steps: list[tuple[str, Callable[[], object]]] = [
        (
            "createWebhook",
            lambda: webhooks.create_webhook(
                ctx, url="https://x.example/1", event_types=["patient.created"], label="l",
                headers=None,
            ),
        ),
        ("updateWebhook", lambda: webhooks.update_webhook(ctx, subs[1].id, label="new")),
        ("deleteWebhook", lambda: webhooks.delete_webhook(ctx, subs[2].id)),
        (
            "the circuit breaker",
            lambda: sub_store.set_paused(subs[3], now=runtime.clock.now()),  # type: ignore[attr-defined]
        ),
        ("createPatient", lambda: patients.create_patient(
            ctx, patient_data={"first": "C", "last": "D"}, flat={})),
        ("updatePatient", lambda: patients.update_patient(ctx, patient.id, {"first": "E"})),
        ("deletePatient", lambda: patients.delete_patient(ctx, patient.id)),
        ("a practice", lambda: runtime.tenancy.add_practice(PracticeSeed("Other"))),
        ("a token", lambda: runtime.tenancy.add_token(
            TokenSeed("another-token", ctx.practice.id, frozenset()))),
        ("a practice's reset", lambda: runtime.reset(ctx.practice.id)),
        ("a whole reset", lambda: runtime.reset()),
        ("loading records", lambda: runtime.import_state(parse_state(
            _sliced(_world()[0]), runtime))),
    ]  # fmt: skip
    for name, step in steps:
        assert _counted(runtime, step) >= 1, name
    assert sub_store.changes > 0 and patient_store.changes > 0


def test_a_refused_change_is_not_counted() -> None:
    runtime, ctx, subs = _world()
    taken = "https://example.com/hooks/1"
    with pytest.raises(RuleError):
        _counted(runtime, lambda: webhooks.update_webhook(ctx, subs[0].id, url=taken))
    assert _counted(runtime, lambda: webhooks.get_webhook(ctx, subs[0].id)) == 0
