"""Settings of one server run, and the TOML config file that seeds practices and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ids import is_object_id
from .model import (
    ALL_PERMISSIONS,
    DEFAULT_PRACTICE_ID,
    DEFAULT_PRACTICE_NAME,
    DEFAULT_TOKEN,
    Permission,
)

DELIVERY_MODES = ("send", "record")


class ConfigError(ValueError):
    """A bad flag, environment variable or config file: reported in one line."""


@dataclass(frozen=True, slots=True)
class PracticeSeed:
    name: str
    id: str | None = None
    webhooks_enabled: bool = True


@dataclass(frozen=True, slots=True)
class TokenSeed:
    token: str
    practice_id: str
    permissions: frozenset[Permission]


DEFAULT_PRACTICES = (PracticeSeed(DEFAULT_PRACTICE_NAME, DEFAULT_PRACTICE_ID, True),)
DEFAULT_TOKENS = (TokenSeed(DEFAULT_TOKEN, DEFAULT_PRACTICE_ID, ALL_PERMISSIONS),)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``mock-semble serve`` can be told (SPEC §5)."""

    host: str = "127.0.0.1"
    port: int = 8000
    seed: int | None = None
    admin_token: str | None = None
    log_level: str = "info"
    allow_http_localhost: bool = False
    state_file: Path | None = None
    practices: tuple[PracticeSeed, ...] = DEFAULT_PRACTICES
    tokens: tuple[TokenSeed, ...] = DEFAULT_TOKENS
    # delivery engine (SPEC §2.4)
    signing_scheme: str = "semble"
    retry_schedule: tuple[float, ...] = (1.0, 5.0, 25.0)
    delivery_timeout: float = 10.0
    delivery_mode: str = "send"
    forwards: tuple[tuple[str, str], ...] = ()
    ca_bundle: Path | None = None
    delivery_concurrency: int = 8  # httpcore scans its pool per request: docs/benchmarks.md
    # bounded journals, so a long CI run cannot grow memory without limit
    request_journal_size: int = 1000
    delivery_journal_size: int = 10000

    @property
    def default_token(self) -> str | None:
        return self.tokens[0].token if self.tokens else None


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


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


def parse_config(data: dict[str, Any]) -> tuple[tuple[PracticeSeed, ...], tuple[TokenSeed, ...]]:
    """Validate a decoded config document; raise ConfigError naming the first problem."""
    unknown = set(data) - {"practices", "tokens"}
    _expect(not unknown, f"unknown config key(s): {', '.join(sorted(unknown))}")
    raw_practices = data.get("practices", [])
    raw_tokens = data.get("tokens", [])
    _expect(isinstance(raw_practices, list), "practices must be an array of tables")
    _expect(isinstance(raw_tokens, list), "tokens must be an array of tables")
    _expect(bool(raw_practices), "config needs at least one [[practices]] entry")
    practices: list[PracticeSeed] = []
    seen_ids: set[str] = set()
    for n, entry in enumerate(raw_practices, 1):
        where = f"practices #{n}"
        _expect(isinstance(entry, dict), f"{where}: must be a table")
        extra = set(entry) - {"id", "name", "webhooksEnabled"}
        _expect(not extra, f"{where}: unknown key(s): {', '.join(sorted(extra))}")
        name = entry.get("name")
        _expect(
            isinstance(name, str) and bool(name.strip()),
            f"{where}: name must be a non-empty string",
        )
        pid = entry.get("id")
        _expect(pid is None or is_object_id(pid), f"{where}: id must be 24 lower-case hex digits")
        _expect(pid is None or pid not in seen_ids, f"{where}: duplicate id {pid}")
        enabled = entry.get("webhooksEnabled", True)
        _expect(isinstance(enabled, bool), f"{where}: webhooksEnabled must be true or false")
        if pid is not None:
            seen_ids.add(pid)
        practices.append(PracticeSeed(name, pid, enabled))
    tokens: list[TokenSeed] = []
    seen_tokens: set[str] = set()
    for n, entry in enumerate(raw_tokens, 1):
        where = f"tokens #{n}"
        _expect(isinstance(entry, dict), f"{where}: must be a table")
        extra = set(entry) - {"token", "practiceId", "permissions"}
        _expect(not extra, f"{where}: unknown key(s): {', '.join(sorted(extra))}")
        token = entry.get("token")
        _expect(
            isinstance(token, str) and bool(token.strip()),
            f"{where}: token must be a non-empty string",
        )
        _expect(token not in seen_tokens, f"{where}: duplicate token")
        pid = entry.get("practiceId")
        _expect(pid in seen_ids, f"{where}: practiceId must be the id of a configured practice")
        perms = parse_permissions(entry.get("permissions", []), where)
        seen_tokens.add(token)
        tokens.append(TokenSeed(token, pid, perms))
    return tuple(practices), tuple(tokens)


def load_config_file(path: Path) -> tuple[tuple[PracticeSeed, ...], tuple[TokenSeed, ...]]:
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


def parse_retry_schedule(text: str) -> tuple[float, ...]:
    """``"1,5,25"`` -> (1.0, 5.0, 25.0); an empty string disables retries."""
    text = text.strip()
    if not text:
        return ()
    try:
        delays = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--retry-schedule must be comma-separated seconds, got {text!r}"
        ) from None
    _expect(all(0 <= d <= 3600 for d in delays), "--retry-schedule delays must be 0..3600 seconds")
    return delays


def parse_forward(text: str) -> tuple[str, str]:
    """``ORIGIN=BASE_URL``: both absolute http(s) URLs; the origin has no path."""
    from urllib.parse import urlsplit

    origin, sep, base = text.partition("=")
    _expect(bool(sep), f"--forward must be ORIGIN=BASE_URL, got {text!r}")
    o, b = urlsplit(origin.strip()), urlsplit(base.strip())
    _expect(
        o.scheme in ("http", "https") and bool(o.netloc) and o.path in ("", "/"),
        f"--forward origin must be like https://host[:port], got {origin!r}",
    )
    _expect(
        b.scheme in ("http", "https") and bool(b.netloc),
        f"--forward base must be an http(s) URL, got {base!r}",
    )
    return origin.strip().rstrip("/"), base.strip().rstrip("/")
