"""Where a running server is: ``serve --ready-file PATH`` writes a JSON document once the
server serves, for CI scripts that would rather poll a file than parse the ready line;
and every URL option takes the base URL or the ready line's ``…/graphql`` URL.

``{"url": "http://127.0.0.1:PORT", "graphqlUrl": "…/graphql", "port": PORT, "pid": PID}``,
written atomically (write, then rename) so a poller never reads half of it, and removed
again when the server stops (a stale file would announce a server that is gone).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from .core.errors import ConfigError

URL_ENV = "MOCK_SEMBLE_URL"  # where clients (fire, MockSembleClient) find the server
DEFAULT_URL = "http://127.0.0.1:8000"


def server_base(url: str) -> str:
    """The server's base URL from the base or the ready line's ``…/graphql`` URL."""
    return url.strip().rstrip("/").removesuffix("/graphql").rstrip("/")


def ready_document(host: str, port: int) -> dict[str, object]:
    """``{"url", "graphqlUrl", "port", "pid"}`` for a server listening on host:port."""
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    return {"url": url, "graphqlUrl": f"{url}/graphql", "port": port, "pid": os.getpid()}


def check_ready_file(path: Path) -> None:
    """Refuse, before anything starts, a ready file that could not be written."""
    if not path.parent.is_dir():
        raise ConfigError(f"--ready-file folder not found: {path.parent}")
    if path.is_dir():
        raise ConfigError(f"--ready-file is a folder: {path}")


def write_ready_file(path: Path, document: dict[str, object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def remove_ready_file(path: Path) -> None:
    """Remove the file if this process wrote it (another server may own it by now)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
