"""Control-plane routes of the delivery engine (SPEC §4): fire events, read the journal.

Input is checked completely before anything changes, and before any id is drawn, so a
refused request neither delivers nor shifts a seeded run's id sequence.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.event_input import EventInputError, build_identifiers, build_metadata
from ..core.events import CATALOGUE, Event, UnknownEventType, parse_event_type
from ..core.ids import is_object_id
from ..delivery.engine import SHUT_DOWN, DeliveryEngine, ShuttingDown, engine_of
from ..delivery.journal import STATUSES, Delivery, Filter
from ..webhooks import subscriptions_of
from .base import (
    BadRequest,
    field,
    guarded,
    json_body,
    list_response,
    only_params,
    page_params,
    runtime_of,
)
from .faults import parse_event_fault

EVENT_FIELDS = (
    "eventType",
    "practiceId",
    "subscriptionId",
    "identifiers",
    "metadata",
    "fault",
    "wait",
)
REDELIVER_FIELDS = ("wait",)
FILTERS = ("subscriptionId", "eventType", "status", "practiceId")


def engine(request: Request) -> DeliveryEngine:
    return engine_of(runtime_of(request))


def _event_type(value: str) -> str:
    try:
        return parse_event_type(value)
    except UnknownEventType as exc:
        raise BadRequest(str(exc)) from None


async def fire_event(request: Request) -> Response:
    runtime = runtime_of(request)
    only_params(request, ())
    data = await json_body(request, allow_empty=False, allowed=EVENT_FIELDS)
    event_type = _event_type(field(data, "eventType", str, required=True))
    practice_id = field(data, "practiceId", str)
    subscription_id = field(data, "subscriptionId", str)
    given_identifiers = field(data, "identifiers", dict)
    given_metadata = field(data, "metadata", dict)
    wait = bool(field(data, "wait", bool))
    fault = parse_event_fault(data.get("fault"), scheme=runtime.settings.signing_scheme)

    tenancy = runtime.tenancy
    if practice_id is not None and practice_id not in tenancy.practices:
        raise BadRequest(f"unknown practice {practice_id[:64]!r}", 404)
    if subscription_id is not None:
        only = subscriptions_of(runtime).find(subscription_id)
        if (
            only is None
            or only.deleted
            or (practice_id is not None and only.practice_id != practice_id)
        ):
            raise BadRequest(f"unknown subscription {subscription_id[:64]!r}", 404)
        if event_type not in only.event_types:
            raise BadRequest(f"subscription {subscription_id} does not list {event_type}", 409)
        practice_id = only.practice_id  # the subscription names its practice
    if practice_id is None:
        practice_id = runtime.default_practice_id
    practice = tenancy.practices.get(practice_id or "")
    if practice is None or practice_id is None:
        raise BadRequest("there is no default practice; give 'practiceId'", 404)
    if not practice.webhooks_enabled:
        raise BadRequest("Webhooks are not enabled for this practice.", 409)

    spec = CATALOGUE[event_type]
    try:  # everything is checked before an id is drawn (a seeded run stays in step)
        metadata = build_metadata(spec, given_metadata)
        identifiers = build_identifiers(
            spec,
            given_identifiers,
            practice_id=practice_id,
            now=runtime.clock.now(),
            new_id=runtime.ids.new_id,
        )
    except EventInputError as exc:
        raise BadRequest(str(exc)) from None
    event = Event(practice_id, event_type, identifiers, metadata, subscription_id)
    fired = engine(request)
    try:
        deliveries = await fired.fire_all(event, fault)
    except ShuttingDown as exc:
        raise BadRequest(str(exc), 503) from None
    if wait:
        await fired.wait(deliveries)
        if fired.closing:  # the server stopped while we waited: not a normal answer
            return _shut_down([d.to_json() for d in deliveries])
    return await list_response("deliveries", deliveries, Delivery.to_json)


def _shut_down(deliveries: list[dict[str, Any]]) -> Response:
    """503 ``{"error": "server shut down", "deliveries": …}`` for a caller whose wait the
    shutdown ended: the deliveries are as shutdown left them (SPEC §2.4)."""
    return JSONResponse({"error": SHUT_DOWN, "deliveries": deliveries}, status_code=503)


def _filter(request: Request) -> Filter:
    params = request.query_params
    only_params(request, (*FILTERS, "limit", "after"))
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
        event_type=None if raw_type is None else _event_type(raw_type),
        status=status,
        practice_id=params.get("practiceId"),
    )


async def deliveries(request: Request) -> Response:
    journal_owner = engine(request)
    if request.method == "DELETE":
        only_params(request, ())
        journal_owner.reset()  # also stops retries of what is dropped
        return JSONResponse({"deliveries": []})
    query = _filter(request)
    limit, after = page_params(request)
    page, cursor = journal_owner.journal.page(query, limit, after)
    return JSONResponse(
        {
            "deliveries": [d.to_json() for d in page],
            "next": cursor,
            "evicted": journal_owner.journal.evicted,
        }
    )


def _lookup(request: Request) -> Delivery:
    delivery_id = request.path_params["delivery_id"]
    delivery = engine(request).journal.get(delivery_id)
    if delivery is None:
        raise BadRequest(f"unknown delivery {delivery_id!r}", 404)
    return delivery


async def one_delivery(request: Request) -> Response:
    only_params(request, ())
    return JSONResponse(_lookup(request).to_json())


async def redeliver(request: Request) -> Response:
    sender = engine(request)
    original = _lookup(request)
    only_params(request, ())
    data = await json_body(request, allowed=REDELIVER_FIELDS)
    wait = bool(field(data, "wait", bool))
    sub = subscriptions_of(runtime_of(request)).find(original.subscription_id)
    if sub is None or sub.deleted:
        raise BadRequest(f"subscription {original.subscription_id} was deleted; nothing sent", 409)
    try:
        delivery = sender.redeliver(original, sub)
    except ShuttingDown as exc:
        raise BadRequest(str(exc), 503) from None
    if wait:
        await sender.wait([delivery])
        if sender.closing:
            return _shut_down([delivery.to_json()])
    return JSONResponse(delivery.to_json(), status_code=201)


def routes() -> list[Route]:
    return [
        Route("/__mock/events", guarded(fire_event), methods=["POST"]),
        Route("/__mock/deliveries", guarded(deliveries), methods=["GET", "DELETE"]),
        Route("/__mock/deliveries/{delivery_id}", guarded(one_delivery), methods=["GET"]),
        Route("/__mock/deliveries/{delivery_id}/redeliver", guarded(redeliver), methods=["POST"]),
    ]
