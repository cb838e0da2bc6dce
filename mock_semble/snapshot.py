"""State documents (``GET``/``PUT /__mock/state``, ``--state-file``): export and import.

A state document is the whole store as versioned JSON::

    {"version": 1,
     "practices": [{"id", "name", "webhooksEnabled"}],
     "tokens": [{"token", "practiceId", "permissions"}],
     "subscriptions": [{"id", "practiceId", "url", "label", "eventTypes", "headers",
                        "secret", "version", "createdAt", "updatedAt", "deleted",
                        "deliveryPaused"}]}

Import validates the whole document into fresh records *before* it touches the store,
so a refused document (400, or a one-line start-up error) changes nothing. The checks
are the contract API's own rules (``rules.py``) plus what only a bulk load can break:
references, duplicate ids and tokens, and two live subscriptions in conflict.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .clock import format_datetime, parse_datetime, truncate_ms
from .config import ConfigError, PracticeSeed, Settings, TokenSeed
from .control import BadRequest, json_body, runtime_of
from .ids import SECRET_PREFIX, is_object_id
from .limits import parse_json
from .model import PAYLOAD_VERSION, EventType, Permission, Subscription
from .rules import RuleError, check_event_types, check_headers, check_label, check_url, url_key

if TYPE_CHECKING:
    from .runtime import Runtime
    from .store import Store

STATE_VERSION = 1
MAX_NAME = 256
MAX_TOKEN = 512
TOP_KEYS = ("version", "practices", "tokens", "subscriptions")
PRACTICE_KEYS = ("id", "name", "webhooksEnabled")
TOKEN_KEYS = ("token", "practiceId", "permissions")
# fmt: off
SUBSCRIPTION_KEYS = (
    "id", "practiceId", "url", "label", "eventTypes", "headers", "secret", "version",
    "createdAt", "updatedAt", "deleted", "deliveryPaused",
)
# fmt: on
T = TypeVar("T")


class StateError(ValueError):
    """An invalid state document; the message names the first problem and where."""


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    """An immutable, validated subscription of a state document."""

    id: str
    practice_id: str
    secret: str
    url: str
    label: str
    event_types: tuple[EventType, ...]
    headers: tuple[tuple[str, str], ...] | None
    created_at: datetime
    updated_at: datetime
    deleted: bool
    delivery_paused: bool

    def materialize(self) -> Subscription:
        """A fresh mutable record (the store changes its records in place)."""
        return Subscription(
            id=self.id,
            practice_id=self.practice_id,
            secret=self.secret,
            url=self.url,
            label=self.label,
            event_types=self.event_types,
            headers=self.headers,
            created_at=self.created_at,
            updated_at=self.updated_at,
            deleted=self.deleted,
            delivery_paused=self.delivery_paused,
            url_key=url_key(self.url),
        )


@dataclass(frozen=True, slots=True)
class State:
    """A validated state document, ready to load."""

    practices: tuple[PracticeSeed, ...]
    tokens: tuple[TokenSeed, ...]
    subscriptions: tuple[SubscriptionRecord, ...]


# -- export -------------------------------------------------------------------------


def export_state(store: Store) -> dict[str, Any]:
    """The whole store as a state document (deterministic order: insertion order)."""
    with store.lock:
        practices = list(store.practices.values())
        tokens = list(store.tokens.values())
        subs = [s for p in practices for s in store.list(p.id, include_deleted=True)]
        return {
            "version": STATE_VERSION,
            "practices": [
                {"id": p.id, "name": p.name, "webhooksEnabled": p.webhooks_enabled}
                for p in practices
            ],
            "tokens": [
                {
                    "token": t.token,
                    "practiceId": t.practice_id,
                    "permissions": sorted(p.value for p in t.permissions),
                }
                for t in tokens
            ],
            "subscriptions": [subscription_json(s) for s in subs],
        }


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "practiceId": sub.practice_id,
        "url": sub.url,
        "label": sub.label,
        "eventTypes": [e.value for e in sub.event_types],
        "headers": None
        if sub.headers is None
        else [{"key": k, "value": v} for k, v in sub.headers],
        "secret": sub.secret,
        "version": sub.version,
        "createdAt": format_datetime(sub.created_at),
        "updatedAt": format_datetime(sub.updated_at),
        "deleted": sub.deleted,
        "deliveryPaused": sub.delivery_paused,
    }


# -- validation -----------------------------------------------------------------------


def _fail(where: str, message: str) -> StateError:
    return StateError(f"{where}: {message}" if where else message)


def _object(value: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """A JSON object with exactly ``keys`` (a typo must not silently drop a field)."""
    if not isinstance(value, dict):
        raise _fail(where, "must be an object")
    missing = [k for k in keys if k not in value]
    if missing:
        raise _fail(where, f"missing key(s): {', '.join(missing)}")
    extra = sorted(set(value) - set(keys))
    if extra:
        raise _fail(where, f"unknown key(s): {', '.join(extra)}")
    return value


def _typed(value: Any, kind: type[T], where: str, what: str) -> T:
    # JSON true/false are Python ints too: only a bool field takes them.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _fail(where, f"must be {what}")
    return value


def _text(value: Any, where: str, limit: int) -> str:
    text = _typed(value, str, where, "a string")
    if not text.strip() or len(text) > limit:
        raise _fail(where, f"must be 1 to {limit} characters, not blank")
    return text


def _object_id(value: Any, where: str) -> str:
    if not is_object_id(value):
        raise _fail(where, "must be 24 lower-case hex digits")
    return str(value)


def _list(value: Any, where: str) -> list[Any]:
    return _typed(value, list, where, "an array")


def _rule(check: Callable[[], T], where: str) -> T:
    try:
        return check()
    except RuleError as exc:
        raise _fail(where, exc.message) from None


def _timestamp(value: Any, where: str) -> datetime:
    text = _typed(value, str, where, "an ISO-8601 timestamp string")
    try:
        moment = parse_datetime(text)
    except (ValueError, OverflowError):
        raise _fail(where, "must be an ISO-8601 timestamp") from None
    return truncate_ms(moment)


def _secret(value: Any, where: str) -> str:
    """``whsec_`` + base64: every signing scheme, ``standard`` too, can use it."""
    secret = _typed(value, str, where, "a string")
    raw = secret[len(SECRET_PREFIX) :]
    try:
        usable = secret.startswith(SECRET_PREFIX) and bool(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        usable = False
    if not usable:
        raise _fail(where, f"must be {SECRET_PREFIX!r} followed by base64")
    return secret


def _practices(items: list[Any]) -> tuple[PracticeSeed, ...]:
    seen: set[str] = set()
    result = []
    for n, item in enumerate(items):
        where = f"practices[{n}]"
        data = _object(item, where, PRACTICE_KEYS)
        pid = _object_id(data["id"], f"{where}.id")
        if pid in seen:
            raise _fail(f"{where}.id", f"duplicate practice id {pid}")
        seen.add(pid)
        name = _text(data["name"], f"{where}.name", MAX_NAME)
        enabled = _typed(data["webhooksEnabled"], bool, f"{where}.webhooksEnabled", "a boolean")
        result.append(PracticeSeed(name, pid, enabled))
    return tuple(result)


def _tokens(items: list[Any], practice_ids: set[str]) -> tuple[TokenSeed, ...]:
    known = {p.value: p for p in Permission}
    seen: set[str] = set()
    result = []
    for n, item in enumerate(items):
        where = f"tokens[{n}]"
        data = _object(item, where, TOKEN_KEYS)
        token = _text(data["token"], f"{where}.token", MAX_TOKEN)
        if token in seen:
            raise _fail(f"{where}.token", "duplicate token")  # never echo a token
        seen.add(token)
        pid = _object_id(data["practiceId"], f"{where}.practiceId")
        if pid not in practice_ids:
            raise _fail(f"{where}.practiceId", f"unknown practice {pid}")
        perms = _list(data["permissions"], f"{where}.permissions")
        if not all(isinstance(p, str) and p in known for p in perms):
            raise _fail(f"{where}.permissions", f"must be a list of: {', '.join(known)}")
        if len(set(perms)) != len(perms):
            raise _fail(f"{where}.permissions", "must not contain duplicates")
        result.append(TokenSeed(token, pid, frozenset(known[p] for p in perms)))
    return tuple(result)


def _event_types(value: Any, where: str) -> tuple[EventType, ...]:
    names = _list(value, where)
    if not all(isinstance(n, str) and n in EventType.__members__ for n in names):
        raise _fail(where, f"must be a list of: {', '.join(EventType.__members__)}")
    return _rule(lambda: check_event_types([EventType[n] for n in names]), where)


def _headers(value: Any, where: str) -> tuple[tuple[str, str], ...] | None:
    if value is None:
        return None
    pairs = []
    for n, item in enumerate(_list(value, where)):
        data = _object(item, f"{where}[{n}]", ("key", "value"))
        key = _typed(data["key"], str, f"{where}[{n}].key", "a string")
        pairs.append((key, _typed(data["value"], str, f"{where}[{n}].value", "a string")))
    return _rule(lambda: check_headers(pairs), where)


def _subscription(item: Any, where: str, allow_http_localhost: bool) -> SubscriptionRecord:
    data = _object(item, where, SUBSCRIPTION_KEYS)
    url = data["url"]
    record = SubscriptionRecord(
        id=_object_id(data["id"], f"{where}.id"),
        practice_id=_object_id(data["practiceId"], f"{where}.practiceId"),
        secret=_secret(data["secret"], f"{where}.secret"),
        url=_rule(
            lambda: check_url(url, allow_http_localhost=allow_http_localhost), f"{where}.url"
        ),
        label=_rule(lambda: check_label(data["label"]), f"{where}.label"),
        event_types=_event_types(data["eventTypes"], f"{where}.eventTypes"),
        headers=_headers(data["headers"], f"{where}.headers"),
        created_at=_timestamp(data["createdAt"], f"{where}.createdAt"),
        updated_at=_timestamp(data["updatedAt"], f"{where}.updatedAt"),
        deleted=_typed(data["deleted"], bool, f"{where}.deleted", "a boolean"),
        delivery_paused=_typed(
            data["deliveryPaused"], bool, f"{where}.deliveryPaused", "a boolean"
        ),
    )
    if data["version"] != PAYLOAD_VERSION:
        raise _fail(f"{where}.version", f'must be "{PAYLOAD_VERSION}"')
    if record.updated_at < record.created_at:
        raise _fail(f"{where}.updatedAt", "must not be before createdAt")
    return record


def _subscriptions(
    items: list[Any], practice_ids: set[str], allow_http_localhost: bool
) -> tuple[SubscriptionRecord, ...]:
    seen: set[str] = set()
    claims: dict[tuple[str, str, EventType], str] = {}
    result = []
    for n, item in enumerate(items):
        where = f"subscriptions[{n}]"
        record = _subscription(item, where, allow_http_localhost)
        if record.id in seen:
            raise _fail(f"{where}.id", f"duplicate subscription id {record.id}")
        seen.add(record.id)
        if record.practice_id not in practice_ids:
            raise _fail(f"{where}.practiceId", f"unknown practice {record.practice_id}")
        if not record.deleted:
            # The contract API's duplicate rule, over the whole document.
            key = url_key(record.url)
            for event in record.event_types:
                other = claims.setdefault((record.practice_id, key, event), record.id)
                if other != record.id:
                    raise _fail(where, f"conflicts with subscription {other} (same url and event)")
        result.append(record)
    return tuple(result)


def parse_state(document: Any, *, allow_http_localhost: bool) -> State:
    """Validate a whole state document; raise :class:`StateError` on the first problem."""
    data = _object(document, "", TOP_KEYS)
    version = data["version"]
    if isinstance(version, bool) or version != STATE_VERSION:
        raise StateError(f"version: must be {STATE_VERSION}")
    practices = _practices(_list(data["practices"], "practices"))
    practice_ids = {p.id for p in practices if p.id is not None}
    tokens = _tokens(_list(data["tokens"], "tokens"), practice_ids)
    subs = _subscriptions(
        _list(data["subscriptions"], "subscriptions"), practice_ids, allow_http_localhost
    )
    return State(practices, tokens, subs)


def load_state_file(path: Path, settings: Settings) -> State:
    """Read and validate ``--state-file``; every problem is one ConfigError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"state file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read state file {path}: {exc}") from None
    try:
        document = parse_json(text.encode())
    except ValueError as exc:
        raise ConfigError(f"state file {path} is not valid JSON: {exc}") from None
    try:
        return parse_state(document, allow_http_localhost=settings.allow_http_localhost)
    except StateError as exc:
        raise ConfigError(f"state file {path}: {exc}") from None


