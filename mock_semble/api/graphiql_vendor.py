"""The pinned GraphiQL assets: which npm files, their hashes, and how to fetch them.

Standard library only, and importable by file path: the build backend
(``build_backend/mock_semble_build.py``) loads this file to bring the assets into the sdist
and the wheel, ``mock-semble graphiql-assets`` fetches them into an installed package, and
``scripts/fetch_graphiql_assets.py`` into the source tree.

The tarballs come over HTTPS from the npm registry (``MOCK_SEMBLE_NPM_REGISTRY`` names a
mirror). Two checks: a downloaded tarball must match npm's own pinned SHA-512, and every
file taken from a tarball must match its pinned SHA-384 (the ``integrity`` values of
strawberry's GraphiQL template, which the browser checks again). Nothing is written unless
every file passed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
REGISTRY_ENV = "MOCK_SEMBLE_NPM_REGISTRY"
MANIFEST = "manifest.json"
MAX_TARBALL_BYTES = 32 * 1024 * 1024
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Package:
    name: str  # npm package name, possibly scoped (@scope/name)
    version: str
    integrity: str  # npm's SRI value of the tarball (dist.integrity)

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tarball(self) -> str:
        """File name ``npm pack`` gives the tarball (``@scope/pkg`` -> ``scope-pkg``)."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"

    def url(self, registry: str) -> str:
        """``<registry>/<name>/-/<unscoped name>-<version>.tgz``, npm's tarball address."""
        unscoped = self.name.rsplit("/", 1)[-1]
        return f"{registry.rstrip('/')}/{self.name}/-/{unscoped}-{self.version}.tgz"


@dataclass(frozen=True)
class Pin:
    package: Package
    member: str  # path inside the package (tarball path minus its top folder)
    name: str  # local file name, served at /graphiql/assets/<name>
    integrity: str  # SRI value, identical to strawberry's template

    @property
    def spec(self) -> str:
        return self.package.spec

    @property
    def tarball(self) -> str:
        return self.package.tarball


REACT = Package(
    "react",
    "18.2.0",
    "sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==",
)
REACT_DOM = Package(
    "react-dom",
    "18.2.0",
    "sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==",
)
JS_COOKIE = Package(
    "js-cookie",
    "3.0.5",
    "sha512-cEiJEAEoIbWfCZYKWhVwFuvPX1gETRYPw6LlaTKoxD3s2AkXzkCjnp6h0V77ozyqj0jakteJ4YqDJT830+lVGw==",
)
GRAPHIQL = Package(
    "graphiql",
    "3.8.3",
    "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
)
EXPLORER = Package(
    "@graphiql/plugin-explorer",
    "1.0.2",
    "sha512-9j+kg2UjtLZD5EBmGjeWHkoVVxtbShYg2DzbUVebibnZYZM/iMBEF4vaccXJIAm5KaomIPLx0aoNs4LbODyc3Q==",
)

