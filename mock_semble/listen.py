"""``mock-semble listen`` (SPEC §4.2): print deliveries as they happen, like ``stripe listen``.

Reads ``GET /__mock/stream?topics=deliveries`` (server-sent events) of a running server
and prints one line per delivery that reaches a final status and one per retry
scheduled. Deliveries that were final before it connected are not shown. Ctrl-C ends
it with exit status 0; a server that goes away ends it with 1. Only the standard
library is used, so it starts fast.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO
from urllib.parse import urlsplit

from .cli_flags import add_flag, env_flag, env_list
from .core.errors import ConfigError
from .core.events import UnknownEventType, parse_event_type
from .readiness import DEFAULT_URL

STREAM_PATH = "/__mock/stream?topics=deliveries"
SHOWN_PHASES = ("retry_scheduled", "final")
# The server sends a keep-alive comment every 15 s: this long without a byte means it is gone.
SILENCE_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 10.0


def server_base(url: str) -> str:
    """The server's base URL from a base or a ``/graphql`` URL."""
    base = url.strip().rstrip("/")
    base = base.removesuffix("/graphql").rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--url must be an http(s) URL of a mock-semble server, got {url!r}")
    if parts.query or parts.fragment:
        raise ConfigError("--url must not have a query or fragment")
    return base


def wanted_types(given: Iterable[str]) -> frozenset[str]:
    """``--event-type`` values as dotted types (either form accepted)."""
    try:
        return frozenset(parse_event_type(t) for t in given)
    except UnknownEventType as exc:
        raise ConfigError(f"--event-type: {exc}") from None


def read_events(response: http.client.HTTPResponse) -> Iterator[tuple[str, str]]:
    """``(event, data)`` for each server-sent event; comments (keep-alives) skipped."""
    event, data = "message", list[str]()
    while True:
        raw = response.readline()
        if not raw:
            return
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)


def _attempt(delivery: dict[str, Any], number: int | None) -> dict[str, Any] | None:
    attempts = delivery["attempts"]
    if number is None or not 1 <= number <= len(attempts):
        return None
    found: dict[str, Any] = attempts[number - 1]
    return found


def record(change: dict[str, Any]) -> dict[str, Any]:
    """What one printed line says, as a JSON object (``--json``)."""
    delivery = change["delivery"]
    attempt = _attempt(delivery, change.get("attempt"))
    retry = change["phase"] == "retry_scheduled"
    check = (attempt or {}).get("signatureCheck") or {}
    return {
        "time": attempt["at"] if attempt else delivery["createdAt"],
        "phase": change["phase"],
        "deliveryId": delivery["id"],
        "eventId": delivery["eventId"],
        "eventType": delivery["eventType"],
        "subscriptionId": delivery["subscriptionId"],
        "practiceId": delivery["practiceId"],
        "status": "retrying" if retry else delivery["status"],
        "responseStatus": attempt["responseStatus"] if attempt else None,
        "attempt": attempt["number"] if attempt else None,
        "error": attempt["error"] if attempt else None,
        "signature": check.get("result"),
    }


def text_line(entry: dict[str, Any]) -> str:
    """One human line: time, event type, subscription, status, response, attempt."""
    response = "-" if entry["responseStatus"] is None else str(entry["responseStatus"])
    attempt = "-" if entry["attempt"] is None else str(entry["attempt"])
    line = (
        f"{entry['time']}  {entry['eventType']}  subscription={entry['subscriptionId']}  "
        f"status={entry['status']}  response={response}  attempt={attempt}  "
        f"delivery={entry['deliveryId']}"
    )
    if entry["error"]:
        line += f"  error={json.dumps(entry['error'])}"
    return line


def _connect(base: str, admin_token: str | None) -> http.client.HTTPResponse:
    parts = urlsplit(base)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=CONNECT_TIMEOUT_S)
    headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
    if admin_token:
        headers["x-mock-admin-token"] = admin_token
    try:
        connection.request("GET", parts.path + STREAM_PATH, headers=headers)
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        raise ConfigError(f"cannot reach {base}: {exc}") from None
    if response.status != 200:
        body = response.read(4096)
        connection.close()
        try:
            reason = json.loads(body).get("error", response.reason)
        except (ValueError, AttributeError):
            reason = response.reason
        raise ConfigError(f"listen failed ({response.status}): {reason}")
    if connection.sock is not None:
        connection.sock.settimeout(SILENCE_TIMEOUT_S)
    return response


def listen(
    url: str,
    *,
    admin_token: str | None = None,
    event_types: Iterable[str] = (),
    as_json: bool = False,
    out: TextIO | None = None,
) -> int:
    """Run until Ctrl-C (0) or until the server goes away (1); ConfigError on a bad
    option, an unreachable server or a refused connection."""
    out = out or sys.stdout
    base = server_base(url)
    wanted = wanted_types(event_types)
    try:
        response = _connect(base, admin_token)
        try:
            for event, data in read_events(response):
                if event == "hello":
                    print(f"listening on {base}", file=out, flush=True)
                    continue
                if event != "delivery":
                    continue
                change = json.loads(data)
                if change["phase"] not in SHOWN_PHASES:
                    continue
                if wanted and change["delivery"]["eventType"] not in wanted:
                    continue
                entry = record(change)
                shown = json.dumps(entry) if as_json else text_line(entry)
                print(shown, file=out, flush=True)
        finally:
            response.close()
    except KeyboardInterrupt:
        return 0
    except TimeoutError:
        print(f"mock-semble listen: no data from {base} for a minute", file=sys.stderr)
        return 1
    except (OSError, http.client.HTTPException) as exc:
        print(f"mock-semble listen: lost the connection to {base}: {exc}", file=sys.stderr)
        return 1
    print(f"mock-semble listen: {base} closed the stream", file=sys.stderr)
    return 1


def add_listen_flags(parser: argparse.ArgumentParser) -> None:
    """The ``listen`` subcommand's flags, each with its default and variable in --help."""
    add_flag(
        parser,
        "--url",
        "the server: its base URL or the ready line's …/graphql URL",
        default=DEFAULT_URL,
    )
    add_flag(parser, "--admin-token", "the server's --admin-token", metavar="TOKEN")
    add_flag(
        parser,
        "--event-type",
        "show only this event type (PATIENT_CREATED or patient.created)",
        kind="repeat",
        metavar="TYPE",
    )
    add_flag(parser, "--json", "one JSON object per line", kind="switch")


def run_listen(args: argparse.Namespace) -> int:
    """``mock-semble listen`` with parsed flags."""
    event_types = args.event_type if args.event_type is not None else env_list("--event-type")
    as_json = bool(args.json) or env_flag("--json")
    return listen(args.url, admin_token=args.admin_token, event_types=event_types, as_json=as_json)
