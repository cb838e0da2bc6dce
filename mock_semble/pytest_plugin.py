"""The ``pytest11`` entry point (``mock_semble``): the plugin lives in
:mod:`mock_semble.testing.plugin`; this name stays for existing ``-p`` options."""

from __future__ import annotations

from .testing.plugin import (
    ServerPool,
    _mock_semble_pool,
    app_receiver,
    mock_semble,
    mock_semble_server,
    parse_ini_options,
    pytest_addoption,
    pytest_configure,
    webhook_receiver,
)

__all__ = [
    "ServerPool",
    "_mock_semble_pool",
    "app_receiver",
    "mock_semble",
    "mock_semble_server",
    "parse_ini_options",
    "pytest_addoption",
    "pytest_configure",
    "webhook_receiver",
]
