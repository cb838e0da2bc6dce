"""Control-plane routes of the delivery engine (SPEC §4): fire events, read the journal.

Input is checked completely before anything changes, and before any id is drawn, so a
refused request neither delivers nor shifts a seeded run's id sequence.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .control import BadRequest, field, guarded, json_body, runtime_of
from .delivery import DeliveryEngine, ShuttingDown
from .ids import is_object_id
from .journal import STATUSES, Delivery, Filter
from .model import EventType

EVENT_FIELDS = frozenset({"eventType", "practiceId", "subscriptionId", "identifiers", "wait"})
REDELIVER_FIELDS = frozenset({"wait"})
FILTERS = ("subscriptionId", "eventType", "status", "practiceId")


def engine_of(request: Request) -> DeliveryEngine:
    return runtime_of(request).deliveries


def _only_fields(data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")


def _event_type(value: str, name: str) -> EventType:
    try:
        return EventType.parse(value)
    except ValueError:
        known = ", ".join(e.value for e in EventType)
        raise BadRequest(f"unknown {name} {value!r} (known: {known}, or dotted)") from None


def _identifiers(data: dict[str, Any]) -> dict[str, str] | None:
    """Given identifiers with null values dropped (absent keys are omitted, never null)."""
    raw = data.get("identifiers")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadRequest("'identifiers' must be an object of strings")
    result: dict[str, str] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(f"identifier {key!r} must be a string")
        if not key:
            raise BadRequest("identifier names must not be empty")
        result[key] = value
    return result


def _answer(deliveries: list[Delivery], status: int = 200) -> Response:
    return JSONResponse({"deliveries": [d.to_json() for d in deliveries]}, status_code=status)


async def fire_event(request: Request) -> Response:
    runtime = runtime_of(request)
    engine = engine_of(request)
    data = await json_body(request, allow_empty=False)
    _only_fields(data, EVENT_FIELDS)
    event_type = _event_type(field(data, "eventType", str, required=True), "eventType")
    practice_id = field(data, "practiceId", str)
    subscription_id = field(data, "subscriptionId", str)
    identifiers = _identifiers(data)
    wait = bool(field(data, "wait", bool))

    if practice_id is not None and practice_id not in runtime.store.practices:
        raise BadRequest(f"unknown practice {practice_id!r}", 404)
    only = None
    if subscription_id is not None:
        only = runtime.store.find(subscription_id)
        if (
            only is None
            or only.deleted
            or (practice_id is not None and only.practice_id != practice_id)
        ):
            raise BadRequest(f"unknown subscription {subscription_id!r}", 404)
        if event_type not in only.event_types:
            raise BadRequest(
                f"subscription {subscription_id} does not list {event_type.dotted}", 409
            )
        practice_id = only.practice_id  # the subscription names its practice
    if practice_id is None:
        practice_id = runtime.default_practice_id
    practice = runtime.store.practices.get(practice_id or "")
    if practice is None or practice_id is None:
        raise BadRequest("there is no default practice; give 'practiceId'", 404)
    if not practice.webhooks_enabled:
        raise BadRequest("Webhooks are not enabled for this practice.", 409)

    if identifiers is None:
        identifiers = {"patientId": runtime.ids.new_id()}
    try:
        deliveries = engine.fire(practice_id, event_type, identifiers, only=only)
    except ShuttingDown as exc:
        raise BadRequest(str(exc), 503) from None
    if wait:
        await engine.wait(deliveries)
    return _answer(deliveries)


def _filter(request: Request) -> Filter:
    params = request.query_params
    unknown = sorted(set(params) - set(FILTERS))
    if unknown:
        raise BadRequest(f"unknown filter(s): {', '.join(unknown)} (known: {', '.join(FILTERS)})")
    for name in ("subscriptionId", "practiceId"):
        value = params.get(name)
        if value is not None and not is_object_id(value):
            raise BadRequest(f"'{name}' must be a 24-hex id")
    status = params.get("status")
    if status is not None and status not in STATUSES:
        raise BadRequest(f"'status' must be one of {', '.join(STATUSES)}")
    raw_type = params.get("eventType")
    return Filter(
        subscription_id=params.get("subscriptionId"),
        event_type=None if raw_type is None else _event_type(raw_type, "eventType"),
        status=status,
        practice_id=params.get("practiceId"),
    )


async def deliveries(request: Request) -> Response:
    engine = engine_of(request)
    if request.method == "DELETE":
        engine.reset()  # also stops retries of what is dropped
        return _answer([])
    return _answer(engine.journal.select(_filter(request)))


def _lookup(request: Request) -> Delivery:
    delivery_id = request.path_params["delivery_id"]
    delivery = engine_of(request).journal.get(delivery_id)
    if delivery is None:
        raise BadRequest(f"unknown delivery {delivery_id!r}", 404)
    return delivery


async def one_delivery(request: Request) -> Response:
    return JSONResponse(_lookup(request).to_json())


async def redeliver(request: Request) -> Response:
    engine = engine_of(request)
    original = _lookup(request)
    data = await json_body(request)
    _only_fields(data, REDELIVER_FIELDS)
    wait = bool(field(data, "wait", bool))
    sub = runtime_of(request).store.find(original.subscription_id)
    if sub is None or sub.deleted:
        raise BadRequest(f"subscription {original.subscription_id} was deleted; nothing sent", 409)
    try:
        delivery = engine.redeliver(original, sub)
    except ShuttingDown as exc:
        raise BadRequest(str(exc), 503) from None
    if wait:
        await engine.wait([delivery])
    return JSONResponse(delivery.to_json(), status_code=201)


def routes() -> list[Route]:
    return [
        Route("/__mock/events", guarded(fire_event), methods=["POST"]),
        Route("/__mock/deliveries", guarded(deliveries), methods=["GET", "DELETE"]),
        Route("/__mock/deliveries/{delivery_id}", guarded(one_delivery), methods=["GET"]),
        Route("/__mock/deliveries/{delivery_id}/redeliver", guarded(redeliver), methods=["POST"]),
    ]
