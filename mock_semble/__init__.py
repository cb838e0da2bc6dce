"""mock-semble: a local, stateful, faithful mock of Semble's GraphQL API.

The public namespace is small and lazy so that ``import mock_semble`` stays cheap:
``sign``/``verify`` and their exceptions come from :mod:`mock_semble.delivery.signing`,
``MockSembleServer``/``MockSembleClient`` from :mod:`mock_semble.testing` and
``WebhookReceiver`` from :mod:`mock_semble.testing.receiver`.
"""

from __future__ import annotations

from typing import Any

from .core.version import __version__

_LAZY = {
    "sign": "mock_semble.delivery.signing",
    "verify": "mock_semble.delivery.signing",
    "SIGNING_SCHEMES": "mock_semble.delivery.signing",
    "SignatureError": "mock_semble.delivery.signing",
    "MissingSignature": "mock_semble.delivery.signing",
    "InvalidSignature": "mock_semble.delivery.signing",
    "StaleTimestamp": "mock_semble.delivery.signing",
    "MockSembleServer": "mock_semble.testing",
    "MockSembleClient": "mock_semble.testing",
    "MockSembleError": "mock_semble.testing",
    "WebhookReceiver": "mock_semble.testing.receiver",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mock_semble' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
