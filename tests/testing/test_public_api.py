"""The curated public namespace: lazy, complete, and cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mock_semble


@pytest.mark.parametrize("name", mock_semble.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(mock_semble, name) is not None


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = mock_semble.nope  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_server_stack() -> None:
    code = (
        "import sys, mock_semble; "
        "heavy = ('strawberry', 'starlette', 'httpx', 'uvicorn'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_verify_is_the_signing_modules() -> None:
    from mock_semble.delivery import signing

    assert mock_semble.verify is signing.verify and mock_semble.sign is signing.sign
