"""Errors shared by every layer: broken business rules and bad configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleError(Exception):
    """A broken business rule: becomes a payload error and changes nothing."""

    message: str
    code: str
    status: int = 400

    def __str__(self) -> str:
        return self.message


class ConfigError(ValueError):
    """A bad flag, environment variable, config file or state document: one line."""
