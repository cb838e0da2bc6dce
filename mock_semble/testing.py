"""Drive mock-semble from tests: an HTTP client and an in-process server.

``MockSembleServer`` is a context manager usable from pytest, unittest or scripts::

    with MockSembleServer(seed=1) as server:
        server.execute("{ webhooks { id } }")
        server.fire("PATIENT_CREATED")

``MockSembleClient`` has the same conveniences for a server that runs elsewhere (a
container, ``mock-semble serve``). The pytest plugin's ``mock_semble`` fixture *is*
a ``MockSembleServer``, so the fixture and the context manager share every method.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from .config import DELIVERY_MODES, ConfigError, Settings, parse_forward, parse_retry_schedule
from .model import ALL_PERMISSIONS

# What the pytest fixture starts with (README, "Testing with pytest"): receivers are
# local, and failed deliveries retry within a fraction of a second, not 31 s.
PYTEST_DEFAULTS: dict[str, Any] = {
    "allow_http_localhost": True,
    "retry_schedule": (0.05, 0.1, 0.2),
    "delivery_timeout": 5.0,
}
_INT_OPTIONS = (
    "seed",
    "port",
    "request_journal_size",
    "delivery_journal_size",
    "delivery_concurrency",
)
_CAMEL = {
    "subscription_id": "subscriptionId",
    "event_type": "eventType",
    "practice_id": "practiceId",
}


class MockSembleError(Exception):
    """A control-plane call was refused: ``status`` and the server's ``error`` text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


