"""The pinned GraphiQL assets (mock_semble/api/graphiql_vendor.py) and the build backend
that brings them: registry URLs, both integrity checks, nothing written on a failure,
and the build's one-line refusal (or its explicit opt-out)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mock_semble.api import graphiql_vendor as vendor

REPO = Path(__file__).resolve().parents[2]


def sri(data: bytes, algorithm: str) -> str:
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def test_registry_urls_follow_npm() -> None:
    by_name = {pin.package.name: pin.package for pin in vendor.PINS}
    registry = "https://registry.npmjs.org"
    assert by_name["react"].url(registry) == "https://registry.npmjs.org/react/-/react-18.2.0.tgz"
    assert by_name["@graphiql/plugin-explorer"].url(registry + "/") == (
        "https://registry.npmjs.org/@graphiql/plugin-explorer/-/plugin-explorer-1.0.2.tgz"
    )
    assert by_name["@graphiql/plugin-explorer"].tarball == "graphiql-plugin-explorer-1.0.2.tgz"


def test_the_pins_are_strawberrys_and_npms() -> None:
    assert len(vendor.PINS) == 7
    assert {pin.package.spec for pin in vendor.PINS} == {
        "react@18.2.0",
        "react-dom@18.2.0",
        "js-cookie@3.0.5",
        "graphiql@3.8.3",
        "@graphiql/plugin-explorer@1.0.2",
    }
    for pin in vendor.PINS:
        assert pin.integrity.startswith("sha384-")
        assert pin.package.integrity.startswith("sha512-")


# --- a registry on this machine serving made-up tarballs ----------------------------------


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Registry:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.requests.append(self.path)
                body = registry.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def registry() -> Iterator[Registry]:
    served = Registry()
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.fixture
def fake_pins(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> list[vendor.Pin]:
    """Two made-up packages (one scoped) with three files, pinned like the real ones."""
    contents = {
        ("left-pad", "a.js"): b"left();\n",
        ("left-pad", "b.css"): b"b{}\n",
        ("@scope/pkg", "dist/c.js"): b"c();\n",
    }
    pins: list[vendor.Pin] = []
    for name in ("left-pad", "@scope/pkg"):
        files = {member: data for (pkg, member), data in contents.items() if pkg == name}
        blob = tarball(files)
        package = vendor.Package(name, "1.0.0", sri(blob, "sha512"))
        registry.files[package.url("")] = blob  # the path part of its address
        for member, data in files.items():
            pins.append(vendor.Pin(package, member, member.replace("/", "-"), sri(data, "sha384")))
    monkeypatch.setattr(vendor, "PINS", tuple(pins))
    return pins


def test_install_downloads_checks_writes_and_is_idempotent(
    registry: Registry, fake_pins: list[vendor.Pin], tmp_path: Path
) -> None:
    dest = tmp_path / "assets"
    assert vendor.install(dest, registry=registry.url) == 3
    assert sorted(registry.requests) == [
        "/@scope/pkg/-/pkg-1.0.0.tgz",
        "/left-pad/-/left-pad-1.0.0.tgz",
    ]
    assert (dest / "a.js").read_bytes() == b"left();\n"
    assert (dest / "dist-c.js").read_bytes() == b"c();\n"
    manifest = json.loads((dest / "manifest.json").read_text())
    assert set(manifest["files"]) == {"a.js", "b.css", "dist-c.js"}
    assert vendor.install(dest, registry=registry.url) == 0  # nothing stale: no download
    assert len(registry.requests) == 2
    (dest / "b.css").write_bytes(b"tampered")
    assert [pin.name for pin in vendor.stale_pins(dest)] == ["b.css"]
    assert vendor.install(dest, registry=registry.url) == 1
    assert (dest / "b.css").read_bytes() == b"b{}\n"


def test_a_tarball_that_is_not_the_pinned_one_is_refused(
    registry: Registry, fake_pins: list[vendor.Pin], tmp_path: Path
) -> None:
    path = "/left-pad/-/left-pad-1.0.0.tgz"
    registry.files[path] = tarball({"a.js": b"left();\n", "b.css": b"b{}\n", "x": b"extra"})
    dest = tmp_path / "assets"
    with pytest.raises(vendor.FetchError, match=r"^integrity mismatch for left-pad-1.0.0.tgz: "):
        vendor.install(dest, registry=registry.url)
    assert not dest.exists()  # nothing written


def test_a_file_that_is_not_the_pinned_one_is_refused(
    registry: Registry,
    fake_pins: list[vendor.Pin],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The tarball matches its own pin, but a file inside does not match its hash.
    first = fake_pins[0]
    wrong = replace(first, integrity=sri(b"something else", "sha384"))
    monkeypatch.setattr(vendor, "PINS", (wrong, *fake_pins[1:]))
    dest = tmp_path / "assets"
    with pytest.raises(vendor.FetchError, match=r"^integrity mismatch for left-pad@1.0.0/a.js"):
        vendor.install(dest, registry=registry.url)
    assert not dest.exists()


def test_registry_failures_are_one_line(fake_pins: list[vendor.Pin], tmp_path: Path) -> None:
    with pytest.raises(vendor.FetchError) as caught:
        vendor.install(tmp_path / "assets", registry="http://127.0.0.1:9")
    message = str(caught.value)
    assert message.startswith("cannot download http://127.0.0.1:9/left-pad/-/left-pad-1.0.0.tgz: ")
    assert "\n" not in message


# --- the build backend ---------------------------------------------------------------------


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    """A source tree with the backend and the pin module but no assets."""
    tree = tmp_path / "src"
    shutil.copytree(REPO / "build_backend", tree / "build_backend")
    (tree / "mock_semble" / "api").mkdir(parents=True)
    shutil.copy(REPO / "mock_semble" / "api" / "graphiql_vendor.py", tree / "mock_semble" / "api")
    return tree


def bring_assets(tree: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; sys.path.insert(0, 'build_backend'); "
        "import mock_semble_build as backend; backend._bring_assets()"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_build_refuses_in_one_line_when_the_assets_cannot_be_fetched(source_tree: Path) -> None:
    result = bring_assets(source_tree, {"MOCK_SEMBLE_NPM_REGISTRY": "http://127.0.0.1:9"})
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("mock-semble build: error: GraphiQL assets: cannot download ")
    assert line.endswith("(set MOCK_SEMBLE_GRAPHIQL_ASSETS=skip to build without them)")


def test_build_can_be_told_to_skip_the_assets(source_tree: Path) -> None:
    result = bring_assets(
        source_tree,
        {"MOCK_SEMBLE_NPM_REGISTRY": "http://127.0.0.1:9", "MOCK_SEMBLE_GRAPHIQL_ASSETS": "skip"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "mock-semble build: MOCK_SEMBLE_GRAPHIQL_ASSETS=skip: building without GraphiQL assets\n"
    )
    assert not (source_tree / "mock_semble" / "static").exists()
