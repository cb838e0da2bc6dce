"""Test tooling: :class:`MockSembleClient` (a running server), :class:`MockSembleServer`
(one in this process), :class:`WebhookReceiver`, and the pytest plugin.

Lazy, so that importing the plugin (every pytest run with the package installed)
loads no server code.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "MockSembleClient": "client",
    "MockSembleError": "client",
    "Practice": "client",
    "MockSembleServer": "server",
    "PYTEST_DEFAULTS": "server",
    "settings_options": "server",
    "SubprocessServer": "subprocess_server",
    "AppServer": "app_receiver",
    "serve_app": "app_receiver",
    "WebhookReceiver": "receiver",
    "Reply": "receiver",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mock_semble.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
