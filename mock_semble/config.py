"""The TOML config file (SPEC §5): practices with reference data, and tokens.

Each entry is validated by :mod:`mock_semble.core.tenancy`, the same code that checks
state documents and the control plane.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .core.errors import ConfigError
from .core.settings import EVENT_TYPE_MODES, parse_http_host
from .core.tenancy import PracticeSeed, TokenSeed, practice_from_json, token_from_json

CONFIG_KEYS = ("practices", "tokens", "eventTypes", "allowHttpHosts")


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def parse_config(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a decoded config document into Settings fields; ConfigError names the
    first problem."""
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    _expect(not unknown, f"unknown config key(s): {', '.join(unknown)}")
    raw_practices = data.get("practices", [])
    raw_tokens = data.get("tokens", [])
    _expect(isinstance(raw_practices, list), "practices must be an array of tables")
    _expect(isinstance(raw_tokens, list), "tokens must be an array of tables")
    _expect(bool(raw_practices), "config needs at least one [[practices]] entry")
    _expect(bool(raw_tokens), "config needs at least one [[tokens]] entry")
    practices: list[PracticeSeed] = []
    for n, entry in enumerate(raw_practices, 1):
        seed = practice_from_json(entry, f"practices #{n}")
        _expect(
            seed.id is None or all(p.id != seed.id for p in practices),
            f"practices #{n}: duplicate id {seed.id}",
        )
        practices.append(seed)
    known_ids = [p.id for p in practices if p.id is not None]
    tokens: list[TokenSeed] = []
    for n, entry in enumerate(raw_tokens, 1):
        token = token_from_json(entry, f"tokens #{n}", known_ids)
        _expect(all(t.token != token.token for t in tokens), f"tokens #{n}: duplicate token")
        tokens.append(token)
    result: dict[str, Any] = {"practices": tuple(practices), "tokens": tuple(tokens)}
    if "eventTypes" in data:
        mode = data["eventTypes"]
        _expect(
            mode in EVENT_TYPE_MODES, f"eventTypes must be one of {', '.join(EVENT_TYPE_MODES)}"
        )
        result["event_types"] = mode
    if "allowHttpHosts" in data:
        hosts = data["allowHttpHosts"]
        _expect(
            isinstance(hosts, list) and all(isinstance(h, str) for h in hosts),
            "allowHttpHosts must be an array of host names",
        )
        result["allow_http_hosts"] = tuple(parse_http_host(h) for h in hosts)
    return result


def load_config_file(path: Path) -> dict[str, Any]:
    """Settings fields from a config file (``practices``, ``tokens``, ``event_types``)."""
    import tomllib

    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    try:
        return parse_config(data)
    except ConfigError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
