"""mock-semble: a local, stateful, faithful mock of Semble's GraphQL API.

The public namespace is small and lazy so that ``import mock_semble`` stays cheap:
``sign``/``verify`` and their exceptions come from :mod:`mock_semble.signing`,
``MockSembleServer``/``MockSembleClient`` from :mod:`mock_semble.testing` and
``WebhookReceiver`` from :mod:`mock_semble.receiver`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "sign": "mock_semble.signing",
    "verify": "mock_semble.signing",
    "SIGNING_SCHEMES": "mock_semble.signing",
    "SignatureError": "mock_semble.signing",
    "MissingSignature": "mock_semble.signing",
    "InvalidSignature": "mock_semble.signing",
    "StaleTimestamp": "mock_semble.signing",
    "MockSembleServer": "mock_semble.testing",
    "MockSembleClient": "mock_semble.testing",
    "MockSembleError": "mock_semble.testing",
    "WebhookReceiver": "mock_semble.receiver",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mock_semble' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
