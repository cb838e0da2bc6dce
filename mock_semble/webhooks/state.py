"""The webhook section of state documents: ``subscriptions`` (with secrets).

Version 2 documents store dotted event types; version 1 documents (enum names) still
import. Validation uses the contract's own rules plus what only a bulk load can break:
duplicate ids, unknown practices, and two live subscriptions in conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..core import statedoc as doc
from ..core.clock import format_datetime
from ..core.events import ENUM_NAMES, to_enum_name
from ..core.settings import Settings
from .models import PAYLOAD_VERSION, Header, Subscription
from .rules import check_event_types, check_headers, check_label, check_url, url_key
from .store import SubscriptionStore

# fmt: off
SUBSCRIPTION_KEYS = (
    "id", "practiceId", "url", "label", "eventTypes", "headers", "secret", "version",
    "createdAt", "updatedAt", "deleted", "deliveryPaused",
)
# fmt: on


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "practiceId": sub.practice_id,
        "url": sub.url,
        "label": sub.label,
        "eventTypes": list(sub.event_types),
        "headers": None if sub.headers is None else [h._asdict() for h in sub.headers],
        "secret": sub.signing_secret,
        "version": sub.version,
        "createdAt": format_datetime(sub.created_at),
        "updatedAt": format_datetime(sub.updated_at),
        "deleted": sub.deleted,
        "deliveryPaused": sub.delivery_paused,
    }


def _event_types(value: Any, where: str, version: int, mode: str) -> tuple[str, ...]:
    names = doc.array(value, where)
    if not all(isinstance(n, str) for n in names):
        raise doc.fail(where, "must be a list of strings")
    if version == 1:
        if not all(n in ENUM_NAMES for n in names):
            raise doc.fail(where, f"must be a list of: {', '.join(ENUM_NAMES)}")
        names = [ENUM_NAMES[n] for n in names]
    types = doc.rule(lambda: check_event_types(names), where)
    if mode == "enum":
        hidden = [t for t in types if to_enum_name(t) is None]
        if hidden:
            raise doc.fail(
                where,
                f"event type {hidden[0]!r} needs --event-types strings "
                f"(the enum mode has only {', '.join(ENUM_NAMES.values())})",
            )
    return types


def _headers(value: Any, where: str) -> tuple[Header, ...] | None:
    if value is None:
        return None
    pairs = []
    for n, item in enumerate(doc.array(value, where)):
        data = doc.exact_object(item, f"{where}[{n}]", ("key", "value"))
        key = doc.typed(data["key"], str, f"{where}[{n}].key", "a string")
        pairs.append((key, doc.typed(data["value"], str, f"{where}[{n}].value", "a string")))
    return doc.rule(lambda: check_headers(pairs), where)


def _subscription(item: Any, where: str, version: int, settings: Settings) -> Subscription:
    """A validated subscription; the section keeps it as a template (see ``load``)."""
    data = doc.exact_object(item, where, SUBSCRIPTION_KEYS)
    url = data["url"]
    local = settings.allow_http_localhost
    record = Subscription(
        id=doc.object_id(data["id"], f"{where}.id"),
        practice_id=doc.object_id(data["practiceId"], f"{where}.practiceId"),
        signing_secret=doc.secret(data["secret"], f"{where}.secret"),
        url=doc.rule(
            lambda: check_url(
                url, allow_http_localhost=local, allow_http_hosts=settings.allow_http_hosts
            ),
            f"{where}.url",
        ),
        label=doc.rule(lambda: check_label(data["label"]), f"{where}.label"),
        event_types=_event_types(
            data["eventTypes"], f"{where}.eventTypes", version, settings.event_types
        ),
        headers=_headers(data["headers"], f"{where}.headers"),
        created_at=doc.timestamp(data["createdAt"], f"{where}.createdAt"),
        updated_at=doc.timestamp(data["updatedAt"], f"{where}.updatedAt"),
        deleted=doc.typed(data["deleted"], bool, f"{where}.deleted", "a boolean"),
        delivery_paused=doc.typed(
            data["deliveryPaused"], bool, f"{where}.deliveryPaused", "a boolean"
        ),
        url_key=url_key(url),
    )
    if data["version"] != PAYLOAD_VERSION:
        raise doc.fail(f"{where}.version", f'must be "{PAYLOAD_VERSION}"')
    return record


class SubscriptionSection:
    """``subscriptions``: the webhook domain's part of a state document."""

    key = "subscriptions"

    def records(self, store: SubscriptionStore) -> list[Subscription]:
        return store.all()

    def record_json(self, record: Subscription) -> dict[str, Any]:
        return subscription_json(record)

    def parse(
        self, items: list[Any], practice_ids: set[str], settings: Settings, version: int
    ) -> tuple[Subscription, ...]:
        seen: set[str] = set()
        claims: dict[tuple[str, str, str], str] = {}
        result = []
        for n, item in enumerate(doc.array(items, self.key)):
            where = f"{self.key}[{n}]"
            record = _subscription(item, where, version, settings)
            if record.id in seen:
                raise doc.fail(f"{where}.id", f"duplicate subscription id {record.id}")
            seen.add(record.id)
            if record.practice_id not in practice_ids:
                raise doc.fail(f"{where}.practiceId", f"unknown practice {record.practice_id}")
            if not record.deleted:
                # The contract API's duplicate rule, over the whole document.
                key = url_key(record.url)
                for event in record.event_types:
                    other = claims.setdefault((record.practice_id, key, event), record.id)
                    if other != record.id:
                        raise doc.fail(
                            where, f"conflicts with subscription {other} (same url and event)"
                        )
            result.append(record)
        return tuple(result)

    def load(
        self,
        store: SubscriptionStore,
        records: Sequence[Subscription],
        practice_id: str | None = None,
    ) -> None:
        """Insert copies: the store changes its records in place, the parsed ones stay the
        start-up state a reset returns to."""
        for record in records:
            if practice_id is None or record.practice_id == practice_id:
                store.insert_loaded(replace(record))
