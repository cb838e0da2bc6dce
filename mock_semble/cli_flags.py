"""Every subcommand's flags, and the one helper that adds them: it reads a flag's default
from ``MOCK_SEMBLE_<FLAG>`` and writes the help line's tail — allowed values, default,
variable — from the same values, so help and behaviour cannot drift apart.

``--retry-schedule`` -> ``MOCK_SEMBLE_RETRY_SCHEDULE``; a flag given on the command line
wins over its variable. Switches take ``1/true/yes/on`` or ``0/false/no/off``; repeatable
flags take space-separated values.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any, Literal

from .core.errors import ConfigError
from .core.logs import LOG_FORMATS
from .core.settings import DELIVERY_MODES, EVENT_TYPE_MODES, LOG_LEVELS, SIGNING_SCHEME_NAMES
from .readiness import DEFAULT_URL

ENV_PREFIX = "MOCK_SEMBLE_"
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")

Kind = Literal["value", "switch", "repeat"]


def env_name(flag: str) -> str:
    """``--retry-schedule`` -> ``MOCK_SEMBLE_RETRY_SCHEDULE``."""
    return ENV_PREFIX + flag.lstrip("-").upper().replace("-", "_")


def env_default(flag: str, default: Any = None, env: str | None = None) -> Any:
    return os.environ.get(env or env_name(flag), default)


def env_flag(flag: str, env: str | None = None) -> bool:
    """A switch's variable as a bool (unset: False); ConfigError for anything else."""
    name = env or env_name(flag)
    value = os.environ.get(name, "").strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def env_list(flag: str, env: str | None = None) -> list[str]:
    """A repeatable flag's variable: space-separated values (unset: none)."""
    return str(os.environ.get(env or env_name(flag), "")).split()


def help_tail(kind: Kind, default: str | None, choices: Sequence[str], env: str | None) -> str:
    """``(one of: a, b; default: a; env: MOCK_SEMBLE_X)`` for a flag's help line."""
    parts: list[str] = []
    if choices:
        parts.append("one of: " + ", ".join(choices))
    if kind == "switch":
        parts.append("default: off")
    elif kind == "repeat":
        parts.append("repeatable; default: none")
    else:
        parts.append(f"default: {default if default not in (None, '') else 'none'}")
    if env is None:
        parts.append("no environment variable")
    elif kind == "switch":
        parts.append(f"env: {env}=1")
    elif kind == "repeat":
        parts.append(f"env: {env}, space-separated")
    else:
        parts.append(f"env: {env}")
    return "(" + "; ".join(parts) + ")"


def add_flag(
    parser: argparse.ArgumentParser,
    flag: str,
    what: str,
    *,
    default: str | None = None,
    choices: Sequence[str] = (),
    kind: Kind = "value",
    metavar: str | None = None,
    env: str | Literal[False] | None = None,
    default_text: str | None = None,
) -> None:
    """Add ``flag`` whose help says ``what`` it does, then its allowed values, default and
    variable. ``env`` overrides the variable's name; ``False`` means it has none.
    ``default_text`` describes a default that is resolved later (the flag's own is None).

    A value flag's default comes from its variable when set; a switch or a repeatable
    flag defaults to ``None`` so the caller can tell "not given" and read
    :func:`env_flag` / :func:`env_list` (whose bad values become ConfigErrors, not
    argparse usage errors)."""
    variable = None if env is False else (env or env_name(flag))
    shown = default_text if default_text is not None else default
    text = f"{what} {help_tail(kind, shown, choices, variable)}".replace("%", "%%")
    if kind == "switch":
        parser.add_argument(flag, action="store_true", default=None, help=text)
    elif kind == "repeat":
        parser.add_argument(flag, action="append", default=None, metavar=metavar, help=text)
    else:
        value = os.environ.get(variable, default) if variable else default
        parser.add_argument(flag, default=value, metavar=metavar, help=text)


