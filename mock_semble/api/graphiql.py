"""GraphiQL for ``GET /graphql`` in a browser, served without any CDN.

The page is strawberry's own GraphiQL template with three changes: the seven JS/CSS URLs point
at ``/graphiql/assets/<file>`` (served by :func:`asset_routes` from the git-ignored
``static/vendor/graphiql/`` folder that the build or ``mock-semble graphiql-assets`` fills, keeping
the template's ``integrity`` attributes, which still match), the header editor is pre-filled
with ``{"x-token": <token>}`` and the default operation lists webhooks. Without local assets
the template's original URLs are kept and a one-line note says how to install them.

Importing this module is cheap: strawberry and starlette are imported on first use.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

ASSETS_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor" / "graphiql"
ASSETS_URL_PREFIX = "/graphiql/assets/"
FETCH_COMMAND = "mock-semble graphiql-assets"  # a command every pip user has
NOT_INSTALLED_NOTE = f"GraphiQL assets are not installed locally; run: {FETCH_COMMAND}"
CACHE_CONTROL = "public, max-age=31536000, immutable"  # file names carry the pinned version

_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"

# Local file name -> (package path in the template's URLs, content type). File names and pins
# match PINS in graphiql_vendor.py; only these names are ever served.
ASSETS: dict[str, tuple[str, str]] = {
    "react-18.2.0.production.min.js": ("react@18.2.0/umd/react.production.min.js", _JS),
    "react-dom-18.2.0.production.min.js": (
        "react-dom@18.2.0/umd/react-dom.production.min.js",
        _JS,
    ),
    "js-cookie-3.0.5.min.js": ("js-cookie@3.0.5/dist/js.cookie.min.js", _JS),
    "graphiql-3.8.3.min.css": ("graphiql@3.8.3/graphiql.min.css", _CSS),
    "graphiql-plugin-explorer-1.0.2.css": ("@graphiql/plugin-explorer@1.0.2/dist/style.css", _CSS),
    "graphiql-3.8.3.min.js": ("graphiql@3.8.3/graphiql.min.js", _JS),
    "graphiql-plugin-explorer-1.0.2.umd.js": (
        "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js",
        _JS,
    ),
}
_NAME_BY_PACKAGE_PATH = {package_path: name for name, (package_path, _) in ASSETS.items()}

SAMPLE_QUERY = """\
query ListWebhooks {
  webhooks {
    id
    label
    url
    eventTypes
    deliveryPaused
    createdAt
  }
}
"""

# Absolute https URL in a src/href attribute; the host is whatever the template uses.
_REMOTE_URL = re.compile(r'(?P<attr>\b(?:src|href))="https://[^"/]+/(?P<path>[^"]+)"')
_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)
_HEADERS_STATE = re.compile(r"React\.useState\(\s*parameters\.headers\s*\)")
_FETCH_URL = re.compile(r"const fetchURL = [^;\n]+;")
_GRAPHIQL_PROPS = re.compile(r"React\.createElement\(\s*GraphiQL\s*,\s*\{")
_TOOLS_VISIBLE = re.compile(r"defaultEditorToolsVisibility:\s*true")
_PLACEHOLDER = re.compile(r"\{\{\s*(?P<name>[A-Z_]+)\s*\}\}")
# Placeholders older strawberry templates carried (filled by strawberry's views).
_PLACEHOLDER_VALUES = {"SUBSCRIPTION_ENABLED": "false", "REPLACE_JSON_FLAG": "", "JSON_FLAG": ""}

_NOTE_STYLE = (
    "position:fixed;left:0;right:0;bottom:0;z-index:1000;padding:4px 8px;"
    "background:#fff3cd;color:#664d03;border-top:1px solid #ffe69c;font:13px/1.4 sans-serif"
)

# A way to the inspector (SPEC §4.2), clear of the note bar and of GraphiQL's own buttons.
INSPECTOR_LINK = (
    '<a id="mock-semble-inspector-link" href="/__mock/ui" style="position:fixed;right:12px;'
    "bottom:36px;z-index:1000;padding:4px 10px;border-radius:4px;background:#0b5cad;"
    'color:#fff;font:13px/1.4 sans-serif;text-decoration:none">Inspector</a>'
)


def assets_dir() -> Path:
    """Folder holding the vendored GraphiQL files (``static/vendor/graphiql``)."""
    return ASSETS_DIR


def assets_installed() -> bool:
    """True when every pinned GraphiQL file is present locally."""
    folder = assets_dir()
    return all((folder / name).is_file() for name in ASSETS)


def render_graphiql(token: str | None, graphql_path: str = "/graphql") -> str:
    """The GraphiQL page: local assets when installed, ``x-token`` pre-filled when given."""
    return _render(token, graphql_path, assets_installed())


def _js(value: object) -> str:
    """``value`` as a JS literal that is safe inside an inline ``<script>``."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sub_once(pattern: re.Pattern[str], replacement: str, html: str, what: str) -> str:
    new, count = pattern.subn(lambda _: replacement, html, count=1)
    if count != 1:
        raise RuntimeError(f"strawberry's GraphiQL template changed: no {what} found")
    return new


