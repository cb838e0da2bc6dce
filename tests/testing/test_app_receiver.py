"""``app_receiver(app)`` / ``serve_app(app)``: the user's own ASGI or WSGI app, served on a
free local port for a test, receives the mock's signed deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_semble.testing import MockSembleServer
from mock_semble.testing.app_receiver import detect_interface, serve_app

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def signature_ok(body: bytes, header: str, secret: str) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in fields or "v1" not in fields:
        return False
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields["v1"])


class WsgiReceiver:
    """A WSGI app (Flask and Django look like this to a server)."""

    def __init__(self) -> None:
        self.secret = ""
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        ok = signature_ok(body, environ.get("HTTP_X_WEBHOOK_SIGNATURE", ""), self.secret)
        if ok:
            self.bodies.append(body)
        start_response("204 No Content" if ok else "400 Bad Request", [])
        return [b""]


def asgi_receiver(store: dict[str, Any]) -> Starlette:
    async def hook(request: Request) -> Response:
        body = await request.body()
        if not signature_ok(body, request.headers.get("x-webhook-signature", ""), store["secret"]):
            return Response(status_code=400)
        store.setdefault("bodies", []).append(body)
        return Response(status_code=204)

    return Starlette(routes=[Route("/hooks/semble", hook, methods=["POST"])])


def test_asgi_app_receives_a_signed_delivery(
    mock_semble: MockSembleServer, app_receiver: Any
) -> None:
    store: dict[str, Any] = {}
    url = app_receiver(asgi_receiver(store))
    assert url.startswith("http://127.0.0.1:")
    store["secret"] = mock_semble.create_webhook(url + "/hooks/semble")["secret"]

    [delivery] = mock_semble.fire("PATIENT_CREATED")

    assert delivery["status"] == "succeeded"
    assert [json.loads(b)["eventType"] for b in store["bodies"]] == ["patient.created"]


def test_wsgi_app_receives_a_signed_delivery(
    mock_semble: MockSembleServer, app_receiver: Any
) -> None:
    app = WsgiReceiver()
    url = app_receiver(app)
    app.secret = mock_semble.create_webhook(url + "/any/path", ["PATIENT_UPDATED"])["secret"]

    [delivery] = mock_semble.fire("PATIENT_UPDATED")

    assert delivery["status"] == "succeeded"
    assert delivery["attempts"][-1]["responseStatus"] == 204
    assert [json.loads(b)["eventType"] for b in app.bodies] == ["patient.updated"]


def test_a_wrong_secret_is_refused_by_the_app(
    mock_semble: MockSembleServer, app_receiver: Any
) -> None:
    app = WsgiReceiver()
    app.secret = "whsec_not-the-one"
    mock_semble.create_webhook(app_receiver(app))

    [delivery] = mock_semble.fire("PATIENT_CREATED")

    assert delivery["status"] == "failed"
    assert {a["responseStatus"] for a in delivery["attempts"]} == {400}


def test_several_apps_in_one_test_and_all_stopped_after() -> None:
    from mock_semble.testing.app_receiver import AppReceivers

    receivers = AppReceivers()
    first, second = receivers(WsgiReceiver()), receivers(asgi_receiver({"secret": ""}))
    assert first != second
    assert httpx.post(first + "/x", content=b"{}").status_code == 400
    assert httpx.post(second + "/hooks/semble", content=b"{}").status_code == 400
    receivers.close()
    for url in (first, second):
        with pytest.raises(httpx.ConnectError):
            httpx.post(url + "/x", content=b"{}", timeout=2)


def test_serve_app_outside_pytest() -> None:
    with serve_app(WsgiReceiver()) as url:
        assert httpx.post(url + "/x", content=b"{}").status_code == 400
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + "/x", content=b"{}", timeout=2)


async def _asgi_function(scope: Any, receive: Any, send: Any) -> None:
    pass


class _AsgiClass:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        pass


def _wsgi_function(environ: Any, start_response: Any) -> list[bytes]:
    return []


@pytest.mark.parametrize(
    ("app", "interface"),
    [
        (_asgi_function, "asgi3"),
        (_AsgiClass(), "asgi3"),
        (Starlette(), "asgi3"),
        (_wsgi_function, "wsgi"),
        (WsgiReceiver(), "wsgi"),
    ],
)
def test_interface_is_detected(app: Any, interface: str) -> None:
    assert detect_interface(app) == interface


def test_not_an_app_is_a_clear_error(app_receiver: Any) -> None:
    with pytest.raises(TypeError, match="app_receiver needs an ASGI or WSGI app, got str"):
        app_receiver("main:app")
