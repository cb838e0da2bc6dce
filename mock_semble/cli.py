"""The ``mock-semble`` command: ``serve``, ``schema``, ``fire`` and ``graphiql-assets``
(SPEC §5).

Every flag can also come from ``MOCK_SEMBLE_<FLAG>`` in the environment
(``--retry-schedule`` -> ``MOCK_SEMBLE_RETRY_SCHEDULE``); a flag given on the command
line wins, and ``--help`` names each flag's default, allowed values and variable
(:mod:`mock_semble.cli_flags`). Errors are one line on stderr and a non-zero exit, never
a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .cli_flags import (
    add_assets_flags,
    add_fire_flags,
    add_schema_flags,
    add_serve_flags,
    env_flag,
    env_list,
)
from .config import load_config_file
from .core.errors import ConfigError
from .core.logs import LOG_FORMATS
from .core.settings import (
    DELIVERY_MODES,
    EVENT_TYPE_MODES,
    LOG_LEVELS,
    SIGNING_SCHEME_NAMES,
    Settings,
    parse_forward,
    parse_http_host,
    parse_retry_schedule,
)
from .core.version import __version__
from .fire_report import WEBHOOKS_DISABLED, delivery_line, nothing_sent, refusal, watch_progress
from .listen import add_listen_flags, run_listen
from .readiness import (
    check_ready_file,
    ready_document,
    remove_ready_file,
    server_base,
    write_ready_file,
)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"mock-semble: error: {message}\n")


def build_parser() -> Parser:
    parser = Parser(prog="mock-semble", description="A local mock of Semble's GraphQL API.")
    parser.add_argument("--version", action="version", version=f"mock-semble {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    add_serve_flags(commands.add_parser("serve", help="run the mock server"))
    add_schema_flags(commands.add_parser("schema", help="print the GraphQL SDL"))
    add_fire_flags(commands.add_parser("fire", help="fire an event at a running server"))
    add_listen_flags(commands.add_parser("listen", help="print deliveries as they happen"))
    add_assets_flags(
        commands.add_parser(
            "graphiql-assets",
            help="fetch GraphiQL's pinned JS/CSS into the installed package (offline GraphiQL)",
        )
    )
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
        "allow_http_hosts": tuple(
            parse_http_host(h) for h in (args.allow_http_host or env_list("--allow-http-hosts"))
        ),
        "retry_schedule": parse_retry_schedule(args.retry_schedule),
        "request_journal_size": _int(args.request_journal_size, "--request-journal-size", 1, 10**6),
        "delivery_journal_size": _int(
            args.delivery_journal_size, "--delivery-journal-size", 1, 10**6
        ),
        "circuit_breaker": _int(args.circuit_breaker, "--circuit-breaker", 0, 10**6),
        "delivery_concurrency": _int(args.delivery_concurrency, "--delivery-concurrency", 1, 1000),
    }
    if args.admin_token is not None and not args.admin_token.strip():
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
    forwards = args.forward if args.forward is not None else env_list("--forward")
    fields["forwards"] = tuple(parse_forward(f) for f in forwards)
    if args.ca_bundle:
        path = Path(args.ca_bundle)
        if not path.is_file():
            raise ConfigError(f"--ca-bundle file not found: {path}")
        check_ca_bundle(path)
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


def check_ca_bundle(path: Path) -> None:
    """Refuse at start a bundle no delivery could use (else every delivery fails)."""
    import ssl  # only with --ca-bundle: ssl costs start-up time

    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        raise ConfigError(f"--ca-bundle {path} holds no usable certificate ({reason})") from None


def serve(settings: Settings, *, ready_file: Path | None = None, log_format: str = "text") -> int:
    import asyncio

    from .api.graphiql import assets_installed
    from .app import create_app
    from .core.logs import configure_logging, startup_log
    from .core.server import build_server, is_loopback, listening_socket, mark_listening, tune_gc
    from .delivery.engine import engine_of

    configure_logging(settings.log_level, log_format)
    if ready_file is not None:
        check_ready_file(ready_file)
    app = create_app(settings)  # may raise ConfigError (e.g. a bad state file)
    try:
        sock = listening_socket(settings.host, settings.port)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}"
        ) from None
    host, port = mark_listening(app.state.runtime, sock)
    shown_host = f"[{host}]" if ":" in host else host
    if not is_loopback(settings.host) and settings.admin_token is None:
        startup_log.warning(
            "warning: listening on %s without --admin-token: anyone who can "
            "reach it can read, change and reset the mock through /__mock",
            settings.host,
        )
    if not assets_installed():  # e.g. a build with MOCK_SEMBLE_GRAPHIQL_ASSETS=skip
        startup_log.warning(
            "warning: GraphiQL assets are not installed, so the page loads them from a CDN; "
            "install them with: mock-semble graphiql-assets"
        )
    document = ready_document(host, port)

    def ready() -> None:
        print(f"mock-semble ready: http://{shown_host}:{port}/graphql", flush=True)
        print(f"inspector: http://{shown_host}:{port}/__mock/ui", flush=True)
        if ready_file is not None:
            write_ready_file(ready_file, document)

    tune_gc()
    # Deliveries stop before uvicorn drains open requests: a `wait: true` call answers
    # at once instead of holding the shutdown until its timeout.
    server = build_server(
        app, settings, on_ready=ready, before_drain=engine_of(app.state.runtime).stop
    )
    configure_logging(settings.log_level, log_format)  # uvicorn's records too (it set its own)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        if ready_file is not None:
            remove_ready_file(ready_file)
    return 0


def fire(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    args.wait = bool(args.wait) or env_flag("--wait")
    base = server_base(args.url)
    identifiers: dict[str, str] = {}
    for item in args.identifier if args.identifier is not None else env_list("--identifier"):
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
        base + "/__mock/events",
        data=json.dumps(body).encode(),
        headers=headers,
        method="POST",
    )
    done = threading.Event()
    if args.wait:  # a line per retry instead of minutes of silence (stderr: stdout is the result)
        progress = threading.Thread(
            target=watch_progress,
            args=(base, headers, args.event_type, args.practice, done, _say),
            daemon=True,
        )
        progress.start()
    try:
        # The server bounds a waiting call itself (the whole retry schedule can take minutes).
        with urllib.request.urlopen(request, timeout=600 if args.wait else 30) as response:
            result = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            reason = exc.reason
        if exc.code == 409 and str(reason) == WEBHOOKS_DISABLED:
            # nothing could match (SPEC §5): with --wait that is a failed gate (1)
            print("0 deliveries")
            print(f"mock-semble: {refusal(exc.code, str(reason))}", file=sys.stderr)
            return 1 if args.wait else 0
        raise ConfigError(refusal(exc.code, str(reason))) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ConfigError(f"cannot reach {args.url}: {getattr(exc, 'reason', exc)}") from None
    finally:
        done.set()
    deliveries = result.get("deliveries", [])
    print(f"{len(deliveries)} {'delivery' if len(deliveries) == 1 else 'deliveries'}")
    for d in deliveries:
        print(delivery_line(d))
    if not args.wait:
        reason = nothing_sent(args.event_type, deliveries)
        if reason:
            _say(reason)
        return 0
    code, why = wait_exit_code(deliveries, args.event_type)
    if why:
        print(f"mock-semble: {why}", file=sys.stderr)
    return code


DELIVERED = ("succeeded", "recorded")


def wait_exit_code(deliveries: Sequence[dict[str, Any]], event_type: str) -> tuple[int, str]:
    """``fire --wait``'s exit status and why: 0 when every delivery is succeeded or
    recorded; 1 when one is not (failed, skipped, still pending when the server stopped
    waiting) or when nothing matched, so a CI gate never passes on a delivery that did
    not happen."""
    reason = nothing_sent(event_type, list(deliveries))
    if reason:
        return 1, reason
    missed = [d for d in deliveries if d.get("status") not in DELIVERED]
    if not missed:
        return 0, ""
    statuses = ", ".join(sorted({str(d.get("status")) for d in missed}))
    return 1, f"{len(missed)} of {len(deliveries)} deliveries not delivered ({statuses})"


def _say(line: str) -> None:
    print(f"mock-semble: {line}", file=sys.stderr, flush=True)


def graphiql_assets(args: argparse.Namespace) -> int:
    """Fetch (or ``--check``) the pinned GraphiQL files in the installed package."""
    from .api.graphiql import assets_dir
    from .api.graphiql_vendor import FetchError, install, stale_pins

    dest = assets_dir()
    if args.check:
        missing = stale_pins(dest)
        if missing:
            names = ", ".join(pin.name for pin in missing)
            _say(f"GraphiQL assets missing or modified in {dest}: {names}")
            return 1
        print(f"GraphiQL assets OK in {dest}")
        return 0
    try:
        written = install(dest, registry=args.registry)
    except (FetchError, OSError) as exc:
        _say(f"error: GraphiQL assets: {exc}")
        return 1
    print(
        f"GraphiQL assets: {written} verified file(s) written to {dest}"
        if written
        else f"GraphiQL assets already installed in {dest}"
    )
    return 0


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
        if args.command == "graphiql-assets":
            return graphiql_assets(args)
        if args.log_format not in LOG_FORMATS:
            raise ConfigError(f"--log-format must be one of {', '.join(LOG_FORMATS)}")
        ready_file = Path(args.ready_file) if args.ready_file else None
        return serve(settings_from(args), ready_file=ready_file, log_format=args.log_format)
    except ConfigError as exc:
        print(f"mock-semble: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