# -- loading ----------------------------------------------------------------------------


def load_into(store: Store, state: State, *, configured: bool) -> None:
    """Replace everything in ``store`` with ``state`` (validated, so this cannot fail)."""
    with store.lock:
        store.clear()
        for practice in state.practices:
            store.add_practice(
                practice.name,
                webhooks_enabled=practice.webhooks_enabled,
                practice_id=practice.id,
                configured=configured,
            )
        for token in state.tokens:
            store.add_token(
                token.practice_id, token.permissions, token=token.token, configured=configured
            )
        for record in state.subscriptions:
            store.insert_loaded(record.materialize())


def import_state(runtime: Runtime, state: State) -> None:
    """``PUT /__mock/state``: the document replaces the store (as runtime data, so a
    whole reset returns to the start-up state) and the delivery journal is cleared,
    since its entries would name subscriptions that may no longer exist."""
    with runtime.store.lock:
        load_into(runtime.store, state, configured=False)
    runtime.clear_journals()


# -- control-plane handlers ----------------------------------------------------------


async def get_state(request: Request) -> Response:
    return JSONResponse(export_state(runtime_of(request).store))


async def put_state(request: Request) -> Response:
    runtime = runtime_of(request)
    document = await json_body(request, allow_empty=False)
    try:
        state = parse_state(document, allow_http_localhost=runtime.settings.allow_http_localhost)
    except StateError as exc:
        raise BadRequest(f"invalid state document: {exc}") from None
    import_state(runtime, state)
    return JSONResponse(
        {
            "loaded": {
                "practices": len(state.practices),
                "tokens": len(state.tokens),
                "subscriptions": len(state.subscriptions),
            }
        },
        background=BackgroundTask(runtime.store.collect_garbage),
    )
