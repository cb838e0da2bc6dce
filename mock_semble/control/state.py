"""State documents (``GET``/``PUT /__mock/state``, ``--state-file``): the format and its
routes. Practices and tokens are checked by :mod:`mock_semble.core.tenancy`; each domain
exports and validates its own section (``subscriptions``, ``patients``, …)::

    {"version": 2,
     "practices": [{"id", "name", "webhooksEnabled", "labels", "numberTypes", …}],
     "tokens": [{"token", "practiceId", "permissions", "user"}],
     "subscriptions": [...], "patients": [...]}

Import validates the whole document *before* it touches anything, so a refused document
(400, or a one-line start-up error) changes nothing. Version 1 documents (enum event
names, no patients, no reference data) still import.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core import statedoc as doc
from ..core.errors import ConfigError
from ..core.jsonbody import parse_json
from ..core.runtime import Runtime, State
from ..core.settings import Settings
from ..core.tenancy import (
    DEFAULT_ACCESS_GROUPS,
    DEFAULT_LABELS,
    DEFAULT_MEMBERSHIPS,
    DEFAULT_NUMBER_TYPES,
    DEFAULT_PRACTICE_ID,
    PracticeSeed,
    TokenSeed,
    practice_from_json,
    token_from_json,
)
from .base import BadRequest, guarded, json_body, only_params, parts_response, runtime_of
from .state_export import STATE_VERSION, export_state, export_state_parts

__all__ = ["STATE_VERSION", "export_state", "load_state_file", "parse_state", "routes"]

VERSIONS = (1, 2)


def _practices(items: list[Any], version: int) -> tuple[PracticeSeed, ...]:
    seen: set[str] = set()
    result = []
    for n, item in enumerate(items):
        where = f"practices[{n}]"
        if not isinstance(item, dict) or "id" not in item:
            raise doc.fail(where, "must be an object with an id")
        seed = practice_from_json(item, where)
        assert seed.id is not None
        if version == 1 and seed.id == DEFAULT_PRACTICE_ID:
            # version 1 had no reference data: the default practice keeps SPEC §3's
            seed = replace(
                seed,
                labels=DEFAULT_LABELS,
                number_types=DEFAULT_NUMBER_TYPES,
                memberships=DEFAULT_MEMBERSHIPS,
                access_groups=DEFAULT_ACCESS_GROUPS,
            )
        practice_id = str(seed.id)
        if practice_id in seen:
            raise doc.fail(f"{where}.id", f"duplicate practice id {practice_id}")
        seen.add(practice_id)
        result.append(seed)
    return tuple(result)


def _tokens(items: list[Any], practice_ids: set[str]) -> tuple[TokenSeed, ...]:
    seen: set[str] = set()
    result = []
    for n, item in enumerate(items):
        where = f"tokens[{n}]"
        if isinstance(item, dict) and isinstance(item.get("permissions"), list):
            perms = item["permissions"]
            if len(set(map(str, perms))) != len(perms):
                raise doc.fail(f"{where}.permissions", "must not contain duplicates")
        seed = token_from_json(item, where, practice_ids)
        if seed.token in seen:
            raise doc.fail(f"{where}.token", "duplicate token")  # never echo a token
        seen.add(seed.token)
        result.append(seed)
    return tuple(result)


def parse_state(document: Any, runtime: Runtime, settings: Settings | None = None) -> State:
    """Validate a whole state document; raise ConfigError naming the first problem."""
    settings = settings or runtime.settings
    if not isinstance(document, dict):
        raise doc.fail("", "must be an object")
    version = document.get("version")
    if isinstance(version, bool) or version not in VERSIONS:
        raise doc.StateError(f"version: must be one of {', '.join(map(str, VERSIONS))}")
    sections = {d.state.key: d.state for d in runtime.domains}
    required = ["version", "practices", "tokens", "subscriptions"]
    allowed = required + ([k for k in sections if k != "subscriptions"] if version == 2 else [])
    doc.exact_object({k: v for k, v in document.items() if k in required}, "", tuple(required))
    extra = sorted(set(document) - set(allowed))
    if extra:
        raise doc.fail("", f"unknown key(s): {', '.join(map(str, extra))[:200]}")
    practices = _practices(doc.array(document["practices"], "practices"), version)
    practice_ids = {p.id for p in practices if p.id is not None}
    tokens = _tokens(doc.array(document["tokens"], "tokens"), practice_ids)
    parsed = {
        key: tuple(section.parse(document.get(key, []), practice_ids, settings, version))
        for key, section in sections.items()
    }
    return State(practices, tokens, parsed)


def load_state_file(path: Path, runtime: Runtime) -> State:
    """Read and validate ``--state-file``; every problem is one ConfigError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"state file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read state file {path}: {exc}") from None
    try:
        document = parse_json(text.encode(), max_containers=None)  # read at start-up
    except ValueError as exc:
        raise ConfigError(f"state file {path} is not valid JSON: {exc}") from None
    try:
        return parse_state(document, runtime)
    except ConfigError as exc:
        raise ConfigError(f"state file {path}: {exc}") from None


async def get_state(request: Request) -> Response:
    only_params(request, ())
    return parts_response(await export_state_parts(runtime_of(request)))


async def put_state(request: Request) -> Response:
    only_params(request, ())
    runtime = runtime_of(request)
    document = await json_body(request, allow_empty=False)
    try:
        state = parse_state(document, runtime)
    except ConfigError as exc:
        raise BadRequest(f"invalid state document: {exc}") from None
    runtime.import_state(state)
    loaded = {"practices": len(state.practices), "tokens": len(state.tokens)}
    loaded.update({key: len(records) for key, records in state.sections.items()})
    return JSONResponse({"loaded": loaded}, background=BackgroundTask(runtime.collect_garbage))


def routes() -> list[Route]:
    return [
        Route("/__mock/state", guarded(get_state), methods=["GET"]),
        Route("/__mock/state", guarded(put_state), methods=["PUT"]),
    ]
