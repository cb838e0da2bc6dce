"""Install routes (issue 14), from a clean clone as a new user meets them:

- ``python -m build`` gives an sdist and a wheel that carry the pinned GraphiQL assets and
  the LICENSE; a wheel built from the sdist needs no network; ``twine check`` passes;
- that wheel, installed into a fresh venv with no network, serves GraphiQL with every
  asset from itself (each byte-checked against the page's own ``integrity`` attribute);
- with the assets gone, the server says so in one start-up line naming a command the pip
  user has (``mock-semble graphiql-assets``), which brings them back;
- ``scripts/setup.sh`` installs without setuptools warnings and nothing from apt, and a
  second run only checks: no network, no pip, one line.

"No network" is a network namespace with only loopback (``unshare -n``, as root — CI); where
that is not possible the steps run with the package index and npm registry switched off
instead. The online steps need PyPI and registry.npmjs.org: without them the tests skip,
unless ``MOCK_SEMBLE_REQUIRE_NETWORK=1`` (CI), which makes that a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_PYTHON = Path(sys.executable)
# The seven files GraphiQL's page loads, as the pins name them (SPEC §6).
ASSET_NAMES = {
    "react-18.2.0.production.min.js",
    "react-dom-18.2.0.production.min.js",
    "js-cookie-3.0.5.min.js",
    "graphiql-3.8.3.min.css",
    "graphiql-plugin-explorer-1.0.2.css",
    "graphiql-3.8.3.min.js",
    "graphiql-plugin-explorer-1.0.2.umd.js",
}
DEAD_REGISTRY = "http://127.0.0.1:9"  # nothing listens: a download attempt fails at once
ASSETS_COMMAND = "mock-semble graphiql-assets"


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return bool(response.status < 500)
    except OSError:
        return False


@pytest.fixture(scope="module")
def network() -> None:
    missing = [
        u for u in ("https://pypi.org/simple/", "https://registry.npmjs.org/") if not _reachable(u)
    ]
    if missing:
        reason = f"no network to {', '.join(missing)}"
        if os.environ.get("MOCK_SEMBLE_REQUIRE_NETWORK") == "1":
            pytest.fail(f"{reason} (MOCK_SEMBLE_REQUIRE_NETWORK=1)", pytrace=False)
        pytest.skip(reason)


def _namespace_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


OFFLINE_NAMESPACE = _namespace_works()


def run(
    command: Sequence[str | Path],
    *,
    offline: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run ``command``; ``offline``: in a network namespace with only loopback."""
    argv = [str(part) for part in command]
    if offline and OFFLINE_NAMESPACE:
        argv = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', *argv]
    full_env = {**os.environ, **(env or {})}
    if offline:  # also without a namespace: no index, no npm registry
        full_env.update(PIP_NO_INDEX="1", MOCK_SEMBLE_NPM_REGISTRY=DEAD_REGISTRY)
    full_env.pop("PYTHONPATH", None)  # the code under test is the installed one
    return subprocess.run(
        argv, capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"{result.args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


@dataclass
class Built:
    clone: Path
    sdist: Path
    wheel: Path
    sdist_names: list[str]
    wheel_names: list[str]


@pytest.fixture(scope="module")
def built(network: None, tmp_path_factory: pytest.TempPathFactory) -> Built:
    work = tmp_path_factory.mktemp("build")
    clone = work / "clone"
    ok(run(["git", "clone", "--quiet", REPO, clone]))
    assert not (clone / "mock_semble" / "static" / "vendor").exists()  # never committed
    sdists, wheels = work / "sdist", work / "wheel"
    ok(run([VENV_PYTHON, "-m", "build", "--sdist", "--outdir", sdists, clone]))
    [sdist] = sdists.glob("mock_semble-*.tar.gz")
    with tarfile.open(sdist) as archive:
        sdist_names = archive.getnames()
        archive.extractall(work / "unpacked", filter="data")
    [source] = (work / "unpacked").iterdir()
    # The wheel from the sdist, with no network at all: a build env made beforehand.
    tools = work / "build-env"
    ok(run([sys.executable, "-m", "venv", tools]))
    ok(run([tools / "bin" / "python", "-m", "pip", "install", "-q", "build", "setuptools>=77"]))
    wheel_build = ["-m", "build", "--wheel", "--no-isolation", "--outdir", wheels, source]
    ok(run([tools / "bin" / "python", *wheel_build], offline=True))
    [wheel] = wheels.glob("mock_semble-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        wheel_names = archive.namelist()
    return Built(clone, sdist, wheel, sdist_names, wheel_names)


def test_sdist_and_wheel_carry_the_assets_and_the_license(built: Built) -> None:
    top = built.sdist.name.removesuffix(".tar.gz")
    vendor = f"{top}/mock_semble/static/vendor/graphiql/"
    in_sdist = {n.removeprefix(vendor) for n in built.sdist_names if n.startswith(vendor)}
    assert in_sdist >= ASSET_NAMES | {"manifest.json"}
    assert f"{top}/LICENSE" in built.sdist_names
    assert f"{top}/build_backend/mock_semble_build.py" in built.sdist_names
    vendor = "mock_semble/static/vendor/graphiql/"
    in_wheel = {n.removeprefix(vendor) for n in built.wheel_names if n.startswith(vendor)}
    assert in_wheel == ASSET_NAMES | {"manifest.json"}
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in built.wheel_names)
    with zipfile.ZipFile(built.wheel) as archive:
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    assert "License-Expression: MIT" in text


def test_license_file_is_mit() -> None:
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_twine_check_passes(built: Built) -> None:
    result = ok(run([VENV_PYTHON, "-m", "twine", "check", "--strict", built.sdist, built.wheel]))
    assert result.stdout.count("PASSED") == 2, result.stdout


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel, installed with no network (its dependencies from a
    wheelhouse filled beforehand). Returns its bin/ folder."""
    work = tmp_path_factory.mktemp("install")
    wheelhouse = work / "wheelhouse"
    ok(run([VENV_PYTHON, "-m", "pip", "download", "-q", "-d", wheelhouse, built.wheel]))
    venv = work / "venv"
    ok(run([sys.executable, "-m", "venv", venv]))
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-index"]
    ok(run([*pip, "--find-links", wheelhouse, built.wheel], offline=True))
    return venv / "bin"


# Run inside the offline namespace with the fresh venv's python: start the installed
# server, load the page, fetch every asset it names, check each against its integrity.
PAGE_CHECK = r"""
import base64, hashlib, json, os, re, subprocess, sys, time, urllib.request
exe, folder = sys.argv[1], sys.argv[2]
ready = os.path.join(folder, "ready.json")
command = [exe, "serve", "--port", "0", "--ready-file", ready, "--log-level", "warning"]
proc = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
deadline = time.monotonic() + 60
while not os.path.exists(ready):
    if proc.poll() is not None or time.monotonic() > deadline:
        print(json.dumps({"error": proc.communicate()[1]})); sys.exit(0)
    time.sleep(0.05)
doc = json.load(open(ready))
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def get(url, accept="*/*"):
    return opener.open(urllib.request.Request(url, headers={"Accept": accept}), timeout=30).read()
page = get(doc["graphqlUrl"], "text/html").decode()
assets = []
for tag in re.findall(r"<(?:script|link)\b[^>]*>", page):
    url = re.search(r'\b(?:src|href)="([^"]+)"', tag)
    integrity = re.search(r'\bintegrity="([^"]+)"', tag)
    if not url:
        continue
    entry = {"url": url[1], "integrity": integrity[1] if integrity else None}
    if url[1].startswith("/"):
        body = get(doc["url"] + url[1])
        algorithm = (entry["integrity"] or "sha384-").split("-", 1)[0]
        digest = hashlib.new(algorithm, body).digest()
        entry["actual"] = algorithm + "-" + base64.b64encode(digest).decode()
    assets.append(entry)
proc.terminate()
_, stderr = proc.communicate(timeout=30)
print(json.dumps({"assets": assets, "page": page, "stderr": stderr, "code": proc.returncode}))
"""


def check_page(bin_dir: Path, folder: Path) -> dict[str, object]:
    folder.mkdir(exist_ok=True)
    script = folder / "check_page.py"
    script.write_text(PAGE_CHECK)
    result = ok(
        run([bin_dir / "python", script, bin_dir / "mock-semble", folder], offline=True, cwd=folder)
    )
    report: dict[str, object] = json.loads(result.stdout)
    assert "error" not in report, report.get("error")
    return report


def test_offline_install_serves_every_asset_locally(installed: Path, tmp_path: Path) -> None:
    report = check_page(installed, tmp_path / "page")
    assets = report["assets"]
    assert isinstance(assets, list)
    served = {a["url"].removeprefix("/graphiql/assets/") for a in assets if a["integrity"]}
    assert served == ASSET_NAMES  # every asset the page loads, each from the mock
    for asset in assets:
        assert asset["url"].startswith("/"), asset  # nothing from another host
        if asset["integrity"]:
            assert asset["actual"] == asset["integrity"], asset["url"]
    page = str(report["page"])
    # No absolute URL but the SVG icon's XML namespace (a name, never fetched).
    assert set(re.findall(r"https?://[^\s\"'%<>]+", page)) <= {"http://www.w3.org/2000/svg"}
    assert "mock-semble-note" not in page
    assert report["stderr"] == ""  # no warning: the assets are there
    assert report["code"] == 0


def test_missing_assets_warn_once_and_the_command_restores_them(
    installed: Path, tmp_path: Path
) -> None:
    python = installed / "python"
    where = ok(
        run(
            [python, "-c", "from mock_semble.api import graphiql; print(graphiql.ASSETS_DIR)"],
            cwd=tmp_path,  # not the repo: its mock_semble/ would shadow the installed one
        )
    )
    assets_dir = Path(where.stdout.strip())
    assert assets_dir.is_relative_to(installed.parent)  # the installed copy, not the repo
    saved = tmp_path / "saved"
    shutil.copytree(assets_dir, saved)
    shutil.rmtree(assets_dir)
    try:
        report = check_page(installed, tmp_path / "page")
        warnings = [line for line in str(report["stderr"]).splitlines() if line]
        assert warnings == [
            "warning: GraphiQL assets are not installed, so the page loads them from a CDN; "
            f"install them with: {ASSETS_COMMAND}"
        ]
        assert f"run: {ASSETS_COMMAND}" in str(report["page"])

        offline = run([installed / "mock-semble", "graphiql-assets"], offline=True, cwd=tmp_path)
        assert offline.returncode == 1
        [line] = offline.stderr.strip().splitlines()
        assert line.startswith("mock-semble: error: GraphiQL assets: cannot download ")

        check = run([installed / "mock-semble", "graphiql-assets", "--check"], cwd=tmp_path)
        assert check.returncode == 1

        fetched = ok(run([installed / "mock-semble", "graphiql-assets"], cwd=tmp_path))
        assert fetched.stdout.startswith("GraphiQL assets: 7 verified file(s) written to ")
        ok(run([installed / "mock-semble", "graphiql-assets", "--check"], cwd=tmp_path))
        again = ok(run([installed / "mock-semble", "graphiql-assets"], cwd=tmp_path))
        assert again.stdout.startswith("GraphiQL assets already installed in ")
        for name in ASSET_NAMES:
            assert (assets_dir / name).read_bytes() == (saved / name).read_bytes()
    finally:
        if not assets_dir.exists():
            shutil.copytree(saved, assets_dir)


# --- scripts/setup.sh ----------------------------------------------------------------------

SETUPTOOLS_WARNINGS = re.compile(r"BuildBackendWarning|SetuptoolsDeprecationWarning|absent from")


def test_setup_script_installs_quietly_and_then_only_checks(network: None, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    ok(run(["git", "clone", "--quiet", REPO, clone]))
    # Record any call to apt-get or npm: the serve set-up must need neither.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    calls = tmp_path / "calls.log"
    for tool in ("apt-get", "npm"):
        (fake_bin / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\nexit 1\n')
        (fake_bin / tool).chmod(0o755)
    env = {"PATH": f"{fake_bin}:{os.environ['PATH']}", "PYTHON": sys.executable}

    first = ok(run([clone / "scripts" / "setup.sh"], env=env, cwd=clone))
    output = first.stdout + first.stderr
    assert not SETUPTOOLS_WARNINGS.search(output), output
    assert first.stdout.splitlines()[-1] == "setup: ready (mock-semble 0.1.0)"
    assert (clone / "mock_semble" / "static" / "vendor" / "graphiql" / "manifest.json").is_file()

    site = sorted(p.name for p in (clone / ".venv").rglob("*") if "site-packages" in p.parts)
    second = ok(run([clone / "scripts" / "setup.sh"], env=env, cwd=clone, offline=True))
    assert second.stdout == "setup: ready (mock-semble 0.1.0)\n"
    assert second.stderr == ""
    assert (
        sorted(p.name for p in (clone / ".venv").rglob("*") if "site-packages" in p.parts) == site
    )

    # scripts/serve: the same check, then the server; still nothing from apt or npm.
    serve = subprocess.Popen(
        [clone / "scripts" / "serve", "--port", "0"],
        cwd=clone,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        assert serve.stdout.readline().startswith("mock-semble ready: http://127.0.0.1:")
    finally:
        serve.terminate()
        _, stderr = serve.communicate(timeout=30)
    assert stderr.splitlines()[0] == "setup: ready (mock-semble 0.1.0)"
    assert not calls.exists(), calls.read_text()