# The pin: versions and hashes of strawberry's graphiql.html (strawberry-graphql 0.341).
PINS: tuple[Pin, ...] = (
    Pin(
        REACT,
        "umd/react.production.min.js",
        "react-18.2.0.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Pin(
        REACT_DOM,
        "umd/react-dom.production.min.js",
        "react-dom-18.2.0.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Pin(
        JS_COOKIE,
        "dist/js.cookie.min.js",
        "js-cookie-3.0.5.min.js",
        "sha384-/vxhYfM1LENRhdpZ8dwEsQn/X4VhpbEZSiU4m/FwR+PVpzar4fkEOw8FP9Y+OfQN",
    ),
    Pin(
        GRAPHIQL,
        "graphiql.min.css",
        "graphiql-3.8.3.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    Pin(
        EXPLORER,
        "dist/style.css",
        "graphiql-plugin-explorer-1.0.2.css",
        "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
    Pin(
        GRAPHIQL,
        "graphiql.min.js",
        "graphiql-3.8.3.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Pin(
        EXPLORER,
        "dist/index.umd.js",
        "graphiql-plugin-explorer-1.0.2.umd.js",
        "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
)


class FetchError(Exception):
    """A one-line, user-facing failure."""


def sri(data: bytes, algorithm: str = "sha384") -> str:
    """Subresource-integrity value (``sha384-<base64>``) of ``data``."""
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-" + base64.b64encode(digest).decode("ascii")


def _matches(path: Path, pin: Pin) -> bool:
    return path.is_file() and sri(path.read_bytes()) == pin.integrity


def stale_pins(dest: Path) -> list[Pin]:
    """Pins whose file in ``dest`` is missing or does not match its hash."""
    return [pin for pin in PINS if not _matches(dest / pin.name, pin)]


def registry_url() -> str:
    return os.environ.get(REGISTRY_ENV) or REGISTRY


def download(package: Package, registry: str) -> bytes:
    """The package's tarball from the registry, checked against npm's pinned SHA-512."""
    url = package.url(registry)
    # The proxy settings of the environment apply (a corporate mirror may need them).
    request = urllib.request.Request(url, headers={"User-Agent": "mock-semble-build"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            data: bytes = response.read(MAX_TARBALL_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"cannot download {url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"cannot download {url}: {reason}") from None
    if len(data) > MAX_TARBALL_BYTES:
        raise FetchError(f"{url} is larger than {MAX_TARBALL_BYTES} bytes")
    actual = sri(data, "sha512")
    if actual != package.integrity:
        raise FetchError(
            f"integrity mismatch for {package.tarball}: expected {package.integrity}, got {actual}"
        )
    return data


def read_member(tarball: bytes, member: str, label: str) -> bytes:
    """Bytes of ``<top>/member`` from an npm tarball (read in memory, nothing extracted)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for info in archive.getmembers():
                parts = info.name.split("/", 1)
                if info.isfile() and len(parts) == 2 and parts[1] == member:
                    handle = archive.extractfile(info)
                    if handle is not None:
                        return handle.read()
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise FetchError(f"cannot read {label}: {exc}") from None
    raise FetchError(f"{label} has no file {member}")


def fetch(
    pins: Sequence[Pin], *, registry: str | None = None, tarball_dir: Path | None = None
) -> dict[str, bytes]:
    """Contents of each pin's file, verified against its hash. Tarballs come from
    ``tarball_dir`` (``npm pack`` output) when given, else from the registry."""
    tarballs: dict[Package, bytes] = {}
    contents: dict[str, bytes] = {}
    for pin in pins:
        package = pin.package
        if package not in tarballs:
            if tarball_dir is not None:
                path = tarball_dir / package.tarball
                if not path.is_file():
                    raise FetchError(f"missing tarball {path}")
                tarballs[package] = path.read_bytes()
            else:
                tarballs[package] = download(package, registry or registry_url())
        data = read_member(tarballs[package], pin.member, package.tarball)
        actual = sri(data)
        if actual != pin.integrity:
            raise FetchError(
                f"integrity mismatch for {pin.spec}/{pin.member}: "
                f"expected {pin.integrity}, got {actual}"
            )
        contents[pin.name] = data
    return contents


def manifest() -> dict[str, object]:
    return {
        "source": "npm",
        "files": {
            pin.name: {
                "package": pin.package.name,
                "version": pin.package.version,
                "path": pin.member,
                "integrity": pin.integrity,
            }
            for pin in PINS
        },
    }


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def install(dest: Path, *, registry: str | None = None, tarball_dir: Path | None = None) -> int:
    """Fetch, verify and write the missing or stale files (and the manifest); returns how
    many files were written. Idempotent: with every file in place it reads nothing."""
    todo = stale_pins(dest)
    if todo:
        contents = fetch(todo, registry=registry, tarball_dir=tarball_dir)  # all verified first
        dest.mkdir(parents=True, exist_ok=True)
        for pin in todo:
            _write_atomic(dest / pin.name, contents[pin.name])
    manifest_bytes = (json.dumps(manifest(), indent=2, sort_keys=True) + "\n").encode()
    manifest_path = dest / MANIFEST
    if not manifest_path.is_file() or manifest_path.read_bytes() != manifest_bytes:
        dest.mkdir(parents=True, exist_ok=True)
        _write_atomic(manifest_path, manifest_bytes)
    return len(todo)
