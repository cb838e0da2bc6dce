"""The delivery body (SPEC §2.2) in two parts: a head per delivery, a tail per event.

``{"subscriptionId":…,"eventId":…,"eventType":…,`` differs per delivery;
``"identifiers":{…},"metadata":{…}}`` is the same for every subscription an event
reaches, so it is encoded once and shared by the event's journal entries (SPEC §7).
Together they are exactly ``json.dumps`` of the whole body, compact, UTF-8 as is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..core.events import Event


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def body_head(subscription_id: str, event_id: str, event_type: str) -> str:
    return (
        f'{{"subscriptionId":{_json(subscription_id)},"eventId":{_json(event_id)},'
        f'"eventType":{_json(event_type)},'
    )


def body_tail(event: Event) -> str:
    identifiers: Mapping[str, object] = event.identifiers
    tail = f'"identifiers":{_json(dict(identifiers))}'
    if event.metadata is not None:
        tail += f',"metadata":{_json(dict(event.metadata))}'
    return tail + "}"
