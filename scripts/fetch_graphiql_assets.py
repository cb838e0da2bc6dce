#!/usr/bin/env python3
"""Fetch GraphiQL's JS/CSS through npm so the mock serves GraphiQL offline.

Usage: ``python scripts/fetch_graphiql_assets.py [--dest DIR] [--check] [--tarball-dir DIR]``

Runs ``npm pack PKG@VER`` for the five pinned packages, takes the seven files strawberry's
GraphiQL page loads, checks each against the pinned SHA-384 (the same ``integrity`` values as
strawberry's template) and writes them, plus ``manifest.json``, to
``mock_semble/static/vendor/graphiql/``. That folder is git-ignored: the files are
third-party dependencies, never committed. Idempotent; exits non-zero on any mismatch.
Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEST = REPO_ROOT / "mock_semble" / "static" / "vendor" / "graphiql"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Pin:
    package: str  # npm package name
    version: str
    member: str  # path inside the package (tarball path minus its top folder)
    name: str  # local file name, served at /graphiql/assets/<name>
    integrity: str  # SRI value, identical to strawberry's template

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def tarball(self) -> str:
        """File name ``npm pack`` gives the tarball (``@scope/pkg`` -> ``scope-pkg``)."""
        return f"{self.package.lstrip('@').replace('/', '-')}-{self.version}.tgz"


# The pin: versions and hashes of strawberry's graphiql.html (strawberry-graphql 0.341).
PINS: tuple[Pin, ...] = (
    Pin(
        "react",
        "18.2.0",
        "umd/react.production.min.js",
        "react-18.2.0.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Pin(
        "react-dom",
        "18.2.0",
        "umd/react-dom.production.min.js",
        "react-dom-18.2.0.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Pin(
        "js-cookie",
        "3.0.5",
        "dist/js.cookie.min.js",
        "js-cookie-3.0.5.min.js",
        "sha384-/vxhYfM1LENRhdpZ8dwEsQn/X4VhpbEZSiU4m/FwR+PVpzar4fkEOw8FP9Y+OfQN",
    ),
    Pin(
        "graphiql",
        "3.8.3",
        "graphiql.min.css",
        "graphiql-3.8.3.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    Pin(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "dist/style.css",
        "graphiql-plugin-explorer-1.0.2.css",
        "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
    Pin(
        "graphiql",
        "3.8.3",
        "graphiql.min.js",
        "graphiql-3.8.3.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Pin(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "dist/index.umd.js",
        "graphiql-plugin-explorer-1.0.2.umd.js",
        "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
)


class FetchError(Exception):
    """A one-line, user-facing failure."""


def sri(data: bytes) -> str:
    """Subresource-integrity value (``sha384-<base64>``) of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def _matches(path: Path, pin: Pin) -> bool:
    return path.is_file() and sri(path.read_bytes()) == pin.integrity


def stale_pins(dest: Path) -> list[Pin]:
    """Pins whose file in ``dest`` is missing or does not match its hash."""
    return [pin for pin in PINS if not _matches(dest / pin.name, pin)]


def _npm_pack(spec: str, workdir: Path, npm: str) -> Path:
    """``npm pack spec`` into an empty ``workdir``; returns the tarball."""
    if shutil.which(npm) is None:
        raise FetchError(f"npm client not found ({npm!r}); install Node.js/npm or pass --npm")
    env = dict(os.environ)
    env.update(
        npm_config_audit="false", npm_config_fund="false", npm_config_update_notifier="false"
    )
    proc = subprocess.run(
        [npm, "pack", spec, "--silent"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    tarballs = sorted(workdir.glob("*.tgz"))
    if proc.returncode != 0 or len(tarballs) != 1:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        detail = lines[-1] if lines else f"exit status {proc.returncode}"
        raise FetchError(f"npm pack {spec} failed: {detail}")
    return tarballs[0]


def _read_member(tarball: Path, member: str) -> bytes:
    """Bytes of ``<top>/member`` from an npm tarball (read in memory, nothing extracted)."""
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for info in archive.getmembers():
                parts = info.name.split("/", 1)
                if info.isfile() and len(parts) == 2 and parts[1] == member:
                    handle = archive.extractfile(info)
                    if handle is not None:
                        return handle.read()
    except (OSError, tarfile.TarError) as exc:
        raise FetchError(f"cannot read {tarball.name}: {exc}") from exc
    raise FetchError(f"{tarball.name} has no file {member}")


def fetch(pins: Sequence[Pin], tarball_dir: Path | None, npm: str) -> dict[str, bytes]:
    """Contents of each pin's file, verified against its hash."""
    contents: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="graphiql-assets-") as tmp:
        tarballs: dict[str, Path] = {}
        for pin in pins:
            if pin.spec not in tarballs:
                if tarball_dir is not None:
                    tarballs[pin.spec] = tarball_dir / pin.tarball
                    if not tarballs[pin.spec].is_file():
                        raise FetchError(f"missing tarball {tarballs[pin.spec]}")
                else:
                    workdir = Path(tmp) / pin.tarball
                    workdir.mkdir()
                    tarballs[pin.spec] = _npm_pack(pin.spec, workdir, npm)
            data = _read_member(tarballs[pin.spec], pin.member)
            actual = sri(data)
            if actual != pin.integrity:
                raise FetchError(
                    f"integrity mismatch for {pin.spec}/{pin.member}: "
                    f"expected {pin.integrity}, got {actual}"
                )
            contents[pin.name] = data
    return contents


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def manifest() -> dict[str, object]:
    return {
        "source": "npm",
        "files": {
            pin.name: {
                "package": pin.package,
                "version": pin.version,
                "path": pin.member,
                "integrity": pin.integrity,
            }
            for pin in PINS
        },
    }


def install(dest: Path, tarball_dir: Path | None = None, npm: str = "npm") -> int:
    """Fetch, verify and write the missing/stale files; returns how many were written."""
    todo = stale_pins(dest)
    if todo:
        contents = fetch(todo, tarball_dir, npm)  # everything verified before any write
        dest.mkdir(parents=True, exist_ok=True)
        for pin in todo:
            _write_atomic(dest / pin.name, contents[pin.name])
    manifest_bytes = (json.dumps(manifest(), indent=2, sort_keys=True) + "\n").encode()
    manifest_path = dest / MANIFEST
    if not manifest_path.is_file() or manifest_path.read_bytes() != manifest_bytes:
        _write_atomic(manifest_path, manifest_bytes)
    return len(todo)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="output folder")
    parser.add_argument(
        "--check", action="store_true", help="only verify the installed files (no npm)"
    )
    parser.add_argument(
        "--tarball-dir",
        type=Path,
        default=None,
        help="use already-downloaded `npm pack` tarballs from this folder instead of npm",
    )
    parser.add_argument("--npm", default="npm", help="npm executable (default: npm)")
    args = parser.parse_args(argv)
    dest: Path = args.dest
    try:
        if args.check:
            bad = stale_pins(dest)
            if bad:
                names = ", ".join(pin.name for pin in bad)
                raise FetchError(f"missing or modified GraphiQL assets in {dest}: {names}")
            print(f"GraphiQL assets OK in {dest}")
            return 0
        written = install(dest, args.tarball_dir, args.npm)
    except FetchError as exc:
        print(f"fetch_graphiql_assets: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"fetch_graphiql_assets: error: {exc}", file=sys.stderr)
        return 1
    if written:
        print(f"GraphiQL assets: wrote {written} verified file(s) to {dest}")
    else:
        print(f"GraphiQL assets already installed in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