def _local_url(match: re.Match[str]) -> str:
    name = _NAME_BY_PACKAGE_PATH.get(match["path"])
    if name is None:
        return match[0]
    return f'{match["attr"]}="{ASSETS_URL_PREFIX}{name}"'


def _note(text: str) -> str:
    return f'<div id="mock-semble-note" role="status" style="{_NOTE_STYLE}">{text}</div>'


@functools.lru_cache(maxsize=64)
def _render(token: str | None, graphql_path: str, local_assets: bool) -> str:
    from strawberry.http.ides import get_graphql_ide_html

    html = get_graphql_ide_html("graphiql")
    html = html.replace("<title>Strawberry GraphiQL</title>", "<title>mock-semble GraphiQL</title>")
    headers = json.dumps({"x-token": token}, indent=2) if token is not None else None
    intro = "# mock-semble: run with Ctrl-Enter or the play button.\n"
    if headers:
        intro += "# x-token is pre-filled in the Headers tab below.\n"
    constants = (
        f"const EXAMPLE_QUERY = {_js(intro + SAMPLE_QUERY)};\n"
        f"      const MOCK_SEMBLE_HEADERS = {_js(headers) if headers else 'undefined'};"
    )
    html = _sub_once(_EXAMPLE_QUERY, constants, html, "EXAMPLE_QUERY")
    html = _sub_once(
        _HEADERS_STATE,
        "React.useState(parameters.headers || MOCK_SEMBLE_HEADERS)",
        html,
        "headers state",
    )
    html = _sub_once(
        _FETCH_URL,
        f"const fetchURL = new URL({_js(graphql_path)}, window.location.href).toString();",
        html,
        "fetchURL",
    )
    html = _sub_once(
        _GRAPHIQL_PROPS,
        "React.createElement(GraphiQL, {\n"
        "          defaultQuery: EXAMPLE_QUERY,\n"
        "          defaultHeaders: MOCK_SEMBLE_HEADERS,",
        html,
        "GraphiQL props",
    )
    if headers:  # open the Headers tab so the token is visible
        html = _TOOLS_VISIBLE.sub('defaultEditorToolsVisibility: "headers"', html, count=1)
    html = _PLACEHOLDER.sub(lambda m: _PLACEHOLDER_VALUES.get(m["name"], ""), html)

    note: str | None = None
    if local_assets:
        html = _REMOTE_URL.sub(_local_url, html)
        if _REMOTE_URL.search(html):  # template loads something this module does not pin
            note = f"Some GraphiQL assets are not pinned locally; update {FETCH_COMMAND}"
    else:
        note = NOT_INSTALLED_NOTE
    if note is not None:
        html = _sub_once(re.compile(r"<body>"), f"<body>\n    {_note(note)}", html, "<body>")
    return _sub_once(re.compile(r"<body>"), f"<body>\n    {INSPECTOR_LINK}", html, "<body>")


def asset_routes() -> list[Route]:
    """``GET /graphiql/assets/{name}`` serving the pinned files (and nothing else)."""
    from starlette.routing import Route

    return [
        Route(
            ASSETS_URL_PREFIX + "{name:path}",  # any name, so every miss gets a JSON 404
            _serve_asset,
            methods=["GET", "HEAD"],
            name="graphiql_asset",
        )
    ]


async def _serve_asset(request: Request) -> Response:
    from starlette.responses import FileResponse, JSONResponse

    name = str(request.path_params.get("name", ""))
    entry = ASSETS.get(name)  # only pinned names: no path traversal
    if entry is None:
        return JSONResponse({"error": f"unknown GraphiQL asset: {name}"}, status_code=404)
    path = assets_dir() / name
    if not path.is_file():
        return JSONResponse({"error": NOT_INSTALLED_NOTE}, status_code=404)
    return FileResponse(
        path,
        media_type=entry[1],
        headers={"Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"},
    )
