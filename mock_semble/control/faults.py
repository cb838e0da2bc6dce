"""``/__mock/faults`` (SPEC §4.1): create, list and delete fault rules.

Every part of a rule is checked before it is stored; unknown fields, match keys and
action parameters are refused naming them, so a typo never widens a rule. The checks
of a delivery action are shared with ``POST /__mock/events``' ``fault`` field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.events import UnknownEventType, parse_event_type
from ..core.faults import ACTIONS, API, DELIVERY, MATCH_KEYS, TARGETS, fault_rules
from ..core.ids import is_object_id
from ..core.runtime import Runtime
from ..delivery.faults import DEFAULT_DELAY_MS, TIMESTAMPED_SCHEMES, DeliveryFault
from .base import BadRequest, guarded, json_body, only_params, runtime_of

RULE_FIELDS = ("target", "match", "action", "times", "probability")
MAX_DELAY_MS = 300_000  # five minutes: longer than any client timeout worth testing
MAX_TIMES = 10**9
MAX_TEXT = 1000
GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,255}")
HEADER_VALUE = re.compile(r"[\x20-\x7e]{1,200}")
NO_BODY_STATUSES = (204, 304)
# Parameters of each action beyond "type": name -> required
PARAMETERS: Mapping[str, Mapping[str, bool]] = {
    "graphql_error": {"message": True, "code": True},
    "http": {"status": True, "body": False, "contentType": False},
    "delay": {"ms": True},
}


def _text(value: Any, where: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise BadRequest(f"'{where}' must be a string of 1 to {limit} characters")
    return value


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"'{where}' must be a whole number from {low} to {high}")
    return value


def _match(target: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest("'match' must be a JSON object")
    allowed = MATCH_KEYS[target]
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise BadRequest(
            f"unknown match key(s) for target {target!r}: {', '.join(unknown)[:200]} "
            f"(known: {', '.join(allowed)})"
        )
    match: dict[str, str] = {}
    for key, given in value.items():
        text = _text(given, f"match.{key}", 256)
        if key in ("practiceId", "subscriptionId") and not is_object_id(text):
            raise BadRequest(f"'match.{key}' must be a 24-hex id")
        if key in ("operationName", "field") and not GRAPHQL_NAME.fullmatch(text):
            raise BadRequest(f"'match.{key}' must be a GraphQL name")
        if key == "eventType":
            try:
                text = parse_event_type(text)
            except UnknownEventType as exc:
                raise BadRequest(str(exc)) from None
        match[key] = text
    return match


def parse_action(target: str, value: Any, *, scheme: str, where: str = "action") -> dict[str, Any]:
    """A checked action of ``target`` (the field ``where``)."""
    if not isinstance(value, dict):
        raise BadRequest(f"'{where}' must be a JSON object with a 'type'")
    kind = value.get("type")
    known = ACTIONS[target]
    if kind not in known:
        other = DELIVERY if target == API else API
        hint = f"; {kind!r} is a {other} action" if kind in ACTIONS[other] else ""
        raise BadRequest(
            f"'{where}.type' for target {target!r} must be one of {', '.join(known)}{hint}"
        )
    parameters = dict(PARAMETERS.get(kind, {}))
    if target == DELIVERY and kind == "delay":
        parameters = {"ms": False}
    unknown = sorted(set(value) - {"type", *parameters})
    if unknown:
        raise BadRequest(f"unknown field(s) of '{where}' ({kind}): {', '.join(unknown)[:200]}")
    missing = [name for name, required in parameters.items() if required and name not in value]
    if missing:
        raise BadRequest(f"'{where}' ({kind}) needs {', '.join(repr(m) for m in missing)}")
    if kind == "stale_timestamp" and scheme not in TIMESTAMPED_SCHEMES:
        raise BadRequest(
            f"stale_timestamp needs a signing scheme with a timestamp "
            f"({', '.join(TIMESTAMPED_SCHEMES)}); this server signs with {scheme!r}"
        )
    action: dict[str, Any] = {"type": kind}
    if kind == "delay":
        action["ms"] = _whole(value.get("ms", DEFAULT_DELAY_MS), f"{where}.ms", 0, MAX_DELAY_MS)
    if kind == "graphql_error":
        action["message"] = _text(value["message"], f"{where}.message")
        action["code"] = _text(value["code"], f"{where}.code", 100)
    if kind == "http":
        action.update(_http(value, where))
    return action


def _http(value: dict[str, Any], where: str) -> dict[str, Any]:
    status = _whole(value["status"], f"{where}.status", 200, 599)
    action: dict[str, Any] = {"status": status}
    if value.get("body") is not None:
        if status in NO_BODY_STATUSES:
            raise BadRequest(f"an HTTP {status} response has no body")
        action["body"] = value["body"]
    if value.get("contentType") is not None:
        content_type = value["contentType"]
        if not isinstance(content_type, str) or not HEADER_VALUE.fullmatch(content_type):
            raise BadRequest(f"'{where}.contentType' must be 1 to 200 printable ASCII characters")
        action["contentType"] = content_type
    return action


def parse_event_fault(value: Any, *, scheme: str) -> DeliveryFault | None:
    """``POST /__mock/events``' ``fault``: ``"<type>"`` or ``{"type", "ms"?}``."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"type": value}
    return DeliveryFault.from_action(parse_action(DELIVERY, value, scheme=scheme, where="fault"))


def parse_rule(data: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """The checked parts of a rule: target, match, action, times, probability."""
    target = data.get("target", API)
    if target not in TARGETS:
        raise BadRequest(f"'target' must be one of {', '.join(TARGETS)}")
    if "action" not in data:
        raise BadRequest("'action' is required")
    action = parse_action(target, data["action"], scheme=runtime.settings.signing_scheme)
    times = data.get("times", 1)
    if times is not None:
        times = _whole(times, "times", 1, MAX_TIMES)
    probability = data.get("probability", 1)
    if (
        isinstance(probability, bool)
        or not isinstance(probability, int | float)
        or not math.isfinite(probability)
        or not 0 <= probability <= 1
    ):
        raise BadRequest("'probability' must be a number from 0 to 1")
    return {
        "target": target,
        "match": _match(target, data.get("match")),
        "action": action,
        "times": times,
        "probability": float(probability),
    }


async def faults(request: Request) -> Response:
    rules = fault_rules(runtime_of(request))
    only_params(request, ())
    if request.method == "POST":
        data = await json_body(request, allow_empty=False, allowed=RULE_FIELDS)
        parts = parse_rule(data, runtime_of(request))
        rule = rules.add(
            parts["target"],
            parts["match"],
            parts["action"],
            times=parts["times"],
            probability=parts["probability"],
        )
        return JSONResponse(rule.to_json(), status_code=201)
    if request.method == "DELETE":
        rules.clear()
    return JSONResponse({"faults": [rule.to_json() for rule in rules.rules()]})


async def one_fault(request: Request) -> Response:
    rules = fault_rules(runtime_of(request))
    only_params(request, ())
    rule_id = request.path_params["fault_id"]
    rule = rules.get(rule_id)
    if rule is None or (request.method == "DELETE" and not rules.remove(rule_id)):
        raise BadRequest(f"unknown fault rule {rule_id[:64]!r}", 404)
    return JSONResponse(rule.to_json())


def routes() -> list[Route]:
    return [
        Route("/__mock/faults", guarded(faults), methods=["GET", "POST", "DELETE"]),
        Route("/__mock/faults/{fault_id}", guarded(one_fault), methods=["GET", "DELETE"]),
    ]
