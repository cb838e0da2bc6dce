"""Practices, tokens and permissions: who may call, and whose data they see.

Practices and tokens are validated here, once, for the config file, the state document
and the control plane alike (:func:`practice_from_json`, :func:`token_from_json`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from .errors import ConfigError
from .ids import IdFactory, is_object_id


class Permission(StrEnum):
    """Token permissions, named as Semble names them (patients: SPEC §3 decision)."""

    SEE_WEBHOOKS = "seeWebhooks"
    CREATE_WEBHOOKS = "createWebhooks"
    EDIT_WEBHOOKS = "editWebhooks"
    DELETE_WEBHOOKS = "deleteWebhooks"
    SEE_PATIENTS = "seePatients"
    CREATE_PATIENTS = "createPatients"
    EDIT_PATIENTS = "editPatients"
    DELETE_PATIENTS = "deletePatients"


ALL_PERMISSIONS = frozenset(Permission)

DEFAULT_PRACTICE_ID = "000000000000000000000001"
DEFAULT_PRACTICE_NAME = "Mock Practice"
DEFAULT_TOKEN = "test-token"
MAX_TOKEN_LENGTH = 256
_TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")  # visible ASCII, no spaces


@dataclass(frozen=True, slots=True)
class LabelDef:
    id: str
    text: str
    color: str


@dataclass(frozen=True, slots=True)
class NumberType:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Membership:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class AccessGroup:
    id: str
    name: str
    label: str


@dataclass(frozen=True, slots=True)
class User:
    """The person a token acts as (``archivedBy`` and the like)."""

    id: str
    first_name: str = "Mock"
    last_name: str = "User"
    email: str = "mock.user@example.com"


DEFAULT_USER_ID = "0000000000000000000000e1"
DEFAULT_LABELS = (
    LabelDef("0000000000000000000000a1", "VIP", "#e53935"),
    LabelDef("0000000000000000000000a2", "New patient", "#1e88e5"),
)
DEFAULT_NUMBER_TYPES = (NumberType("0000000000000000000000b1", "NHS Number"),)
DEFAULT_MEMBERSHIPS = (Membership("0000000000000000000000c1", "Gold"),)
DEFAULT_ACCESS_GROUPS = (AccessGroup("0000000000000000000000d1", "Everyone", "everyone"),)


@dataclass(slots=True)
class Practice:
    id: str
    name: str
    webhooks_enabled: bool = True
    labels: tuple[LabelDef, ...] = ()
    number_types: tuple[NumberType, ...] = ()
    memberships: tuple[Membership, ...] = ()
    access_groups: tuple[AccessGroup, ...] = ()
    configured: bool = False  # configured ones survive a reset; runtime ones do not


@dataclass(slots=True)
class Token:
    token: str
    practice_id: str
    permissions: frozenset[Permission]
    user: User = field(default_factory=lambda: User(DEFAULT_USER_ID))
    configured: bool = False


@dataclass(frozen=True, slots=True)
class PracticeSeed:
    """A practice as configured (config file, state document, --state-file)."""

    name: str
    id: str | None = None
    webhooks_enabled: bool = True
    labels: tuple[LabelDef, ...] = ()
    number_types: tuple[NumberType, ...] = ()
    memberships: tuple[Membership, ...] = ()
    access_groups: tuple[AccessGroup, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenSeed:
    token: str
    practice_id: str
    permissions: frozenset[Permission]
    user: User | None = None


DEFAULT_PRACTICES = (
    PracticeSeed(
        DEFAULT_PRACTICE_NAME,
        DEFAULT_PRACTICE_ID,
        True,
        DEFAULT_LABELS,
        DEFAULT_NUMBER_TYPES,
        DEFAULT_MEMBERSHIPS,
        DEFAULT_ACCESS_GROUPS,
    ),
)
DEFAULT_TOKENS = (TokenSeed(DEFAULT_TOKEN, DEFAULT_PRACTICE_ID, ALL_PERMISSIONS),)


def refusal(token: Token, permission: Permission) -> str | None:
    """Why ``token`` may not use ``permission``, or None when it may."""
    if permission not in token.permissions:
        return f"Missing permission: {permission.value}"
    return None


# -- validation, shared by the config file, state documents and the control plane ------


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def check_token_text(value: object, where: str) -> str:
    """A token a client can actually send: 1-256 visible ASCII characters, no spaces,
    not starting with ``Bearer`` (the mock strips that prefix from requests)."""
    _expect(
        isinstance(value, str)
        and len(value) <= MAX_TOKEN_LENGTH
        and _TOKEN_TEXT.fullmatch(value) is not None
        and not value.lower().startswith("bearer"),
        f"{where} must be 1-256 visible ASCII characters without spaces "
        "and must not start with 'Bearer'",
    )
    assert isinstance(value, str)
    return value


def parse_permissions(value: object, where: str) -> frozenset[Permission]:
    _expect(isinstance(value, list), f"{where}: permissions must be a list")
    assert isinstance(value, list)
    known = {p.value: p for p in Permission}
    result = set()
    for item in value:
        _expect(
            isinstance(item, str) and item in known,
            f"{where}: unknown permission {item!r} (known: {', '.join(known)})",
        )
        result.add(known[item])
    return frozenset(result)


def _keys(entry: object, where: str, allowed: Iterable[str]) -> Mapping[str, Any]:
    _expect(isinstance(entry, dict), f"{where}: must be an object")
    assert isinstance(entry, dict)
    extra = sorted(set(entry) - set(allowed))
    _expect(not extra, f"{where}: unknown key(s): {', '.join(map(str, extra))}")
    return entry


def _text(entry: Mapping[str, Any], key: str, where: str, *, limit: int = 256) -> str:
    value = entry.get(key)
    _expect(
        isinstance(value, str) and bool(value.strip()) and len(value) <= limit,
        f"{where}: {key} must be a non-empty string of at most {limit} characters",
    )
    assert isinstance(value, str)
    return value


def _ref_id(entry: Mapping[str, Any], where: str, ids: IdFactory | None) -> str:
    value = entry.get("id")
    if value is None and ids is not None:
        return ids.new_id()
    _expect(is_object_id(value), f"{where}: id must be 24 lower-case hex digits")
    assert isinstance(value, str)
    return value


def _ref_list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    _expect(isinstance(value, list), f"{where}: {key} must be a list")
    _expect(len(value) <= 1000, f"{where}: at most 1000 {key}")
    assert isinstance(value, list)
    return value


def _unique(items: Iterable[Any], where: str) -> None:
    seen: set[str] = set()
    for item in items:
        _expect(item.id not in seen, f"{where}: duplicate id {item.id}")
        seen.add(item.id)


def reference_data_from_json(
    data: Mapping[str, Any], where: str, ids: IdFactory | None = None
) -> dict[str, tuple[Any, ...]]:
    """``labels``, ``numberTypes``, ``memberships``, ``accessGroups`` (SPEC §3)."""
    labels = tuple(
        LabelDef(_ref_id(e, w, ids), _text(e, "text", w), _text(e, "color", w, limit=32))
        for n, item in enumerate(_ref_list(data, "labels", where), 1)
        for w in [f"{where}.labels #{n}"]
        for e in [_keys(item, w, ("id", "text", "color"))]
    )
    number_types = tuple(
        NumberType(_ref_id(e, w, ids), _text(e, "name", w))
        for n, item in enumerate(_ref_list(data, "numberTypes", where), 1)
        for w in [f"{where}.numberTypes #{n}"]
        for e in [_keys(item, w, ("id", "name"))]
    )
    memberships = tuple(
        Membership(_ref_id(e, w, ids), _text(e, "name", w))
        for n, item in enumerate(_ref_list(data, "memberships", where), 1)
        for w in [f"{where}.memberships #{n}"]
        for e in [_keys(item, w, ("id", "name"))]
    )
    access_groups = tuple(
        AccessGroup(_ref_id(e, w, ids), _text(e, "name", w), _text(e, "label", w))
        for n, item in enumerate(_ref_list(data, "accessGroups", where), 1)
        for w in [f"{where}.accessGroups #{n}"]
        for e in [_keys(item, w, ("id", "name", "label"))]
    )
    for kind in (labels, number_types, memberships, access_groups):
        _unique(kind, where)
    return {
        "labels": labels,
        "number_types": number_types,
        "memberships": memberships,
        "access_groups": access_groups,
    }


PRACTICE_KEYS = (
    "id",
    "name",
    "webhooksEnabled",
    "labels",
    "numberTypes",
    "memberships",
    "accessGroups",
)


def practice_from_json(
    entry: object, where: str, *, ids: IdFactory | None = None, allow_id: bool = True
) -> PracticeSeed:
    """One practice as the config file, a state document or the control plane gives it."""
    data = _keys(entry, where, PRACTICE_KEYS if allow_id else PRACTICE_KEYS[1:])
    name = _text(data, "name", where)
    pid = data.get("id")
    _expect(pid is None or is_object_id(pid), f"{where}: id must be 24 lower-case hex digits")
    enabled = data.get("webhooksEnabled", True)
    _expect(isinstance(enabled, bool), f"{where}: webhooksEnabled must be true or false")
    refs = reference_data_from_json(data, where, ids)
    return PracticeSeed(name, pid, enabled, **refs)


def user_from_json(entry: object, where: str, ids: IdFactory | None = None) -> User:
    data = _keys(entry, where, ("id", "firstName", "lastName", "email"))
    return User(
        _ref_id(data, where, ids) if "id" in data or ids is not None else DEFAULT_USER_ID,
        _text(data, "firstName", where) if "firstName" in data else "Mock",
        _text(data, "lastName", where) if "lastName" in data else "User",
        _text(data, "email", where) if "email" in data else "mock.user@example.com",
    )


def token_from_json(entry: object, where: str, practice_ids: Iterable[str]) -> TokenSeed:
    data = _keys(entry, where, ("token", "practiceId", "permissions", "user"))
    token = check_token_text(data.get("token"), f"{where}: token")
    pid = data.get("practiceId")
    _expect(pid in set(practice_ids), f"{where}: practiceId must be the id of a known practice")
    perms = parse_permissions(data.get("permissions", []), where)
    user = user_from_json(data["user"], f"{where}.user") if "user" in data else None
    return TokenSeed(token, str(pid), perms, user)


def practice_json(practice: Practice) -> dict[str, Any]:
    return {
        "id": practice.id,
        "name": practice.name,
        "webhooksEnabled": practice.webhooks_enabled,
        "labels": [{"id": x.id, "text": x.text, "color": x.color} for x in practice.labels],
        "numberTypes": [{"id": x.id, "name": x.name} for x in practice.number_types],
        "memberships": [{"id": x.id, "name": x.name} for x in practice.memberships],
        "accessGroups": [
            {"id": x.id, "name": x.name, "label": x.label} for x in practice.access_groups
        ],
    }


def user_json(user: User) -> dict[str, str]:
    return {
        "id": user.id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
    }


class Tenancy:
    """The practices and tokens of one runtime."""

    def __init__(self, ids: IdFactory, lock: threading.RLock) -> None:
        self.ids = ids
        self.lock = lock
        self.practices: dict[str, Practice] = {}
        self.tokens: dict[str, Token] = {}
        self.changes = 0  # bumped by every change: a long export notices one made meanwhile

    def add_practice(self, seed: PracticeSeed, *, configured: bool = False) -> Practice:
        with self.lock:
            practice_id = seed.id
            if practice_id is None:
                practice_id = self.ids.new_id()
                while practice_id in self.practices:
                    practice_id = self.ids.new_id()
            elif practice_id in self.practices:
                raise ValueError(f"practice {practice_id} already exists")
            practice = Practice(
                practice_id,
                seed.name,
                seed.webhooks_enabled,
                seed.labels,
                seed.number_types,
                seed.memberships,
                seed.access_groups,
                configured,
            )
            self.practices[practice_id] = practice
            self.changes += 1
            return practice

    def add_token(self, seed: TokenSeed, *, configured: bool = False) -> Token:
        with self.lock:
            if seed.practice_id not in self.practices:
                raise KeyError(seed.practice_id)
            text = seed.token or self.ids.new_token()
            if text in self.tokens:
                raise ValueError("token already exists")
            record = Token(text, seed.practice_id, seed.permissions, configured=configured)
            if seed.user is not None:
                record.user = seed.user
            self.tokens[text] = record
            self.changes += 1
            return record

    def token(self, text: str) -> Token | None:
        return self.tokens.get(text)

    def seeds(self) -> tuple[tuple[PracticeSeed, ...], tuple[TokenSeed, ...]]:
        """Everything as seeds (ids filled in): what a state document or reset keeps."""
        practices = tuple(
            PracticeSeed(
                p.name,
                p.id,
                p.webhooks_enabled,
                p.labels,
                p.number_types,
                p.memberships,
                p.access_groups,
            )
            for p in self.practices.values()
        )
        tokens = tuple(
            TokenSeed(t.token, t.practice_id, t.permissions, t.user) for t in self.tokens.values()
        )
        return practices, tokens

    def clear(self) -> None:
        with self.lock:
            self.changes += 1
            self.practices, self.tokens = {}, {}

    def load(
        self, practices: Iterable[PracticeSeed], tokens: Iterable[TokenSeed], *, configured: bool
    ) -> None:
        for seed in practices:
            self.add_practice(seed, configured=configured)
        for token in tokens:
            self.add_token(token, configured=configured)


def with_id(seed: PracticeSeed, practice_id: str) -> PracticeSeed:
    return replace(seed, id=practice_id)