@dataclass
class Practice:
    """A practice added at run time with its own token (isolation under ``-n auto``)."""

    id: str
    name: str
    webhooks_enabled: bool
    token: str
    permissions: tuple[str, ...]
    client: MockSembleClient = field(repr=False, compare=False)

    def execute(self, query: str, variables: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.execute(query, variables, token=self.token, **kw)

    def fire(self, event_type: str, **kw: Any) -> list[dict[str, Any]]:
        return self.client.fire(event_type, practice_id=self.id, **kw)

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        return self.client.deliveries(practice_id=self.id, **filters)

    def reset(self) -> None:
        self.client.reset(self.id)


class MockSembleClient:
    """Conveniences over a mock-semble server's GraphQL endpoint and control plane."""

    def __init__(
        self,
        url: str = "",
        *,
        token: str | None = "test-token",
        practice_id: str | None = "000000000000000000000001",
        admin_token: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.practice_id = practice_id
        self.admin_token = admin_token
        self.timeout = timeout
        self._http: httpx.Client | None = None

    @property
    def graphql_url(self) -> str:
        return self.url + "/graphql"

    @property
    def http(self) -> httpx.Client:
        """One pooled client per handle (keeps connections open between calls)."""
        if self._http is None:
            self._http = httpx.Client(base_url=self.url, timeout=self.timeout)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # -- contract API ---------------------------------------------------------------

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        operation_name: str | None = None,
    ) -> Any:
        """POST a GraphQL operation; return the decoded JSON response, whatever its status."""
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = dict(variables)
        if operation_name is not None:
            body["operationName"] = operation_name
        headers = {"x-token": token or self.token or ""}
        return self.http.post("/graphql", json=body, headers=headers).json()

    def create_webhook(
        self,
        url: str,
        event_types: Iterable[str] = ("PATIENT_CREATED",),
        *,
        label: str = "test webhook",
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """``createWebhook`` through GraphQL; the new subscription (with its secret)."""
        variables: dict[str, Any] = {
            "input": {"url": url, "eventTypes": list(event_types), "label": label}
        }
        if headers is not None:
            variables["input"]["headers"] = [{"key": k, "value": v} for k, v in headers.items()]
        result = self.execute(CREATE_WEBHOOK, variables, token=token)
        payload = (result.get("data") or {}).get("createWebhook")
        if not payload or payload["error"]:
            problem = payload["error"] if payload else result.get("errors")
            raise MockSembleError(200, f"createWebhook failed: {problem}")
        return payload["data"]  # type: ignore[no-any-return]

    # -- control plane ----------------------------------------------------------------

    def control(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        """Call ``/__mock/<path>`` (with the admin token when set); raise MockSembleError."""
        headers = {"x-mock-admin-token": self.admin_token} if self.admin_token else {}
        response = self.http.request(
            method, "/__mock/" + path.lstrip("/"), json=json, params=params, headers=headers
        )
        try:
            data = response.json()
        except ValueError:
            data = {"error": response.text}
        if response.status_code >= 400:
            raise MockSembleError(response.status_code, str(data.get("error", data)))
        return data

    def health(self) -> dict[str, Any]:
        return self.control("GET", "health")  # type: ignore[no-any-return]

    def reset(self, practice_id: str | None = None) -> None:
        """Back to the start-up state (or reset one practice's subscriptions)."""
        self.control("POST", "reset", params={"practiceId": practice_id} if practice_id else None)

    def new_practice(
        self,
        name: str = "Test practice",
        *,
        permissions: Iterable[str] = tuple(sorted(p.value for p in ALL_PERMISSIONS)),
        webhooks_enabled: bool = True,
    ) -> Practice:
        """A fresh practice and a token for it: tests that use their own practice never
        see each other's subscriptions or deliveries, even on a shared server."""
        practice = self.control(
            "POST", "practices", json={"name": name, "webhooksEnabled": webhooks_enabled}
        )
        token = self.control(
            "POST", "tokens", json={"practiceId": practice["id"], "permissions": list(permissions)}
        )
        return Practice(
            practice["id"],
            practice["name"],
            practice["webhooksEnabled"],
            token["token"],
            tuple(token["permissions"]),
            self,
        )

    def fire(
        self,
        event_type: str,
        *,
        practice_id: str | None = None,
        subscription_id: str | None = None,
        identifiers: Mapping[str, str] | None = None,
        wait: bool = True,
    ) -> list[dict[str, Any]]:
        """``POST /__mock/events``; by default waits until every delivery is final."""
        body: dict[str, Any] = {"eventType": event_type, "wait": wait}
        if practice_id is not None:
            body["practiceId"] = practice_id
        if subscription_id is not None:
            body["subscriptionId"] = subscription_id
        if identifiers is not None:
            body["identifiers"] = dict(identifiers)
        return self.control("POST", "events", json=body)["deliveries"]  # type: ignore[no-any-return]

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """The delivery journal, oldest first; filters in snake_case or camelCase."""
        params = {_CAMEL.get(k, k): v for k, v in filters.items() if v is not None}
        return self.control("GET", "deliveries", params=params)["deliveries"]  # type: ignore[no-any-return]

    def delivery(self, delivery_id: str) -> dict[str, Any]:
        return self.control("GET", f"deliveries/{delivery_id}")  # type: ignore[no-any-return]

    def redeliver(self, delivery_id: str, *, wait: bool = True) -> dict[str, Any]:
        return self.control(  # type: ignore[no-any-return]
            "POST", f"deliveries/{delivery_id}/redeliver", json={"wait": wait}
        )

    def clear_deliveries(self) -> None:
        self.control("DELETE", "deliveries")

    def requests(self) -> list[dict[str, Any]]:
        """The GraphQL request journal, oldest first."""
        return self.control("GET", "requests")["requests"]  # type: ignore[no-any-return]

    def clear_requests(self) -> None:
        self.control("DELETE", "requests")

    def state(self) -> dict[str, Any]:
        """The whole store as a versioned state document (``GET /__mock/state``)."""
        return self.control("GET", "state")  # type: ignore[no-any-return]

    def load_state(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the store with a state document; MockSembleError(400) if invalid."""
        return self.control("PUT", "state", json=dict(document))  # type: ignore[no-any-return]

    def clock(self) -> dict[str, Any]:
        return self.control("GET", "clock")  # type: ignore[no-any-return]

    def freeze_clock(self, at: datetime | str | None = None) -> dict[str, Any]:
        """Freeze the mock's clock at ``at`` (a datetime or ISO string; default: now)."""
        if at is None:
            at = self.clock()["now"]
        text = at.isoformat() if isinstance(at, datetime) else at
        return self.control("PUT", "clock", json={"frozenAt": text})  # type: ignore[no-any-return]

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self.control("PUT", "clock", json={"advanceSeconds": seconds})  # type: ignore[no-any-return]

    def unfreeze_clock(self) -> dict[str, Any]:
        return self.control("DELETE", "clock")  # type: ignore[no-any-return]


CREATE_WEBHOOK = """
mutation CreateWebhook($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    data { id secret url label eventTypes headers { key value } createdAt updatedAt
           deleted deliveryPaused version }
    error
  }
}
"""


def settings_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Check and normalise Settings options given as Python values or as strings (from
    an ini file): ``retry_schedule="0.1,0.5"``, ``state_file="s.json"``, ``seed="1"``…"""
    from .logs import LEVELS
    from .signing import SIGNING_SCHEMES

    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"unknown mock-semble option(s) {unknown}; options are Settings fields")
    result = dict(options)
    for name, value in options.items():
        if name in _INT_OPTIONS:
            result[name] = None if value is None else _number(int, name, value)
        elif name == "delivery_timeout":
            result[name] = _number(float, name, value)
        elif name == "allow_http_localhost" and isinstance(value, str):
            result[name] = value.strip().lower() in ("1", "true", "yes", "on")
        elif name in ("state_file", "ca_bundle") and value is not None:
            result[name] = Path(value)
        elif name == "retry_schedule":
            text = value if isinstance(value, str) else ",".join(str(v) for v in value)
            result[name] = parse_retry_schedule(text)
        elif name == "forwards":
            items = value.split() if isinstance(value, str) else value
            result[name] = tuple(
                parse_forward(f"{i[0]}={i[1]}" if isinstance(i, tuple | list) else i) for i in items
            )
    choices = {
        "signing_scheme": SIGNING_SCHEMES,
        "delivery_mode": DELIVERY_MODES,
        "log_level": LEVELS,
    }
    for name, allowed in choices.items():
        if name in result and result[name] not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}")
    return result


def _number(kind: type[int] | type[float], name: str, value: Any) -> int | float:
    try:
        if isinstance(value, bool):
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a {kind.__name__}, got {value!r}") from None


class MockSembleServer(MockSembleClient):
    """A uvicorn server on a free port, in a daemon thread, with its own runtime.

    Keyword options are :class:`~mock_semble.config.Settings` fields (the CLI's flags
    with underscores), e.g. ``seed=1``, ``delivery_mode="record"``,
    ``retry_schedule=(0.1, 0.5)``, ``state_file="state.json"``. Without ``settings``
    the base is the CLI's defaults plus ``allow_http_localhost=True``.
    """

    def __init__(self, settings: Settings | None = None, **options: Any) -> None:
        base = settings or Settings(allow_http_localhost=True)
        options = settings_options(options)
        if "host" in options or "port" in options:
            raise ConfigError("MockSembleServer always listens on 127.0.0.1, on a free port")
        self.settings = dataclasses.replace(base, host="127.0.0.1", port=0, **options)
        super().__init__(token=self.settings.default_token, admin_token=self.settings.admin_token)
        self._thread: threading.Thread | None = None
        self._server: Any = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> MockSembleServer:
        import uvicorn

        from .app import create_app

        self.app = create_app(self.settings)  # ConfigError for a bad state file
        self.runtime = self.app.state.runtime  # in-process escape hatch
        # A --state-file brings its own tokens: the default token is its first one.
        self.token = self.runtime.settings.default_token
        self.practice_id = self.runtime.default_practice_id
        # IPPROTO_TCP so asyncio sets TCP_NODELAY (see cli.serve)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="on", server_header=False
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[sock])),
            name=f"mock-semble-{port}",
            daemon=True,
        )
        self._thread.start()
        for _ in range(2000):
            if self._server.started:
                break
            if not self._thread.is_alive():
                raise RuntimeError("mock-semble server thread died during start-up")
            threading.Event().wait(0.005)
        else:
            raise RuntimeError("mock-semble server did not start within 10 s")
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self.close()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> MockSembleServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
