"""GraphiQL page rendering, the vendored-asset route and the asset fetch script."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from starlette.applications import Starlette

from mock_semble.api import graphiql

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "fetch_graphiql_assets.py"
CDN_HOSTS = ("unpkg.com", "cdn.jsdelivr", "esm.sh/")
REAL_ASSETS = graphiql.ASSETS_DIR


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_graphiql_assets", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


fetch_script = _load_script()


def _strawberry_template() -> str:
    from strawberry.http.ides import get_graphql_ide_html

    return get_graphql_ide_html("graphiql")


def _urls(html: str) -> list[str]:
    """Every src/href but the link to the inspector (SPEC §4.2, tested with the inspector)."""
    return [u for u in re.findall(r'\b(?:src|href)="([^"]+)"', html) if u != "/__mock/ui"]


def _integrities(html: str) -> list[str]:
    return re.findall(r'integrity="([^"]+)"', html)


def _real_assets_installed() -> bool:
    return all((REAL_ASSETS / pin.name).is_file() for pin in fetch_script.PINS)


needs_real_assets = pytest.mark.skipif(
    not _real_assets_installed(),
    reason="GraphiQL assets not installed; run: python scripts/fetch_graphiql_assets.py",
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    graphiql._render.cache_clear()
    yield
    graphiql._render.cache_clear()


@pytest.fixture
def fake_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "vendor"
    folder.mkdir()
    for name in graphiql.ASSETS:
        (folder / name).write_text(f"/* {name} */\n")
    monkeypatch.setattr(graphiql, "ASSETS_DIR", folder)
    return folder


@pytest.fixture
def no_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "empty"
    monkeypatch.setattr(graphiql, "ASSETS_DIR", folder)
    return folder


# --- rendering ---------------------------------------------------------------------------


def test_import_is_cheap() -> None:
    code = (
        "import sys, mock_semble.api.graphiql\n"
        "print(sorted(m for m in ('strawberry', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert out.stdout.strip() == "[]"


def test_page_uses_local_assets_when_installed(fake_assets: Path) -> None:
    assert graphiql.assets_installed()
    html = graphiql.render_graphiql("test-token")
    remote = [url for url in _urls(html) if not url.startswith("data:")]
    assert sorted(remote) == sorted(graphiql.ASSETS_URL_PREFIX + n for n in graphiql.ASSETS)
    for host in CDN_HOSTS:
        assert host not in html
    assert "https://" not in html
    # SRI attributes are kept: the local files are byte-identical to the CDN's.
    assert _integrities(html) == _integrities(_strawberry_template())
    assert graphiql.NOT_INSTALLED_NOTE not in html
    assert "mock-semble-note" not in html


def test_page_prefills_token_and_sample_query(fake_assets: Path) -> None:
    html = graphiql.render_graphiql("test-token")
    headers_js = json.dumps(json.dumps({"x-token": "test-token"}, indent=2))
    assert f"const MOCK_SEMBLE_HEADERS = {headers_js};" in html
    assert "React.useState(parameters.headers || MOCK_SEMBLE_HEADERS)" in html
    assert "defaultHeaders: MOCK_SEMBLE_HEADERS," in html
    assert "defaultQuery: EXAMPLE_QUERY," in html
    assert 'defaultEditorToolsVisibility: "headers"' in html
    assert "isHeadersEditorEnabled: true" in html
    query = json.loads(_js_constant(html, "EXAMPLE_QUERY"))
    assert "query ListWebhooks {" in query
    for field in ("webhooks", "id", "label", "url", "eventTypes", "deliveryPaused", "createdAt"):
        assert re.search(rf"\b{field}\b", query)
    assert 'new URL("/graphql", window.location.href)' in html
    assert not re.search(r"\{\{\s*\w+\s*\}\}", html)  # no template placeholders left
    assert "<title>mock-semble GraphiQL</title>" in html


def _js_constant(html: str, name: str) -> str:
    match = re.search(rf"const {name} = (.*?);\n", html)
    assert match is not None, name
    return match[1]


def test_page_without_token(fake_assets: Path) -> None:
    html = graphiql.render_graphiql(None)
    assert _js_constant(html, "MOCK_SEMBLE_HEADERS") == "undefined"
    assert "x-token" not in html
    assert "defaultEditorToolsVisibility: true" in html


def test_token_is_escaped_for_inline_script(fake_assets: Path) -> None:
    token = 'a"</script><b>&\u2028'
    html = graphiql.render_graphiql(token)
    assert "</script><b>" not in html
    headers = json.loads(json.loads(_js_constant(html, "MOCK_SEMBLE_HEADERS")))
    assert headers == {"x-token": token}


def test_custom_graphql_path(fake_assets: Path) -> None:
    html = graphiql.render_graphiql("t", graphql_path="/api/graphql")
    assert 'const fetchURL = new URL("/api/graphql", window.location.href).toString();' in html


def test_page_is_cached_per_token(fake_assets: Path) -> None:
    first = graphiql.render_graphiql("test-token")
    assert graphiql.render_graphiql("test-token") is first
    assert graphiql.render_graphiql("other") is not first
    assert '\\"x-token\\": \\"other\\"' in graphiql.render_graphiql("other")


def test_page_without_local_assets_keeps_template_urls(no_assets: Path) -> None:
    assert not graphiql.assets_installed()
    html = graphiql.render_graphiql("test-token")
    template = _strawberry_template()
    assert _urls(html) == _urls(template)
    assert _integrities(html) == _integrities(template)
    assert html.count(graphiql.NOT_INSTALLED_NOTE) == 1
    assert (
        graphiql.NOT_INSTALLED_NOTE
        == "GraphiQL assets are not installed locally; run: mock-semble graphiql-assets"
    )
    assert '"x-token' in html  # still pre-filled


def test_partial_assets_count_as_absent(fake_assets: Path) -> None:
    (fake_assets / "graphiql-3.8.3.min.js").unlink()
    assert not graphiql.assets_installed()
    assert graphiql.NOT_INSTALLED_NOTE in graphiql.render_graphiql("test-token")


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
@pytest.mark.parametrize("token", ["test-token", None])
def test_inline_script_parses(fake_assets: Path, tmp_path: Path, token: str | None) -> None:
    html = graphiql.render_graphiql(token)
    scripts = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert len(scripts) == 1
    source = tmp_path / "inline.js"
    source.write_text(scripts[0])
    proc = subprocess.run(["node", "--check", str(source)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_no_cdn_host_in_package_sources() -> None:
    package = Path(graphiql.__file__).parent
    for path in package.rglob("*"):
        if path.is_file() and "vendor" not in path.parts and path.suffix != ".pyc":
            text = path.read_text(errors="replace")
            for host in CDN_HOSTS:
                assert host not in text, f"{host} in {path}"


# --- asset route ---------------------------------------------------------------------------


def _get(path: str, method: str = "GET") -> httpx.Response:
    app = Starlette(routes=graphiql.asset_routes())

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, path)

    return asyncio.run(go())


def test_asset_route_serves_pinned_files(fake_assets: Path) -> None:
    for name in graphiql.ASSETS:
        response = _get(f"/graphiql/assets/{name}")
        assert response.status_code == 200, name
        assert response.content == (fake_assets / name).read_bytes()
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        assert response.headers["content-type"] == f"{kind}; charset=utf-8"
        assert response.headers["cache-control"] == graphiql.CACHE_CONTROL
        assert response.headers["x-content-type-options"] == "nosniff"


def test_asset_route_head(fake_assets: Path) -> None:
    response = _get("/graphiql/assets/graphiql-3.8.3.min.js", method="HEAD")
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/assets/nope.js",
        "/graphiql/assets/manifest.json",
        "/graphiql/assets/..%2F..%2Fgraphiql.py",
        "/graphiql/assets/%2e%2e%2fgraphiql.py",
        "/graphiql/assets/.react-18.2.0.production.min.js.tmp",
    ],
)
def test_asset_route_rejects_unknown_names(fake_assets: Path, path: str) -> None:
    (fake_assets / "manifest.json").write_text("{}")
    response = _get(path)
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error"}


def test_asset_route_unknown_name_message(fake_assets: Path) -> None:
    response = _get("/graphiql/assets/evil.js")
    assert response.json() == {"error": "unknown GraphiQL asset: evil.js"}


def test_asset_route_when_not_installed(no_assets: Path) -> None:
    response = _get("/graphiql/assets/graphiql-3.8.3.min.js")
    assert response.status_code == 404
    assert response.json() == {"error": graphiql.NOT_INSTALLED_NOTE}


# --- pins and the fetch script ---------------------------------------------------------------


def test_script_pins_match_strawberry_template_and_module() -> None:
    template = _strawberry_template()
    pinned = dict(zip(_urls(template)[1:], _integrities(template), strict=True))
    assert len(pinned) == len(fetch_script.PINS) == len(graphiql.ASSETS) == 7
    by_suffix = {url.split("/", 3)[3]: sri for url, sri in pinned.items()}
    for pin in fetch_script.PINS:
        package_path = f"{pin.spec}/{pin.member}"
        assert by_suffix[package_path] == pin.integrity, package_path
        assert graphiql.ASSETS[pin.name][0] == package_path


def _make_tarballs(folder: Path, source: Path, tamper: str | None = None) -> None:
    """npm-pack-style tarballs holding ``source``'s files (optionally one tampered)."""
    members: dict[str, list[tuple[str, bytes]]] = {}
    for pin in fetch_script.PINS:
        data = (source / pin.name).read_bytes() if source.is_dir() else b"x"
        if pin.name == tamper:
            data += b"\n/* tampered */\n"
        members.setdefault(pin.tarball, []).append((f"package/{pin.member}", data))
    folder.mkdir(parents=True, exist_ok=True)
    for tarball, files in members.items():
        with tarfile.open(folder / tarball, "w:gz") as archive:
            for name, data in files:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))


