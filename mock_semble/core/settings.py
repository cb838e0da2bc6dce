"""Settings of one server run (SPEC §5): one record that checks itself, once.

``Settings(...)`` refuses impossible values; :meth:`Settings.from_options` also accepts
the string forms an ini file or the environment gives (``retry_schedule="0.1,0.5"``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .tenancy import DEFAULT_PRACTICES, DEFAULT_TOKENS, PracticeSeed, TokenSeed

DELIVERY_MODES = ("send", "record")
EVENT_TYPE_MODES = ("enum", "strings")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
# The names of delivery.signing's schemes (a test keeps the two in step).
SIGNING_SCHEME_NAMES = ("semble", "standard", "hmac-sha256-hex", "hmac-sha256-base64")
_INTS = (
    "seed",
    "port",
    "request_journal_size",
    "delivery_journal_size",
    "delivery_concurrency",
    "circuit_breaker",
    "rate_limit",
)
_FLOATS = ("delivery_timeout",)
_BOOLS = ("allow_http_localhost",)
_PATHS = ("state_file", "ca_bundle")
_CHOICES = {
    "signing_scheme": SIGNING_SCHEME_NAMES,
    "delivery_mode": DELIVERY_MODES,
    "log_level": LOG_LEVELS,
    "event_types": EVENT_TYPE_MODES,
}


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything ``mock-semble serve`` can be told (SPEC §5)."""

    host: str = "127.0.0.1"
    port: int = 8000
    seed: int | None = None
    admin_token: str | None = None
    log_level: str = "info"
    allow_http_localhost: bool = False
    # host names whose http:// URLs are admitted too (host.docker.internal from a container)
    allow_http_hosts: tuple[str, ...] = ()
    state_file: Path | None = None
    practices: tuple[PracticeSeed, ...] = DEFAULT_PRACTICES
    tokens: tuple[TokenSeed, ...] = DEFAULT_TOKENS
    event_types: str = "enum"  # API version: SPEC §1.5
    # delivery engine (SPEC §2.4)
    signing_scheme: str = "semble"
    retry_schedule: tuple[float, ...] = (1.0, 5.0, 25.0)
    delivery_timeout: float = 10.0
    delivery_mode: str = "send"
    forwards: tuple[tuple[str, str], ...] = ()
    ca_bundle: Path | None = None
    delivery_concurrency: int = 8  # httpcore scans its pool per request: docs/benchmarks.md
    circuit_breaker: int = 5  # consecutive failed deliveries that pause a subscription
    rate_limit: int | None = None  # requests per token per rolling minute (SPEC §4.1)
    # bounded journals, so a long CI run cannot grow memory without limit
    request_journal_size: int = 1000
    delivery_journal_size: int = 10000

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            _expect(value in allowed, f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        _expect(0 <= self.port <= 65535, f"port must be 0..65535, got {self.port}")
        _expect(self.admin_token != "", "admin_token must not be empty")
        _expect(self.delivery_timeout > 0, "delivery_timeout must be > 0")
        _expect(self.delivery_concurrency >= 1, "delivery_concurrency must be >= 1")
        _expect(self.circuit_breaker >= 0, "circuit_breaker must be >= 0")
        _expect(self.rate_limit is None or self.rate_limit >= 1, "rate_limit must be >= 1")
        for host in self.allow_http_hosts:
            _expect(host == parse_http_host(host), f"allow_http_hosts: bad host name {host!r}")
        _expect(self.request_journal_size >= 1, "request_journal_size must be >= 1")
        _expect(self.delivery_journal_size >= 1, "delivery_journal_size must be >= 1")
        _expect(
            all(0 <= d <= 3600 for d in self.retry_schedule),
            "retry_schedule delays must be 0..3600 seconds",
        )

    @property
    def default_token(self) -> str | None:
        return self.tokens[0].token if self.tokens else None

    @classmethod
    def from_options(cls, options: Mapping[str, Any], base: Settings | None = None) -> Settings:
        """``base`` (default: the CLI's defaults) with ``options`` applied; options are
        Settings fields given as Python values or as strings."""
        return dataclasses.replace(base or cls(), **normalise_options(options))


def normalise_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Settings options as Python values (strings from ini files or env accepted)."""
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(options) - known)
    _expect(not unknown, f"unknown mock-semble option(s) {unknown}; options are Settings fields")
    result = dict(options)
    for name, value in options.items():
        if value is None:
            continue
        if name in _INTS:
            result[name] = _number(int, name, value)
        elif name in _FLOATS:
            result[name] = _number(float, name, value)
        elif name in _BOOLS and isinstance(value, str):
            result[name] = value.strip().lower() in ("1", "true", "yes", "on")
        elif name in _PATHS:
            result[name] = Path(value)
        elif name == "allow_http_hosts":
            items = value.replace(",", " ").split() if isinstance(value, str) else value
            result[name] = tuple(parse_http_host(str(item)) for item in items)
        elif name == "retry_schedule":
            text = value if isinstance(value, str) else ",".join(str(v) for v in value)
            result[name] = parse_retry_schedule(text)
        elif name == "forwards":
            items = value.split() if isinstance(value, str) else value
            result[name] = tuple(
                parse_forward(f"{i[0]}={i[1]}" if isinstance(i, tuple | list) else i) for i in items
            )
    for name in ("retry_schedule", "forwards", "allow_http_hosts"):
        if name in result and result[name] is None:
            result[name] = ()
    return result


def _number(kind: type[int] | type[float], name: str, value: Any) -> int | float:
    try:
        if isinstance(value, bool):
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a {kind.__name__}, got {value!r}") from None


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


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")


def parse_http_host(text: str) -> str:
    """A host name for ``--allow-http-host`` (``host.docker.internal``), lower-cased;
    no scheme, port or path."""
    host = text.strip().lower().rstrip(".")
    _expect(
        len(host) <= 253 and _HOST_NAME.fullmatch(host) is not None,
        f"--allow-http-host must be a host name like host.docker.internal, got {text!r}",
    )
    return host


def parse_forward(text: str) -> tuple[str, str]:
    """``ORIGIN=BASE_URL``: both absolute http(s) URLs; the origin has no path."""
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
