"""The ``mock-semble`` command: ``serve``, ``schema`` and ``fire`` (SPEC §5).

Every ``serve`` flag can also come from ``MOCK_SEMBLE_<FLAG>`` in the environment
(``--retry-schedule`` -> ``MOCK_SEMBLE_RETRY_SCHEDULE``); a flag given on the command
line wins. Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .config import load_config_file
from .core.errors import ConfigError
from .core.settings import (
    DELIVERY_MODES,
    EVENT_TYPE_MODES,
    LOG_LEVELS,
    SIGNING_SCHEME_NAMES,
    Settings,
    parse_forward,
    parse_retry_schedule,
)
from .core.version import __version__
from .listen import add_listen_flags, run_listen

ENV_PREFIX = "MOCK_SEMBLE_"
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"mock-semble: error: {message}\n")


def env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").upper().replace("-", "_")


def env_default(flag: str, default: Any = None) -> Any:
    return os.environ.get(env_name(flag), default)


def env_flag(flag: str) -> bool:
    value = os.environ.get(env_name(flag), "").strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{env_name(flag)} must be true or false, got {value!r}")


def build_parser() -> Parser:
    parser = Parser(prog="mock-semble", description="A local mock of Semble's GraphQL API.")
    parser.add_argument("--version", action="version", version=f"mock-semble {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    serve = commands.add_parser("serve", help="run the mock server")
    serve.add_argument("--host", default=env_default("--host", "127.0.0.1"))
    serve.add_argument("--port", default=env_default("--port", "8000"), help="0 picks a free port")
    serve.add_argument(
        "--config", default=env_default("--config"), help="TOML file of practices and tokens"
    )
    serve.add_argument(
        "--state-file", default=env_default("--state-file"), help="state document to load"
    )
    serve.add_argument(
        "--seed", default=env_default("--seed"), help="deterministic ids and secrets"
    )
    serve.add_argument("--admin-token", default=env_default("--admin-token"))
    serve.add_argument("--log-level", default=env_default("--log-level", "info"))
    serve.add_argument("--signing-scheme", default=env_default("--signing-scheme", "semble"))
    serve.add_argument("--retry-schedule", default=env_default("--retry-schedule", "1,5,25"))
    serve.add_argument("--delivery-timeout", default=env_default("--delivery-timeout", "10"))
    serve.add_argument("--delivery-mode", default=env_default("--delivery-mode", "send"))
    serve.add_argument("--forward", action="append", default=None, metavar="ORIGIN=BASE_URL")
    serve.add_argument("--ca-bundle", default=env_default("--ca-bundle"))
    serve.add_argument("--allow-http-localhost", action="store_true", default=None)
    serve.add_argument(
        "--event-types",
        default=env_default("--event-types"),
        help="API version: enum (the webhooks guide) or strings (Semble since 2026-06-08)",
    )
    serve.add_argument(
        "--circuit-breaker",
        default=env_default("--circuit-breaker", "5"),
        help="pause a subscription after N consecutive failed deliveries (0 = off)",
    )
    serve.add_argument("--delivery-concurrency", default=env_default("--delivery-concurrency", "8"))
    serve.add_argument(
        "--rate-limit",
        default=env_default("--rate-limit"),
        help="refuse a token's requests beyond N per rolling minute (off by default)",
    )
    serve.add_argument(
        "--request-journal-size", default=env_default("--request-journal-size", "1000")
    )
    serve.add_argument(
        "--delivery-journal-size", default=env_default("--delivery-journal-size", "10000")
    )

    schema = commands.add_parser("schema", help="print the GraphQL SDL")
    schema.add_argument(
        "--event-types", default="enum", choices=EVENT_TYPE_MODES, help="API version"
    )

    fire = commands.add_parser("fire", help="fire an event at a running server")
    fire.add_argument("event_type", help="PATIENT_CREATED or patient.created, …")
    fire.add_argument("--url", default=env_default("--url", "http://127.0.0.1:8000"))
    fire.add_argument("--practice", help="practice id (default: the default practice)")
    fire.add_argument("--subscription", help="only this subscription id")
    fire.add_argument("--identifier", action="append", default=[], metavar="KEY=VALUE")
    fire.add_argument("--wait", action="store_true", help="wait until every delivery is final")
    fire.add_argument(
        "--fault",
        help="deliver it faulty: bad_signature, stale_timestamp, missing_signature, "
        "duplicate, delay or delay:MS (SPEC 4.1)",
    )
    fire.add_argument("--admin-token", default=env_default("--admin-token"))
    add_listen_flags(commands.add_parser("listen", help="print deliveries as they happen"))
    return parser


def _int(value: str, flag: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{flag} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{flag} must be between {low} and {high}")
    return number


def settings_from(args: argparse.Namespace) -> Settings:
    """Turn parsed flags (and the environment) into Settings; ConfigError on bad input."""
    fields: dict[str, Any] = {
        "host": args.host,
        "port": _int(args.port, "--port", 0, 65535),
        "admin_token": args.admin_token or None,
        "allow_http_localhost": args.allow_http_localhost or env_flag("--allow-http-localhost"),
        "retry_schedule": parse_retry_schedule(args.retry_schedule),
        "request_journal_size": _int(args.request_journal_size, "--request-journal-size", 1, 10**6),
        "delivery_journal_size": _int(
            args.delivery_journal_size, "--delivery-journal-size", 1, 10**6
        ),
        "circuit_breaker": _int(args.circuit_breaker, "--circuit-breaker", 0, 10**6),
        "delivery_concurrency": _int(args.delivery_concurrency, "--delivery-concurrency", 1, 1000),
    }
    if args.admin_token is not None and args.admin_token == "":
        raise ConfigError("--admin-token must not be empty")
    if args.seed is not None:
        fields["seed"] = _int(args.seed, "--seed", 0, 2**63)
    if args.rate_limit:  # unset or empty: off
        fields["rate_limit"] = _int(args.rate_limit, "--rate-limit", 1, 10**6)
    level = str(args.log_level).lower()
    if level not in LOG_LEVELS:
        raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
    fields["log_level"] = level
    if args.signing_scheme not in SIGNING_SCHEME_NAMES:
        raise ConfigError(f"--signing-scheme must be one of {', '.join(SIGNING_SCHEME_NAMES)}")
    fields["signing_scheme"] = args.signing_scheme
    if args.delivery_mode not in DELIVERY_MODES:
        raise ConfigError(f"--delivery-mode must be one of {', '.join(DELIVERY_MODES)}")
    fields["delivery_mode"] = args.delivery_mode
    try:
        timeout = float(args.delivery_timeout)
    except ValueError:
        raise ConfigError("--delivery-timeout must be a number of seconds") from None
    if not 0 < timeout <= 600:
        raise ConfigError("--delivery-timeout must be between 0 and 600 seconds")
    fields["delivery_timeout"] = timeout
    forwards = args.forward
    if forwards is None:
        forwards = env_default("--forward", "").split()
    fields["forwards"] = tuple(parse_forward(f) for f in forwards)
    if args.ca_bundle:
        path = Path(args.ca_bundle)
        if not path.is_file():
            raise ConfigError(f"--ca-bundle file not found: {path}")
        fields["ca_bundle"] = path
    if args.config and args.state_file:
        # Both would define the practices and tokens; refuse rather than pick one.
        raise ConfigError(
            "--config and --state-file cannot be combined: "
            "a state file carries its own practices and tokens"
        )
    if args.config:
        fields.update(load_config_file(Path(args.config)))
    if args.event_types is not None:  # the flag (or its variable) wins over the config file
        if args.event_types not in EVENT_TYPE_MODES:
            raise ConfigError(f"--event-types must be one of {', '.join(EVENT_TYPE_MODES)}")
        fields["event_types"] = args.event_types
    if args.state_file:
        path = Path(args.state_file)
        if not path.is_file():
            raise ConfigError(f"--state-file not found: {path}")
        fields["state_file"] = path
    return Settings(**fields)


def serve(settings: Settings) -> int:
    import asyncio
    import contextlib
    import signal
    import socket
    from collections.abc import Iterator

    import uvicorn

    from .app import create_app
    from .core.logs import configure_logging

    configure_logging(settings.log_level)
    app = create_app(settings)  # may raise ConfigError (e.g. a bad state file)
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only when the
    # listener says so; without it keep-alive responses stall ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}"
        ) from None
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                print(f"mock-semble ready: http://{shown_host}:{port}/graphql", flush=True)
                print(f"inspector: http://{shown_host}:{port}/__mock/ui", flush=True)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises the signal that stopped it once shutdown is complete, so
            # SIGTERM would end the process with -15 (143) after a clean shutdown. A
            # finished graceful shutdown on SIGTERM is a normal exit (0); Ctrl-C still 130.
            with super().capture_signals():
                yield
                self._captured_signals = [s for s in self._captured_signals if s != signal.SIGTERM]

    config = uvicorn.Config(
        app,
        log_level="warning" if settings.log_level != "debug" else "info",
        access_log=False,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    server = Server(config)
    asyncio.run(server.serve(sockets=[sock]))
    return 0


def fire(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    identifiers: dict[str, str] = {}
    for item in args.identifier:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--identifier must be KEY=VALUE, got {item!r}")
        identifiers[key] = value
    body: dict[str, Any] = {"eventType": args.event_type, "wait": bool(args.wait)}
    if args.practice:
        body["practiceId"] = args.practice
    if args.subscription:
        body["subscriptionId"] = args.subscription
    if identifiers:
        body["identifiers"] = identifiers
    if args.fault:
        kind, _, ms = args.fault.partition(":")
        body["fault"] = {"type": kind, "ms": _int(ms, "--fault delay:MS", 0, 10**9)} if ms else kind
    headers = {"content-type": "application/json"}
    if args.admin_token:
        headers["x-mock-admin-token"] = args.admin_token
    request = urllib.request.Request(
        args.url.rstrip("/") + "/__mock/events",
        data=json.dumps(body).encode(),
        headers=headers,
        method="POST",
    )
    try:
        # The server bounds a waiting call itself (the whole retry schedule can take minutes).
        with urllib.request.urlopen(request, timeout=600 if args.wait else 30) as response:
            result = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            reason = exc.reason
        raise ConfigError(f"fire failed ({exc.code}): {reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ConfigError(f"cannot reach {args.url}: {getattr(exc, 'reason', exc)}") from None
    deliveries = result.get("deliveries", [])
    print(f"{len(deliveries)} {'delivery' if len(deliveries) == 1 else 'deliveries'}")
    for d in deliveries:
        line = f"{d['id']} {d['status']} {d['eventType']} -> {d['targetUrl']}"
        if d["attempts"]:
            last = d["attempts"][-1]
            outcome = last["error"] or f"HTTP {last['responseStatus']}"
            if last["responseStatus"] is None and last["error"] is None:
                outcome = "signed, not sent"
            count = len(d["attempts"])
            line += f" ({count} attempt{'s' if count > 1 else ''}, last: {outcome})"
        print(line)
    # With --wait a failed delivery is a failed command, so scripts can stop on it.
    return 1 if args.wait and any(d["status"] == "failed" for d in deliveries) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "schema":
            from .api.schema import build_schema, sdl
            from .domains import DOMAINS

            sys.stdout.write(sdl(build_schema(DOMAINS, args.event_types)))
            return 0
        if args.command == "fire":
            return fire(args)
        if args.command == "listen":
            return run_listen(args)
        return serve(settings_from(args))
    except ConfigError as exc:
        print(f"mock-semble: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