def _run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=REPO_ROOT
    )


def test_script_rejects_tampered_tarball(tmp_path: Path) -> None:
    source = REAL_ASSETS if _real_assets_installed() else tmp_path / "missing"
    tarballs = tmp_path / "tarballs"
    _make_tarballs(tarballs, source, tamper="graphiql-3.8.3.min.js")
    dest = tmp_path / "dest"
    proc = _run_script("--dest", str(dest), "--tarball-dir", str(tarballs))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("fetch_graphiql_assets: error: integrity mismatch for ")
    assert not dest.exists() or not any(dest.iterdir())  # nothing written on failure


def test_script_check_detects_tampered_file(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    for pin in fetch_script.PINS:
        (dest / pin.name).write_text("not the real file")
    proc = _run_script("--check", "--dest", str(dest))
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "missing or modified GraphiQL assets" in proc.stderr


def test_script_missing_npm_is_one_line_error(tmp_path: Path) -> None:
    proc = _run_script("--dest", str(tmp_path / "d"), "--npm", str(tmp_path / "no-npm"))
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"fetch_graphiql_assets: error: npm client not found ({str(tmp_path / 'no-npm')!r}); "
        "install Node.js/npm or pass --npm"
    )


def test_script_missing_tarball(tmp_path: Path) -> None:
    proc = _run_script("--dest", str(tmp_path / "d"), "--tarball-dir", str(tmp_path))
    assert proc.returncode == 1
    assert "missing tarball" in proc.stderr


@needs_real_assets
def test_script_installs_repairs_and_is_idempotent(tmp_path: Path) -> None:
    tarballs = tmp_path / "tarballs"
    _make_tarballs(tarballs, REAL_ASSETS)
    dest = tmp_path / "dest"
    assert fetch_script.install(dest, tarball_dir=tarballs) == 7
    assert fetch_script.install(dest, tarball_dir=tarballs) == 0  # idempotent
    manifest = json.loads((dest / "manifest.json").read_text())
    assert set(manifest["files"]) == set(graphiql.ASSETS)
    # A tampered local file is detected and replaced by a verified copy.
    victim = dest / "react-18.2.0.production.min.js"
    victim.write_bytes(victim.read_bytes() + b"//")
    assert _run_script("--check", "--dest", str(dest)).returncode == 1
    assert fetch_script.install(dest, tarball_dir=tarballs) == 1
    proc = _run_script("--check", "--dest", str(dest))
    assert proc.returncode == 0, proc.stderr


@needs_real_assets
def test_installed_assets_match_pins() -> None:
    proc = _run_script("--check")
    assert proc.returncode == 0, proc.stderr
