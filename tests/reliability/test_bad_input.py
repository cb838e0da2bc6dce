"""The bad input catalogue: every kind of malformed request gets a clear 4xx (or a
GraphQL error), never a 500, and leaves the server serving.

One CLI-started server takes the whole catalogue. After *each* case the server must
still answer every read (health, a query, the request and delivery journals, the state
export, the practice list): a request that is answered but poisons what is stored (so
that a later read fails) is a failure of that case. At the end the logs hold no
traceback. Requests the HTTP client refuses to send (bad Content-Length, garbage
request lines, truncated bodies) go over a raw socket.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from mock_semble.testing import MockSembleServer

from .helpers import CREATE, LIST, CliServer, Figures

TOKEN = "test-token"
PRACTICE = "000000000000000000000001"
JSON: dict[str, str | bytes] = {"content-type": "application/json"}
AUTH: dict[str, str | bytes] = {"x-token": TOKEN, **JSON}
MIB = 1024 * 1024
LOOPBACK_URL = "https://127.0.0.1:1/hook"  # nothing is ever sent off this machine
QUERY = "{ webhooks { id } }"
GRAPHQL_ERROR, CLIENT_ERROR, SERVED = "graphql error", "4xx", "served"
ANY_ERROR, NO_5XX = "4xx or graphql error", "no 5xx"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str | bytes] = field(default_factory=dict)
    expect: str = CLIENT_ERROR  # or GRAPHQL_ERROR, SERVED, ANY_ERROR, NO_5XX


def gql_body(query: str, variables: Any = None, **extra: Any) -> bytes:
    body: dict[str, Any] = {"query": query, **extra}
    if variables is not None:
        body["variables"] = variables
    return json.dumps(body).encode()


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


def create_vars(**overrides: Any) -> bytes:
    given = {"url": LOOPBACK_URL, "eventTypes": ["PATIENT_CREATED"], "label": "l", **overrides}
    return gql_body(CREATE, {"input": given})


def raw_json(text: str) -> bytes:
    """JSON text written by hand (escapes kept as written, e.g. lone surrogates)."""
    return text.encode()


def with_variable(json_text: str) -> bytes:
    """A query whose variable ``a`` is the JSON text given, as written."""
    return raw_json('{"query":"' + QUERY + '","variables":{"a":' + json_text + "}}")


def graphql_cases() -> list[Case]:
    g = "/graphql"
    padding = "x" * MIB
    cases = [
        # size
        Case("body just over 1 MiB", "POST", g, gql_body(QUERY, {"p": padding}), AUTH),
        Case("body of 16 MiB", "POST", g, b" " * (16 * MIB), AUTH),
        # depth, aliases, tokens
        Case(
            "depth 21",
            "POST",
            g,
            gql_body("{ webhooks " + nested(21, "{ id ", "}") + " }"),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case(
            "depth 5000",
            "POST",
            g,
            gql_body("{ webhooks " + nested(5000, "{ id ", "}") + " }"),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case(
            "31 aliases",
            "POST",
            g,
            gql_body("{ " + " ".join(f"a{i}: webhooks {{ id }}" for i in range(31)) + " }"),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case(
            "3000 aliases",
            "POST",
            g,
            gql_body("{ " + " ".join(f"a{i}: webhooks {{ id }}" for i in range(3000)) + " }"),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case(
            "10 001 tokens",
            "POST",
            g,
            gql_body("{ webhooks { " + "id " * 10_001 + "} }"),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case(
            "introspection 30 deep",
            "POST",
            g,
            gql_body(
                "{ __schema { types { "
                + nested(30, "ofType { ", "}").replace("{ }", "{ name }")
                + " } } }"
            ),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case(
            "deep input literal",
            "POST",
            g,
            gql_body(
                'mutation { createWebhook(input: {url: "u", label: "l", eventTypes: '
                + nested(3000)
                + "}) { error } }"
            ),
            AUTH,
            GRAPHQL_ERROR,
        ),
        # deep JSON
        Case(
            "variables nested 40 deep",
            "POST",
            g,
            with_variable(nested(40)),
            AUTH,
            SERVED,
        ),
        Case(
            "variables nested 990 deep",
            "POST",
            g,
            with_variable(nested(990)),
            AUTH,
        ),
        Case(
            "body nested 100 000 deep",
            "POST",
            g,
            with_variable(nested(100_000)),
            AUTH,
        ),
        # encodings and odd characters
        Case("invalid UTF-8", "POST", g, b'{"query": "{ webhooks { id } }\xff\xfe"}', AUTH),
        Case("overlong UTF-8 NUL", "POST", g, b'{"query": "\xc0\x80"}', AUTH),
        Case("UTF-16 body", "POST", g, gql_body(QUERY).decode().encode("utf-16"), AUTH, NO_5XX),
        Case("raw NUL byte in a string", "POST", g, b'{"query": "{ webhooks\x00 { id } }"}', AUTH),
        Case(
            "escaped NUL in the query",
            "POST",
            g,
            gql_body("{ webhooks { id \u0000 } }"),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case(
            "escaped NUL in variables",
            "POST",
            g,
            gql_body("query($id: ID!) { webhook(id: $id) { id } }", {"id": "a\u0000b"}),
            AUTH,
            SERVED,
        ),
        Case("NUL in a webhook label", "POST", g, create_vars(label="a\u0000b"), AUTH, SERVED),
        Case(
            "lone surrogate in unused variables",
            "POST",
            g,
            with_variable('"\\ud800"'),
            AUTH,
        ),
        Case(
            "lone surrogate in a webhook label",
            "POST",
            g,
            raw_json(create_vars(label="@@").decode().replace("@@", "\\udc00")),
            AUTH,
        ),
        Case(
            "lone surrogate in a header value",
            "POST",
            g,
            raw_json(
                create_vars(url=LOOPBACK_URL + "/s", headers=[{"key": "X-A", "value": "@@"}])
                .decode()
                .replace("@@", "\\ud800")
            ),
            AUTH,
        ),
        Case(
            "lone surrogate in operationName",
            "POST",
            g,
            raw_json('{"query":"query A { webhooks { id } }","operationName":"\\ud800"}'),
            AUTH,
        ),
        Case(
            "lone surrogate in the query text",
            "POST",
            g,
            raw_json('{"query":"{ webhook(id: \\"\\ud800\\") { id } }"}'),
            AUTH,
            ANY_ERROR,
        ),
        Case(
            "UTF-16 body with a lone surrogate",
            "POST",
            g,
            with_variable('"\\ud800"').decode().encode("utf-16"),
            AUTH,
        ),
        Case(
            "surrogate pair (an emoji) in a label",
            "POST",
            g,
            raw_json(
                create_vars(url=LOOPBACK_URL + "/e", label="@@")
                .decode()
                .replace("@@", "\\ud83d\\ude00")
            ),
            AUTH,
            SERVED,
        ),
        Case(
            "NaN in variables",
            "POST",
            g,
            with_variable("NaN"),
            AUTH,
        ),
        Case(
            "Infinity in variables",
            "POST",
            g,
            with_variable("[Infinity,-Infinity]"),
            AUTH,
        ),
        Case(
            "5000-digit number",
            "POST",
            g,
            with_variable("9" * 5000),
            AUTH,
        ),
        # huge variables
        Case("900 KB label", "POST", g, create_vars(label="x" * 900_000), AUTH, SERVED),
        Case(
            "50 000 variables",
            "POST",
            g,
            gql_body(QUERY, {f"v{i}": i for i in range(50_000)}),
            AUTH,
            SERVED,
        ),
        Case(
            "100 000 event types",
            "POST",
            g,
            create_vars(eventTypes=["PATIENT_CREATED"] * 30_000),
            AUTH,
            SERVED,
        ),
        # wrong JSON types
        *[
            Case(f"body {raw!r}", "POST", g, raw, AUTH)
            for raw in (
                b"",
                b"[]",
                b'"q"',
                b"null",
                b"1",
                b"true",
                b"{}",
                b'{"query": 1}',
                b'{"query": null}',
                b'{"query": ""}',
                b'{"query": ["x"]}',
                b'{"query": "{ webhooks { id } }", "variables": []}',
                b'{"query": "{ webhooks { id } }", "variables": "x"}',
                b'{"query": "{ webhooks { id } }", "operationName": 1}',
            )
        ],
        Case(
            "unknown operationName",
            "POST",
            g,
            gql_body("query A { webhooks { id } }", operationName="B"),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case(
            "two operations, no name",
            "POST",
            g,  # strawberry runs the first one
            gql_body("query A { webhooks { id } } query B { webhooks { id } }"),
            AUTH,
            NO_5XX,
        ),
        Case(
            "subscription operation",
            "POST",
            g,
            gql_body("subscription { webhooks { id } }"),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case(
            "input of the wrong type",
            "POST",
            g,
            gql_body(CREATE, {"input": "x"}),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case("url of the wrong type", "POST", g, create_vars(url=1), AUTH, GRAPHQL_ERROR),
        Case(
            "unknown enum value", "POST", g, create_vars(eventTypes=["NOPE"]), AUTH, GRAPHQL_ERROR
        ),
        Case(
            "id as an object",
            "POST",
            g,
            gql_body("query($id: ID!) { webhook(id: $id) { id } }", {"id": {"a": 1}}),
            AUTH,
            GRAPHQL_ERROR,
        ),
        Case("missing non-null variable", "POST", g, gql_body(CREATE, {}), AUTH, GRAPHQL_ERROR),
        Case("extra input field", "POST", g, create_vars(extra=1), AUTH, GRAPHQL_ERROR),
        # content types
        *[
            Case(
                f"content type {ct or 'missing'}",
                "POST",
                g,
                gql_body(QUERY),
                {"x-token": TOKEN, "content-type": ct} if ct else {"x-token": TOKEN},
            )
            for ct in (
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "application/graphql",
                "application/jsonp",
                "",
            )
        ],
        # headers
        Case("token of 8 KiB", "POST", g, gql_body(QUERY), {**JSON, "x-token": "t" * 8192}),
        Case(
            "token with Latin-1 bytes",
            "POST",
            g,
            gql_body(QUERY),
            {**JSON, "x-token": "caf\xe9".encode("latin-1")},
        ),
        Case("empty token", "POST", g, gql_body(QUERY), {**JSON, "x-token": ""}),
        Case("bare Bearer", "POST", g, gql_body(QUERY), {**JSON, "x-token": "Bearer"}),
        # methods
        *[
            Case(f"{m} /graphql", m, g, gql_body(QUERY), AUTH)
            for m in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")
        ],
        Case("GET /graphql?query=", "GET", g + "?query=%7Bwebhooks%7Bid%7D%7D", None, AUTH),
        Case("unknown route", "GET", "/nope"),
        Case("path below /graphql", "POST", "/graphql/extra", gql_body(QUERY), AUTH),
        Case("NUL in a path", "GET", "/__mock/%00"),
        Case("unicode path", "GET", "/__mock/%C3%BC%F0%9F%98%80"),
        Case("surrogate bytes in a path", "GET", "/__mock/deliveries/%ED%A0%80"),
        Case("surrogate bytes in a query", "POST", "/__mock/reset?practiceId=%ED%A0%80"),
        Case("invalid UTF-8 in a query", "GET", "/__mock/deliveries?status=%FF"),
    ]
    return cases


GARBAGE = [
    b"{",
    b"[]",
    b"null",
    b'"x"',
    b"1",
    b"\xff\xfe\x00",
    bytes(range(256)),
    b'{"a": NaN}',
    b'{"a": "\\ud800"}',
    raw_json('{"a": ' + nested(100_000) + "}"),
    raw_json('{"a": ' + nested(990) + "}"),
    raw_json('{"a": ' + "9" * 5000 + "}"),
]


def control_cases() -> list[Case]:
    routes = [
        ("POST", "/__mock/reset"),
        ("POST", "/__mock/reset?practiceId=%00"),
        ("POST", "/__mock/practices"),
        ("GET", "/__mock/practices"),
        ("POST", "/__mock/tokens"),
        ("PUT", "/__mock/clock"),
        ("DELETE", "/__mock/clock"),
        ("PUT", "/__mock/state"),
        ("POST", "/__mock/events"),
        ("GET", "/__mock/deliveries?status=%00"),
        ("DELETE", "/__mock/requests"),
        ("GET", "/__mock/deliveries/%00"),
        ("POST", "/__mock/deliveries/000000000000000000000000/redeliver"),
        ("GET", "/__mock/health"),
        ("POST", "/__mock/nope"),
    ]
    cases = [
        Case(
            f"{method} {path} with {raw[:12]!r} ({len(raw)} bytes)", method, path, raw, JSON, NO_5XX
        )
        for method, path in routes
        for raw in GARBAGE
    ]
    typed = [
        ("/__mock/practices", {"name": 1}),
        ("/__mock/practices", {"name": "x" * 300}),
        ("/__mock/practices", {"name": "x", "webhooksEnabled": "yes"}),
        ("/__mock/practices", {"name": "@@"}),
        ("/__mock/tokens", {"practiceId": 1, "permissions": []}),
        ("/__mock/tokens", {"practiceId": PRACTICE, "permissions": "all"}),
        ("/__mock/tokens", {"practiceId": PRACTICE, "permissions": ["root"]}),
        ("/__mock/tokens", {"practiceId": PRACTICE, "permissions": [], "token": ""}),
        ("/__mock/tokens", {"practiceId": PRACTICE, "permissions": [], "token": "@@"}),
        ("/__mock/events", {"eventType": 1}),
        ("/__mock/events", {"eventType": "PATIENT_CREATED", "identifiers": [1]}),
        ("/__mock/events", {"eventType": "PATIENT_CREATED", "identifiers": {"": "x"}}),
        ("/__mock/events", {"eventType": "PATIENT_CREATED", "identifiers": {"p": "@@"}}),
        ("/__mock/events", {"eventType": "PATIENT_CREATED", "subscriptionId": "zz"}),
        ("/__mock/events", {"eventType": "PATIENT_CREATED", "wait": "yes"}),
        ("/__mock/events", {"eventType": "PATIENT_CREATED", "practiceId": ["x"]}),
        ("/__mock/events", {"eventType": "PATIENT_CREATED", "nope": 1}),
    ]
    for path, payload in typed:
        text = json.dumps(payload).replace("@@", "\\ud800")
        cases.append(Case(f"POST {path} {text[:60]}", "POST", path, text.encode(), JSON))
    clock = [
        {"frozenAt": 1},
        {"frozenAt": "garbage"},
        {"frozenAt": "9999-99-99T00:00:00Z"},
        {"advanceSeconds": "1"},
        {"advanceSeconds": 1e308},
        {"advanceSeconds": True},
        {"frozenAt": "2026-01-01T00:00:00Z", "advanceSeconds": 1},
        {},
    ]
    cases += [
        Case(f"PUT /__mock/clock {c}", "PUT", "/__mock/clock", json.dumps(c).encode(), JSON)
        for c in clock
    ]
    cases.append(
        Case("PUT /__mock/clock NaN", "PUT", "/__mock/clock", b'{"advanceSeconds": NaN}', JSON)
    )
    states = [
        {"version": 99},
        {"version": 1, "practices": "x", "tokens": [], "subscriptions": []},
        {"version": 1, "practices": [{"id": 1}], "tokens": [], "subscriptions": []},
        {"version": 1, "practices": [], "tokens": [{"token": 1}], "subscriptions": []},
        {"version": 1, "practices": [], "tokens": [], "subscriptions": [{"id": "x"}]},
    ]
    cases += [
        Case(f"PUT /__mock/state {s}"[:80], "PUT", "/__mock/state", json.dumps(s).encode(), JSON)
        for s in states
    ]
    cases += [
        Case("state of 17 MiB", "PUT", "/__mock/state", b" " * (17 * MIB), JSON),
        Case("unknown control route", "GET", "/__mock/nope"),
        Case("deep unknown route", "DELETE", "/__mock/deliveries/x/y/z"),
        Case("unknown delivery filter", "GET", "/__mock/deliveries?colour=red"),
        Case("bad delivery filter", "GET", "/__mock/deliveries?subscriptionId=zz"),
        Case("bad event type filter", "GET", "/__mock/deliveries?eventType=NOPE"),
        Case("reset of an unknown practice", "POST", "/__mock/reset?practiceId=nope"),
        Case("health with DELETE", "DELETE", "/__mock/health"),
        Case("state with POST", "POST", "/__mock/state", b"{}", JSON),
    ]
    return cases


def judge(case: Case, response: httpx.Response) -> str | None:
    """Why this answer is wrong, or None."""
    status = response.status_code
    if status >= 500:
        return f"HTTP {status}: {response.text[:200]}"
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {status} without a JSON body: {response.text[:100]!r}"
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    if "INTERNAL_SERVER_ERROR" in codes:
        return f"internal error: {body}"
    clear_4xx = 400 <= status < 500 and (
        bool(codes and all(codes)) or isinstance(body.get("error"), str)
    )
    graphql_error = status == 200 and bool(codes) and all(codes)
    if case.expect == CLIENT_ERROR and not clear_4xx:
        return f"expected a clear 4xx, got {status}: {response.text[:200]}"
    if case.expect == GRAPHQL_ERROR and not graphql_error:
        return f"expected a GraphQL error, got {status}: {response.text[:200]}"
    if case.expect == ANY_ERROR and not (clear_4xx or graphql_error):
        return f"expected a 4xx or a GraphQL error, got {status}: {response.text[:200]}"
    elif case.expect == SERVED and (status != 200 or "errors" in body):
        return f"expected to be served, got {status}: {response.text[:200]}"
    elif status >= 400 and not (codes or isinstance(body.get("error"), str)):
        return f"a {status} without an error message: {response.text[:200]}"
    return None


def setup(client: httpx.Client) -> None:
    """One subscription and one delivery, so that lists and journals have content."""
    created = client.post(
        "/graphql", content=create_vars(url=LOOPBACK_URL + "/setup"), headers=AUTH
    )
    assert created.json()["data"]["createWebhook"]["error"] is None, created.text
    fired = client.post("/__mock/events", json={"eventType": "PATIENT_CREATED"})
    assert fired.status_code == 200, fired.text


def still_serving(client: httpx.Client) -> list[str]:
    """Every read a user may make next; a bad request must not have broken any."""
    problems = []
    reads = [
        ("GET", "/__mock/health", None),
        ("POST", "/graphql", {"query": LIST, "variables": {"all": True}}),
        ("GET", "/__mock/requests", None),
        ("GET", "/__mock/deliveries", None),
        ("GET", "/__mock/state", None),
        ("GET", "/__mock/practices", None),
    ]
    for method, path, body in reads:
        try:
            response = client.request(method, path, json=body, headers={"x-token": TOKEN})
            ok = response.status_code == 200 and "errors" not in response.json()
        except (httpx.HTTPError, ValueError) as exc:
            ok, response = False, None  # type: ignore[assignment]
            problems.append(f"{method} {path}: {type(exc).__name__}")
            continue
        if not ok:
            problems.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
    return problems


def send_raw(port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Write bytes to the server and read until it answers or closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


ACCEPTED_RAW = {"header of 64 KiB": ("2", "4")}  # others: a 4xx, or a closed connection
RAW = [
    (
        "Content-Length not a number",
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nx-token: test-token\r\n"
        b"Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}",
    ),
    (
        "Content-Length of a terabyte",
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nx-token: test-token\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1099511627776\r\n\r\n{}",
    ),
    (
        "negative Content-Length",
        b"POST /graphql HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: -5\r\n\r\n{}",
    ),
    (
        "Content-Length and chunked",
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n0\r\n\r\n",
    ),
    (
        "bad chunk size",
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    ),
    (
        "truncated body",
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nx-token: test-token\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query"',
    ),
    (
        "truncated control-plane body",
        b"POST /__mock/practices HTTP/1.1\r\nHost: x\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name"',
    ),
    (
        "truncated chunked body",
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nx-token: test-token\r\n"
        b'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"que',
    ),
    ("garbage request line", b"HELLO THERE\r\n\r\n"),
    ("binary garbage", bytes(range(256)) * 4),
    ("header without colon", b"GET /__mock/health HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n"),
    (
        "header of 64 KiB",
        b"GET /__mock/health HTTP/1.1\r\nHost: x\r\nx-big: " + b"a" * 65536 + b"\r\n\r\n",
    ),
    ("HTTP/0.9 request", b"GET /\r\n"),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    ("TLS hello", bytes.fromhex("16030100a5010000a10303") + b"\x00" * 160),
]


def test_bad_input_catalogue(cli_server: Callable[..., CliServer], figures: Figures) -> None:
    # record mode: events are signed and journaled, nothing is sent anywhere
    server = cli_server("--delivery-mode", "record", name="bad-input")
    port = int(server.url.rsplit(":", 1)[1])
    failures: list[str] = []
    statuses: dict[str, int] = {}
    cases = graphql_cases() + control_cases()
    # no keep-alive: every request on its own connection (the server closes a connection
    # after a fault, and one case must not break the next)
    client = server.client(timeout=20, limits=httpx.Limits(max_keepalive_connections=0))
    for case in cases:
        setup(client)
        try:
            response = client.request(
                case.method, case.path, content=case.body, headers=case.headers
            )
        except httpx.HTTPError as exc:
            failures.append(f"{case.name}: {type(exc).__name__}: {exc}")
            response = None
        if response is not None:
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            problem = judge(case, response)
            if problem is not None:
                failures.append(f"{case.name}: {problem}")
        failures.extend(f"{case.name}: afterwards {b}" for b in still_serving(client))
        # back to the start-up state, so that each case is judged on its own
        assert client.delete("/__mock/clock").status_code == 200
        assert client.post("/__mock/reset").status_code == 200
    raw_answers = {}
    for name, data in RAW:
        answer = send_raw(port, data)
        status_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
        raw_answers[name] = status_line or "(closed)"
        parts = status_line.split()
        allowed = ACCEPTED_RAW.get(name, ("4",))
        if answer and not (len(parts) >= 2 and parts[1].startswith(allowed)):
            failures.append(f"raw {name}: answered {status_line!r}")
        failures.extend(f"raw {name}: afterwards {b}" for b in still_serving(client))
    assert client.post("/graphql", json={"query": QUERY}, headers=AUTH).status_code == 200
    client.close()
    server.terminate()
    logs = server.logs()
    if "Traceback" in logs:
        failures.append("a traceback in the logs: " + logs[logs.index("Traceback") :][:1500])
    figures.record(
        "bad_input",
        http_cases=len(cases),
        raw_socket_cases=len(RAW),
        statuses=dict(sorted(statuses.items())),
        raw_answers=raw_answers,
        failures=len(failures),
        failing_cases=failures[:60],
    )
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


# -- query cost: fragments that multiply ---------------------------------------------------


def doubling_fragments(levels: int, leaf: str) -> str:
    """``F(n)`` spreads ``F(n-1)`` twice: ``2**levels`` expansions in ~12 tokens a level."""
    fragments = [f"fragment F0 on Query {{ {leaf} }}"] + [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)
    ]
    return f"query Bomb {{ ...F{levels} }}\n" + "\n".join(fragments)


BOMBS = {
    "spread doubling, 40 levels": doubling_fragments(40, "webhooks { id }"),
    "spread doubling, 600 levels": doubling_fragments(600, "webhooks { id }"),
    "alias doubling, 40 levels": doubling_fragments(40, "a: webhooks { id }"),
    "wide: 100 fragments spread 50 times each": "query Wide { ...W99 }\n"
    + "fragment W0 on Query { webhooks { id } }\n"
    + "\n".join(
        f"fragment W{i} on Query {{ {' '.join(f'...W{i - 1}' for _ in range(50))} }}"
        for i in range(1, 100)
    ),
}
BOMB_BUDGET = 5.0  # seconds; a linear-time validation answers in milliseconds


@pytest.fixture(scope="module")
def bomb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliServer]:
    server = CliServer(log_dir=tmp_path_factory.mktemp("bomb"), name="bomb")
    server.start()
    yield server
    server.kill()  # a server stuck validating cannot act on SIGTERM


@pytest.mark.parametrize("name", list(BOMBS))
def test_fragment_bombs_are_answered_quickly(
    bomb_server: CliServer, figures: Figures, name: str
) -> None:
    """Query cost is bounded: a document within the size and token limits whose
    fragments multiply must not make validation exponential (the server's one event
    loop would be blocked for every client)."""
    if bomb_server.proc is None or bomb_server.proc.poll() is not None:
        pytest.fail("the server died in an earlier bomb")
    started = time.monotonic()
    try:
        response = httpx.post(
            bomb_server.graphql_url,
            json={"query": BOMBS[name]},
            headers={"x-token": TOKEN},
            timeout=BOMB_BUDGET,
        )
    except httpx.TimeoutException:
        bomb_server.kill()
        pytest.fail(f"{name}: no answer within {BOMB_BUDGET} s (the server was killed)")
    elapsed = time.monotonic() - started
    figures.record(
        "fragment_bombs", **{name: {"seconds": round(elapsed, 3), "status": response.status_code}}
    )
    assert response.status_code == 200
    assert "INTERNAL_SERVER_ERROR" not in response.text
    health = httpx.get(bomb_server.url + "/__mock/health", timeout=BOMB_BUDGET)
    assert health.status_code == 200


# -- the clock at the ends of its range ----------------------------------------------------

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.mark.parametrize(
    "frozen_at", ["0001-01-02T00:00:00Z", "0999-12-31T23:59:59Z", "9999-12-30T00:00:00.000Z"]
)
def test_extreme_frozen_clock_keeps_timestamps_iso_and_state_reloadable(frozen_at: str) -> None:
    """The control plane accepts any ISO-8601 instant in the clock's range (0001-01-02 to
    9999-12-30, issue 13); every DateTime the mock writes must stay ISO-8601 (four-digit
    year), so that its own state export loads again."""
    with MockSembleServer(delivery_mode="record") as server:
        clock = server.freeze_clock(frozen_at)
        sub = server.create_webhook(LOOPBACK_URL)
        [delivery] = server.fire("PATIENT_CREATED")
        stamps = [clock["now"], sub["createdAt"], sub["updatedAt"], delivery["createdAt"]]
        stamps += [a["at"] for a in delivery["attempts"]]
        assert all(ISO.match(s) for s in stamps), stamps
        assert delivery["status"] in ("recorded", "failed")
        assert delivery["status"] == "recorded" or delivery["attempts"][-1]["error"]
        state = server.state()
        assert server.load_state(state)  # the export of any state loads again
        assert server.state()["subscriptions"] == state["subscriptions"]
