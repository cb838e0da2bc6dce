"""Delivery faults (SPEC §4.1): webhook requests that a receiver must refuse or survive.

A delivery gets at most one fault when it is made: the one ``POST /__mock/events``
asked for, else the first delivery rule that answers (``core.faults``). The engine
then signs each attempt through :func:`signed_headers` and waits in
:func:`before_attempt`; the journal names the fault on the delivery.

- ``bad_signature``: the right headers in the right format, with a MAC that does not
  match (it signs other bytes with the right secret), for every scheme;
- ``stale_timestamp``: correctly signed with a timestamp 600 s in the past (refused for
  schemes without a timestamp);
- ``missing_signature``: signed, then the signature header is left out (``webhook-id``
  and the timestamp headers stay);
- ``duplicate``: a second journal entry with the same body and ``eventId``, sent once
  the first is final (so a receiver sees them in order);
- ``delay``: ``ms`` before each attempt.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.faults import DELIVERY, fault_rules
from ..core.runtime import Runtime
from .journal import PENDING, Delivery
from .signing import sign

TIMESTAMPED_SCHEMES = ("semble", "standard")
STALE_BY = 600  # seconds: twice verify()'s default tolerance
DEFAULT_DELAY_MS = 1000  # a delivery delay given without "ms"
SIGNATURE_HEADERS = frozenset({"x-webhook-signature", "webhook-signature"})
WRONG_BYTES = b"\nmock-semble: bad_signature"  # appended to what is signed, never sent

Wait = Callable[[list[Delivery]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DeliveryFault:
    """The fault of one delivery, as the journal names it."""

    type: str
    ms: int | None = None  # delay only
    rule_id: str | None = None  # None: asked for by POST /__mock/events
    duplicate_of: Delivery | None = None  # on the second entry of a duplicate

    @classmethod
    def from_action(cls, action: Mapping[str, Any], rule_id: str | None = None) -> DeliveryFault:
        ms = action.get("ms", DEFAULT_DELAY_MS) if action["type"] == "delay" else None
        return cls(str(action["type"]), ms, rule_id)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "ruleId": self.rule_id}
        if self.ms is not None:
            data["ms"] = self.ms
        if self.duplicate_of is not None:
            data["duplicateOf"] = self.duplicate_of.id
        return data


def with_fault(
    runtime: Runtime, delivery: Delivery, requested: DeliveryFault | None
) -> list[Delivery]:
    """Give ``delivery`` its fault (``requested``, else a rule's); returns it, followed by
    its second entry when the fault is ``duplicate``."""
    fault = requested
    if fault is None:

        def facts(key: str) -> Collection[str]:
            if key == "subscriptionId":
                return (delivery.subscription_id,)
            return (delivery.event_type,) if key == "eventType" else ()

        rule = fault_rules(runtime).take(DELIVERY, facts)
        if rule is None:
            return [delivery]
        fault = DeliveryFault.from_action(rule.action, rule.id)
    delivery.fault = fault
    if fault.type != "duplicate":
        return [delivery]
    second = dataclasses.replace(
        delivery,
        id=runtime.ids.new_id(),
        status=PENDING,
        attempts=[],
        fault=dataclasses.replace(fault, duplicate_of=delivery),
    )
    return [delivery, second]


def signed_headers(
    fault: DeliveryFault | None,
    body: bytes,
    secret: str,
    *,
    scheme: str,
    timestamp: int,
    message_id: str,
) -> dict[str, str]:
    """:func:`~.signing.sign`, spoilt as ``fault`` says."""
    kind = None if fault is None else fault.type
    if kind == "stale_timestamp":
        timestamp = max(0, timestamp - STALE_BY)
    signed = body + WRONG_BYTES if kind == "bad_signature" else body
    headers = sign(signed, secret, scheme=scheme, timestamp=timestamp, message_id=message_id)
    if kind == "missing_signature":
        return {k: v for k, v in headers.items() if k.lower() not in SIGNATURE_HEADERS}
    return headers


async def before_attempt(fault: DeliveryFault | None, number: int, wait: Wait) -> None:
    """The second entry of a duplicate first waits for the first to be final; a delay
    waits before every attempt."""
    if fault is None:
        return
    if fault.duplicate_of is not None and number == 1:
        await wait([fault.duplicate_of])
    if fault.type == "delay" and fault.ms:
        await asyncio.sleep(fault.ms / 1000)
