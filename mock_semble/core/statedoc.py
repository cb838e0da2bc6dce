"""Checks shared by every section of a state document (``GET``/``PUT /__mock/state``).

Each raises :class:`StateError` naming where the first problem is, so a refused
document gives one clear line (400, or exit 2 at start-up).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from .clock import parse_datetime, truncate_ms
from .errors import ConfigError, RuleError
from .ids import SECRET_PREFIX, is_object_id

T = TypeVar("T")


class StateError(ConfigError):
    """An invalid state document; the message names the first problem and where."""


def fail(where: str, message: str) -> StateError:
    return StateError(f"{where}: {message}" if where else message)


def exact_object(value: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """A JSON object with exactly ``keys`` (a typo must not silently drop a field)."""
    if not isinstance(value, dict):
        raise fail(where, "must be an object")
    missing = [k for k in keys if k not in value]
    if missing:
        raise fail(where, f"missing key(s): {', '.join(missing)}")
    extra = sorted(set(value) - set(keys))
    if extra:
        raise fail(where, f"unknown key(s): {', '.join(map(str, extra))[:200]}")
    return value


def typed(value: Any, kind: type[T], where: str, what: str) -> T:
    # JSON true/false are Python ints too: only a bool field takes them.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise fail(where, f"must be {what}")
    return value


def object_id(value: Any, where: str) -> str:
    if not is_object_id(value):
        raise fail(where, "must be 24 lower-case hex digits")
    return str(value)


def array(value: Any, where: str) -> list[Any]:
    return typed(value, list, where, "an array")


def rule(check: Callable[[], T], where: str) -> T:
    """Run a contract rule; its RuleError becomes a StateError at ``where``."""
    try:
        return check()
    except RuleError as exc:
        raise fail(where, exc.message) from None


def timestamp(value: Any, where: str) -> datetime:
    raw = typed(value, str, where, "an ISO-8601 timestamp string")
    try:
        moment = parse_datetime(raw)
    except (ValueError, OverflowError):
        raise fail(where, "must be an ISO-8601 timestamp") from None
    return truncate_ms(moment)


def secret(value: Any, where: str) -> str:
    """``whsec_`` + base64: every signing scheme, ``standard`` too, can use it."""
    raw = typed(value, str, where, "a string")
    body = raw[len(SECRET_PREFIX) :]
    try:
        usable = raw.startswith(SECRET_PREFIX) and bool(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError):
        usable = False
    if not usable:
        raise fail(where, f"must be {SECRET_PREFIX!r} followed by base64")
    return raw
