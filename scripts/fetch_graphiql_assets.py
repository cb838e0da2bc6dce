#!/usr/bin/env python3
"""Fetch GraphiQL's pinned JS/CSS into the source tree so the mock serves GraphiQL offline.

Usage: ``python scripts/fetch_graphiql_assets.py [--dest DIR] [--check] [--tarball-dir DIR]
[--npm NPM]``

Downloads the five pinned npm tarballs over HTTPS from the npm registry (no ``npm`` binary
needed; ``MOCK_SEMBLE_NPM_REGISTRY`` names a mirror), checks each tarball's SHA-512 and each
of the seven files' SHA-384, and writes them plus ``manifest.json`` to
``mock_semble/static/vendor/graphiql/`` (git-ignored: third-party files, never committed).
The build backend does the same on every ``pip install`` / ``python -m build``; an installed
package has ``mock-semble graphiql-assets``. Pins and code: ``mock_semble/api/graphiql_vendor.py``.
Idempotent; exits non-zero with one line on any failure. Standard library only.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEST = REPO_ROOT / "mock_semble" / "static" / "vendor" / "graphiql"


def _load_vendor() -> ModuleType:
    """The package's stdlib-only pin module, by path (the package need not be installed)."""
    path = REPO_ROOT / "mock_semble" / "api" / "graphiql_vendor.py"
    spec = importlib.util.spec_from_file_location("mock_semble_graphiql_vendor", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


vendor = _load_vendor()
PINS = vendor.PINS
FetchError = vendor.FetchError


def _npm_pack_all(npm: str, workdir: Path) -> Path:
    """``npm pack`` every pinned package into ``workdir`` (the optional npm route)."""
    if shutil.which(npm) is None:
        raise FetchError(f"npm client not found ({npm!r}); install Node.js/npm or pass --npm")
    env = dict(os.environ)
    env.update(
        npm_config_audit="false", npm_config_fund="false", npm_config_update_notifier="false"
    )
    for spec in sorted({pin.spec for pin in PINS}):
        proc = subprocess.run(
            [npm, "pack", spec, "--silent"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            detail = lines[-1] if lines else f"exit status {proc.returncode}"
            raise FetchError(f"npm pack {spec} failed: {detail}")
    return workdir


def install(dest: Path, tarball_dir: Path | None = None, npm: str | None = None) -> int:
    """Fetch, verify and write the missing/stale files; returns how many were written."""
    if npm is not None and tarball_dir is None and vendor.stale_pins(dest):
        with tempfile.TemporaryDirectory(prefix="graphiql-assets-") as tmp:
            return int(vendor.install(dest, tarball_dir=_npm_pack_all(npm, Path(tmp))))
    return int(vendor.install(dest, tarball_dir=tarball_dir))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="output folder")
    parser.add_argument("--check", action="store_true", help="only verify the installed files")
    parser.add_argument(
        "--tarball-dir",
        type=Path,
        default=None,
        help="use already-downloaded `npm pack` tarballs from this folder (no network)",
    )
    parser.add_argument(
        "--npm", default=None, help="fetch with this npm client's `npm pack` instead of HTTPS"
    )
    args = parser.parse_args(argv)
    dest: Path = args.dest
    try:
        if args.check:
            bad = vendor.stale_pins(dest)
            if bad:
                names = ", ".join(pin.name for pin in bad)
                raise FetchError(f"missing or modified GraphiQL assets in {dest}: {names}")
            print(f"GraphiQL assets OK in {dest}")
            return 0
        written = install(dest, args.tarball_dir, args.npm)
    except (FetchError, OSError) as exc:
        print(f"fetch_graphiql_assets: error: {exc}", file=sys.stderr)
        return 1
    if written:
        print(f"GraphiQL assets: wrote {written} verified file(s) to {dest}")
    else:
        print(f"GraphiQL assets already installed in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