def add_serve_flags(serve: argparse.ArgumentParser) -> None:
    add_flag(serve, "--host", "interface to listen on", default="127.0.0.1")
    add_flag(serve, "--port", "port to listen on; 0 picks a free one", default="8000")
    add_flag(serve, "--config", "TOML file of practices and tokens", metavar="FILE")
    add_flag(serve, "--state-file", "state document loaded at start", metavar="FILE")
    add_flag(serve, "--seed", "deterministic ids, secrets and event ids", metavar="N")
    add_flag(serve, "--admin-token", "require x-mock-admin-token on /__mock", metavar="TOKEN")
    add_flag(serve, "--log-level", "least severe log line", default="info", choices=LOG_LEVELS)
    add_flag(
        serve, "--log-format", "log lines as text or JSON", default="text", choices=LOG_FORMATS
    )
    add_flag(
        serve, "--ready-file", "write {url, graphqlUrl, port, pid} once serving", metavar="FILE"
    )
    add_flag(
        serve,
        "--signing-scheme",
        "how deliveries are signed",
        default="semble",
        choices=SIGNING_SCHEME_NAMES,
    )
    add_flag(serve, "--retry-schedule", "seconds between delivery attempts", default="1,5,25")
    add_flag(serve, "--delivery-timeout", "seconds per delivery attempt", default="10")
    add_flag(
        serve,
        "--delivery-mode",
        "send deliveries, or only sign and record them",
        default="send",
        choices=DELIVERY_MODES,
    )
    add_flag(
        serve,
        "--forward",
        "send deliveries for ORIGIN to BASE_URL instead",
        kind="repeat",
        metavar="ORIGIN=BASE_URL",
    )
    add_flag(serve, "--ca-bundle", "extra CA certificates for HTTPS receivers", metavar="FILE")
    add_flag(serve, "--allow-http-localhost", "admit http:// URLs to loopback hosts", kind="switch")
    add_flag(
        serve,
        "--allow-http-host",
        "admit http:// URLs to this host name too (e.g. host.docker.internal)",
        kind="repeat",
        metavar="NAME",
        env="MOCK_SEMBLE_ALLOW_HTTP_HOSTS",
    )
    add_flag(
        serve,
        "--event-types",
        "API version: enum (the webhooks guide) or strings (Semble since 2026-06-08)",
        choices=EVENT_TYPE_MODES,
        default_text="the config file's eventTypes, else enum",
    )
    add_flag(
        serve,
        "--circuit-breaker",
        "pause a subscription after N consecutive failed deliveries (0 = off)",
        default="5",
    )
    add_flag(serve, "--delivery-concurrency", "deliveries sent at once", default="8")
    add_flag(
        serve,
        "--rate-limit",
        "refuse a token's requests beyond N per rolling minute (none = off)",
        metavar="N",
    )
    add_flag(serve, "--request-journal-size", "GraphQL requests kept", default="1000")
    add_flag(serve, "--delivery-journal-size", "deliveries kept", default="10000")


def add_schema_flags(schema: argparse.ArgumentParser) -> None:
    add_flag(schema, "--event-types", "API version", default="enum", choices=EVENT_TYPE_MODES)


def add_fire_flags(fire: argparse.ArgumentParser) -> None:
    fire.add_argument("event_type", help="PATIENT_CREATED or patient.created, …")
    add_flag(
        fire,
        "--url",
        "the server: its base URL or the ready line's …/graphql URL",
        default=DEFAULT_URL,
    )
    add_flag(fire, "--practice", "practice id; none = the default practice", metavar="ID")
    add_flag(fire, "--subscription", "only this subscription id", metavar="ID")
    add_flag(fire, "--identifier", "event identifier", kind="repeat", metavar="KEY=VALUE")
    add_flag(fire, "--wait", "wait until every delivery is final", kind="switch")
    add_flag(
        fire,
        "--fault",
        "deliver it faulty: bad_signature, stale_timestamp, missing_signature, "
        "duplicate, delay or delay:MS (SPEC 4.1)",
        metavar="FAULT",
    )
    add_flag(fire, "--admin-token", "the server's --admin-token", metavar="TOKEN")


def add_assets_flags(assets: argparse.ArgumentParser) -> None:
    add_flag(assets, "--check", "only verify the installed files", kind="switch", env=False)
    add_flag(
        assets,
        "--registry",
        "npm registry (or mirror) to download from",
        default="https://registry.npmjs.org",
        env="MOCK_SEMBLE_NPM_REGISTRY",
    )
