"""``--help`` of every subcommand explains every flag: what it does, its default, its
allowed values and its MOCK_SEMBLE_* variable — and the variable it names really works."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import pytest

from mock_semble.cli import build_parser, settings_from
from mock_semble.core.settings import Settings

SUBCOMMANDS = ("serve", "schema", "fire", "listen", "graphiql-assets")


def _help(subcommand: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "mock_semble", subcommand, "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "COLUMNS": "200"},  # one line per flag
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _flag_lines(text: str) -> dict[str, str]:
    """``--flag`` -> its whole help entry on one line (argparse wraps long ones)."""
    entries: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        match = re.match(r"  (--[a-z-]+)\b", line)
        if match:
            current = match[1]
            entries[current] = line.strip()
        elif current is not None and line.startswith("   "):
            entries[current] += " " + line.strip()
        else:
            current = None
    entries.pop("--help", None)
    return entries


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]  # type: ignore[no-any-return]


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
def test_every_flag_names_default_and_variable(subcommand: str) -> None:
    lines = _flag_lines(_help(subcommand))
    flags = {
        option
        for action in _subparser(subcommand)._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert set(lines) == flags
    for flag, line in lines.items():
        assert "default: " in line, line
        assert re.search(r"env: MOCK_SEMBLE_[A-Z_]+|no environment variable", line), line
        what = line.split(flag, 1)[1].split("(", 1)[0]
        assert len(what.split()) >= 2, f"{flag} does not say what it does: {line}"


def test_serve_help_lines_say_what_spec_says() -> None:
    lines = _flag_lines(_help("serve"))
    assert "(default: 127.0.0.1; env: MOCK_SEMBLE_HOST)" in lines["--host"]
    assert "(default: 8000; env: MOCK_SEMBLE_PORT)" in lines["--port"]
    assert (
        "(one of: semble, standard, hmac-sha256-hex, hmac-sha256-base64; default: semble; "
        "env: MOCK_SEMBLE_SIGNING_SCHEME)"
    ) in lines["--signing-scheme"]
    assert (
        "(one of: send, record; default: send; env: MOCK_SEMBLE_DELIVERY_MODE)"
        in (lines["--delivery-mode"])
    )
    assert "(default: 1,5,25; env: MOCK_SEMBLE_RETRY_SCHEDULE)" in lines["--retry-schedule"]
    assert (
        "(one of: text, json; default: text; env: MOCK_SEMBLE_LOG_FORMAT)"
        in (lines["--log-format"])
    )
    assert (
        "(default: off; env: MOCK_SEMBLE_ALLOW_HTTP_LOCALHOST=1)"
        in (lines["--allow-http-localhost"])
    )
    assert (
        "(repeatable; default: none; env: MOCK_SEMBLE_FORWARD, space-separated)"
        in lines["--forward"]
    )
    assert "env: MOCK_SEMBLE_ALLOW_HTTP_HOSTS, space-separated" in lines["--allow-http-host"]
    assert (
        "(one of: critical, error, warning, info, debug; default: info;" in (lines["--log-level"])
    )


def test_fire_help_documents_the_url_variable() -> None:
    lines = _flag_lines(_help("fire"))
    assert "(default: http://127.0.0.1:8000; env: MOCK_SEMBLE_URL)" in lines["--url"]
    assert "/graphql" in lines["--url"]  # says it takes the ready line's URL too


def test_cli_defaults_are_the_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MOCK_SEMBLE_"):
            monkeypatch.delenv(name)
    assert settings_from(build_parser().parse_args(["serve"])) == Settings()


# A value for each serve flag's variable, and the Settings field it must reach.
SERVE_VARIABLES = {
    "MOCK_SEMBLE_HOST": ("127.0.0.2", "host", "127.0.0.2"),
    "MOCK_SEMBLE_PORT": ("9123", "port", 9123),
    "MOCK_SEMBLE_SEED": ("7", "seed", 7),
    "MOCK_SEMBLE_ADMIN_TOKEN": ("adm", "admin_token", "adm"),
    "MOCK_SEMBLE_LOG_LEVEL": ("debug", "log_level", "debug"),
    "MOCK_SEMBLE_SIGNING_SCHEME": ("standard", "signing_scheme", "standard"),
    "MOCK_SEMBLE_RETRY_SCHEDULE": ("2,3", "retry_schedule", (2.0, 3.0)),
    "MOCK_SEMBLE_DELIVERY_TIMEOUT": ("4.5", "delivery_timeout", 4.5),
    "MOCK_SEMBLE_DELIVERY_MODE": ("record", "delivery_mode", "record"),
    "MOCK_SEMBLE_FORWARD": (
        "https://a.example=http://127.0.0.1:1",
        "forwards",
        (("https://a.example", "http://127.0.0.1:1"),),
    ),
    "MOCK_SEMBLE_ALLOW_HTTP_LOCALHOST": ("1", "allow_http_localhost", True),
    "MOCK_SEMBLE_ALLOW_HTTP_HOSTS": (
        "host.docker.internal Other.Example",
        "allow_http_hosts",
        ("host.docker.internal", "other.example"),
    ),
    "MOCK_SEMBLE_EVENT_TYPES": ("strings", "event_types", "strings"),
    "MOCK_SEMBLE_CIRCUIT_BREAKER": ("0", "circuit_breaker", 0),
    "MOCK_SEMBLE_DELIVERY_CONCURRENCY": ("3", "delivery_concurrency", 3),
    "MOCK_SEMBLE_RATE_LIMIT": ("60", "rate_limit", 60),
    "MOCK_SEMBLE_REQUEST_JOURNAL_SIZE": ("11", "request_journal_size", 11),
    "MOCK_SEMBLE_DELIVERY_JOURNAL_SIZE": ("12", "delivery_journal_size", 12),
}


@pytest.mark.parametrize("variable", sorted(SERVE_VARIABLES))
def test_each_named_variable_reaches_its_setting(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, field, expected = SERVE_VARIABLES[variable]
    monkeypatch.setenv(variable, raw)
    settings = settings_from(build_parser().parse_args(["serve"]))
    assert getattr(settings, field) == expected


def test_every_serve_variable_in_help_is_exercised() -> None:
    entries = " ".join(_flag_lines(_help("serve")).values())
    named = set(re.findall(r"env: (MOCK_SEMBLE_[A-Z_]+)", entries))
    not_settings = {"MOCK_SEMBLE_LOG_FORMAT", "MOCK_SEMBLE_READY_FILE"}  # tested over a socket
    files = {"MOCK_SEMBLE_CONFIG", "MOCK_SEMBLE_STATE_FILE", "MOCK_SEMBLE_CA_BUNDLE"}
    assert named - not_settings - files == set(SERVE_VARIABLES)


def test_fire_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_SEMBLE_URL", "http://127.0.0.1:9/graphql")
    monkeypatch.setenv("MOCK_SEMBLE_PRACTICE", "p1")
    monkeypatch.setenv("MOCK_SEMBLE_ADMIN_TOKEN", "adm")
    args = build_parser().parse_args(["fire", "PATIENT_CREATED"])
    assert (args.url, args.practice, args.admin_token) == (
        "http://127.0.0.1:9/graphql",
        "p1",
        "adm",
    )
