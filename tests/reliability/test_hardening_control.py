"""Issue 13, items 3, 9, 14, 15 and 17 (gzip): the control plane refuses what it does not
know, reads bodies as a bounded stream, hides its routes behind the admin token, and
accepts only tokens a client can send.

The route list is read from the app itself, so a route added later is checked too;
expected answers are written from SPEC §4 and §7.
"""

from __future__ import annotations

import gzip
import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from mock_semble.cli import main
from mock_semble.testing import MockSembleServer

from .helpers import CREATE, graphql, write_config

PRACTICE = "000000000000000000000001"
TOKEN = "test-token"
ADMIN = "admin-secret"
MSG_ADMIN = "missing or invalid x-mock-admin-token"
MSG_TOKEN = (
    "token must be 1-256 visible ASCII characters without spaces and must not start with 'Bearer'"
)
MSG_ENCODING = "Content-Encoding not supported; send the body uncompressed."
MIB = 1024 * 1024
# Static files of the inspector page: like any static file server they ignore a query
# string (a cache buster), and need no admin token (SPEC §4: the page asks for it).
STATIC = {"/__mock/ui", "/__mock/ui/{name}"}
CATCH_ALL = "/__mock/{rest:path}"


def _routes(server: MockSembleServer) -> list[tuple[str, str]]:
    """(path template, method) of every control-plane route but the static ones."""
    found = []
    for route in server.app.routes:
        if isinstance(route, Route) and route.path.startswith("/__mock") and route.methods:
            if route.path in STATIC or route.path == CATCH_ALL:
                continue
            found.extend((route.path, m) for m in sorted(route.methods - {"HEAD"}))
    return found


class World:
    """A subscription, a delivery and a fault rule, so every path template has ids."""

    def __init__(self, server: MockSembleServer, http: httpx.Client) -> None:
        server.reset()
        self.sub = server.create_webhook("https://control.example.com/hook")
        fired = http.post("/__mock/events", json={"eventType": "PATIENT_CREATED"})
        self.delivery = fired.json()["deliveries"][0]["id"]
        rule = http.post("/__mock/faults", json={"match": {}, "action": {"type": "delay", "ms": 1}})
        assert rule.status_code == 201, rule.text
        self.fault = rule.json()["id"]
        http.delete("/__mock/faults")  # keep the id for the path; no rule stays active
        self.state = http.get("/__mock/state").json()

    def path(self, template: str) -> str:
        return (
            template.replace("{delivery_id}", self.delivery)
            .replace("{fault_id}", self.fault)
            .replace("{subscription_id}", self.sub["id"])
        )

    def body(self, template: str) -> dict[str, Any]:
        """A body the route accepts (so only the unknown field can be refused)."""
        return {
            "/__mock/reset": {},
            "/__mock/practices": {"name": "Another"},
            "/__mock/tokens": {"practiceId": PRACTICE, "permissions": []},
            "/__mock/clock": {"advanceSeconds": 1},
            "/__mock/events": {"eventType": "PATIENT_CREATED"},
            "/__mock/deliveries/{delivery_id}/redeliver": {},
            "/__mock/faults": {"match": {}, "action": {"type": "delay", "ms": 1}},
            "/__mock/state": self.state,
        }[template]


def _unchanged(http: httpx.Client, world: World) -> None:
    state = http.get("/__mock/state").json()
    assert state["subscriptions"] == world.state["subscriptions"]
    assert state["practices"] == world.state["practices"]
    assert state["tokens"] == world.state["tokens"]
    assert http.get("/__mock/faults").json() == world_faults_empty()
    assert http.get("/__mock/clock").json()["offsetSeconds"] == 0


def world_faults_empty() -> Any:
    return {"faults": []}


# -- item 3: unknown query parameters and body fields --------------------------------------


