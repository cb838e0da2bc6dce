"""PEP 517 build backend: setuptools, plus the pinned GraphiQL assets.

Before setuptools builds an sdist, a wheel or an editable install, the seven GraphiQL files
are brought into ``mock_semble/static/vendor/graphiql/`` (downloaded from the npm registry
over HTTPS and checked against their pinned hashes by ``mock_semble/api/graphiql_vendor.py``)
unless they are already there and intact. So every install route ships them: the sdist
carries them, and a wheel built from the sdist needs no network.

``MOCK_SEMBLE_GRAPHIQL_ASSETS=skip`` builds without them (the server then says at start-up
how to add them: ``mock-semble graphiql-assets``); ``MOCK_SEMBLE_NPM_REGISTRY`` names a mirror.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from setuptools import build_meta as _setuptools  # type: ignore[import-untyped]
from setuptools.build_meta import (  # type: ignore[import-untyped]  # noqa: F401
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

VENDOR_MODULE = Path("mock_semble") / "api" / "graphiql_vendor.py"
ASSETS_DIR = Path("mock_semble") / "static" / "vendor" / "graphiql"
SKIP_ENV = "MOCK_SEMBLE_GRAPHIQL_ASSETS"


def _vendor() -> ModuleType:
    """The stdlib-only pin module, loaded by path (the package's dependencies are not
    installed while it builds)."""
    spec = importlib.util.spec_from_file_location("mock_semble_graphiql_vendor", VENDOR_MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _bring_assets() -> None:
    vendor = _vendor()
    if os.environ.get(SKIP_ENV, "").strip().lower() == "skip":
        if vendor.stale_pins(ASSETS_DIR):
            print(f"mock-semble build: {SKIP_ENV}=skip: building without GraphiQL assets")
        return
    try:
        written = vendor.install(ASSETS_DIR)
    except vendor.FetchError as exc:
        raise SystemExit(
            f"mock-semble build: error: GraphiQL assets: {exc} "
            f"(set {SKIP_ENV}=skip to build without them)"
        ) from None
    if written:
        print(f"mock-semble build: GraphiQL assets: {written} verified file(s) downloaded")


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    _bring_assets()
    return str(_setuptools.build_sdist(sdist_directory, config_settings))


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    _bring_assets()
    return str(_setuptools.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    _bring_assets()
    return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))