def test_every_control_route_refuses_an_unknown_query_parameter(server: MockSembleServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        world = World(server, http)
        checked = []
        for template, method in _routes(server):
            body = world.body(template) if method in ("POST", "PUT") else None
            answer = http.request(method, world.path(template) + "?zzUnknown=1", json=body)
            assert answer.status_code == 400, (method, template, answer.text)
            assert "zzUnknown" in answer.json()["error"], (method, template)
            checked.append(f"{method} {template}")
            _unchanged(http, world)
    assert len(checked) >= 20  # the table of SPEC §4 and §4.1 at least


def test_every_control_route_with_a_body_refuses_an_unknown_field(server: MockSembleServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        world = World(server, http)
        for template, method in _routes(server):
            if method not in ("POST", "PUT"):
                continue
            body = {**world.body(template), "zzUnknown": 1}
            answer = http.request(method, world.path(template), json=body)
            assert answer.status_code == 400, (method, template, answer.text)
            assert "zzUnknown" in answer.json()["error"], (method, template)
            _unchanged(http, world)


@pytest.mark.parametrize(
    ("query", "body"),
    [("?practice_id=" + PRACTICE, None), ("", {"practiceId": PRACTICE}), ("?practiceid=x", None)],
)
def test_a_misspelt_reset_wipes_nothing(
    server: MockSembleServer, query: str, body: dict[str, Any] | None
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        world = World(server, http)
        answer = http.post("/__mock/reset" + query, json=body)
        assert answer.status_code == 400
        _unchanged(http, world)


def test_a_misspelt_practice_field_is_refused(server: MockSembleServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        answer = http.post("/__mock/practices", json={"name": "P", "webhooksEnbled": False})
        assert answer.status_code == 400
        assert answer.json() == {"error": "unknown field(s): webhooksEnbled"}


# -- item 9: bodies are read as a stream, cut at 1 MiB, nested at most 64 deep -------------


def _endless_chunked_body(port: int, method: str, path: str, sent_limit: int) -> tuple[bytes, int]:
    """Send a chunked body that never ends; return the answer and how much was sent."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"10000\r\n" + b"[" * 0x10000 + b"\r\n"
        sock.settimeout(0.05)
        answer = b""
        while sent < sent_limit and not answer:
            try:
                sock.sendall(chunk)
                sent += 0x10000
            except OSError:  # the server closed its side after answering
                break
            try:
                answer = sock.recv(65536)
            except TimeoutError:
                continue
        sock.settimeout(30)
        while b"\r\n\r\n" in answer and not answer.endswith(b"}"):
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    return answer, sent


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/__mock/events"), ("PUT", "/__mock/state"), ("POST", "/__mock/practices")],
)
def test_control_bodies_are_cut_at_1_mib_while_they_stream(
    server: MockSembleServer, method: str, path: str
) -> None:
    """A body that never ends gets its 413 once 1 MiB has arrived: the server does not
    wait for the end (before the fix it read everything, 600 MB took RSS to 1.2 GB)."""
    port = int(server.url.rsplit(":", 1)[1])
    answer, sent = _endless_chunked_body(port, method, path, sent_limit=64 * MIB)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b'{"error":"Request body is larger than 1 MiB."}' in answer
    assert sent < 64 * MIB


@pytest.mark.parametrize(
    ("depth", "message"),
    [
        (65, "request body is not valid JSON"),
        (990, "request body is not valid JSON"),
        (100_000, "Request body has more than 100000 JSON arrays and objects."),
    ],
)
def test_control_bodies_nested_too_deep_are_400(
    server: MockSembleServer, depth: int, message: str
) -> None:
    body = b'{"eventType":"PATIENT_CREATED","identifiers":' + b"[" * depth + b"]" * depth + b"}"
    with httpx.Client(base_url=server.url, timeout=30) as http:
        answer = http.post(
            "/__mock/events", content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code == 400
    assert answer.json() == {"error": message}


@pytest.mark.parametrize("path", ["/graphql", "/__mock/events"])
def test_a_body_of_many_tiny_arrays_is_refused_before_it_is_decoded(
    server: MockSembleServer, path: str
) -> None:
    """1 MiB of ``[[]]`` decodes to 0.3 million lists, which once held the event loop for
    most of a second per request (without a token): refused by counting, undecoded."""
    count = (MIB - 200) // 5
    body = b'{"query":"{ webhooks { id } }","variables":{"v":[' + b"[[]]," * count + b"[]]}}"
    assert len(body) < MIB
    with httpx.Client(base_url=server.url, timeout=30) as http:
        answer = http.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    message = "Request body has more than 100000 JSON arrays and objects."
    if path == "/graphql":
        assert answer.json()["errors"][0]["message"] == message
    else:
        assert answer.json() == {"error": message}


# -- item 17: gzip (any Content-Encoding) is 415, not "not valid JSON" -----------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_compressed_bodies_get_415(server: MockSembleServer, encoding: str) -> None:
    headers = {"content-encoding": encoding, "content-type": "application/json", "x-token": TOKEN}
    body = gzip.compress(json.dumps({"query": "{ webhooks { id } }"}).encode())
    with httpx.Client(base_url=server.url, timeout=30) as http:
        api = http.post("/graphql", content=body, headers=headers)
        control = http.post("/__mock/events", content=body, headers=headers)
    assert api.status_code == 415
    assert api.json() == {
        "errors": [{"message": MSG_ENCODING, "extensions": {"code": "UNSUPPORTED_MEDIA_TYPE"}}]
    }
    assert control.status_code == 415
    assert control.json() == {"error": MSG_ENCODING}


# -- item 14: the admin token ----------------------------------------------------------------


def test_without_the_admin_token_every_method_and_path_gets_the_same_401() -> None:
    with (
        MockSembleServer(admin_token=ADMIN) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        paths = {template for template, _ in _routes(server)} - {"/__mock/health"}
        paths |= {"/__mock/nope", "/__mock/deliveries/000000000000000000000000", "/__mock/x/y"}
        methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]
        answers = {
            (m, p): http.request(m, p.replace("{", "").replace("}", ""))
            for p in paths
            for m in methods
        }
        for (method, path), answer in answers.items():
            assert answer.status_code == 401, (method, path, answer.status_code)
            assert answer.json() == {"error": MSG_ADMIN}, (method, path)
            assert "allow" not in answer.headers, (method, path)  # no route names leak
        head = http.head("/__mock/state")
        assert head.status_code == 401
        assert http.get("/__mock/health").status_code == 200
        assert http.get("/__mock/state", headers={"x-mock-admin-token": ADMIN}).status_code == 200


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_admin_token_is_refused(
    value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["serve", "--port", "0", "--admin-token", value]) == 2
    assert capsys.readouterr().err == "mock-semble: error: --admin-token must not be empty\n"
    monkeypatch.setenv("MOCK_SEMBLE_ADMIN_TOKEN", value)
    assert main(["serve", "--port", "0"]) == 2
    assert "--admin-token must not be empty" in capsys.readouterr().err


# -- item 15: tokens that could never authenticate ------------------------------------------

BAD_TOKENS = [" padded ", "Bearer abc", "bearer", "café", "tab\there", "", "x" * 257, "a b"]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_control_plane_refuses_tokens_a_client_cannot_send(
    server: MockSembleServer, token: str
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        before = http.get("/__mock/state").json()["tokens"]
        answer = http.post(
            "/__mock/tokens", json={"practiceId": PRACTICE, "permissions": [], "token": token}
        )
        assert answer.status_code == 400
        assert answer.json() == {"error": MSG_TOKEN}
        assert http.get("/__mock/state").json()["tokens"] == before


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_config_and_state_refuse_tokens_a_client_cannot_send(
    server: MockSembleServer, token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path / "c.toml",
        [{"id": PRACTICE, "name": "P"}],
        [{"token": token, "practiceId": PRACTICE, "permissions": ["seeWebhooks"]}],
    )
    assert main(["serve", "--port", "0", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert MSG_TOKEN in err and err.count("\n") == 1
    with httpx.Client(base_url=server.url, timeout=30) as http:
        document = http.get("/__mock/state").json()
        document["tokens"][0]["token"] = token
        answer = http.put("/__mock/state", json=document)
        assert answer.status_code == 400
        assert MSG_TOKEN in answer.json()["error"]
        ok = graphql(
            http,
            TOKEN,
            CREATE,
            {
                "input": {
                    "url": "https://t.example.com",
                    "label": "t",
                    "eventTypes": ["PATIENT_CREATED"],
                }
            },
        )
        assert ok["_status"] == 200  # the old token still works: nothing changed
