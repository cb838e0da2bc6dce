"""API fault rules (SPEC §4.1) over a real socket: every action, matching, ``times``,
``probability`` under ``--seed``, the request journal, and that a faulted request
changes nothing — for webhook and patient operations alike (no per-domain code)."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_semble.testing import MockSembleServer

SEED = 11
TOKEN = "test-token"
PRACTICE = "000000000000000000000001"
RATE_LIMITED_MESSAGE = "You are making requests too often. Please try again later."

LIST_HOOKS = "query ListHooks { webhooks { id } }"
CREATE_HOOK = """mutation AddHook($input: CreateWebhookInput!) {
  createWebhook(input: $input) { data { id secret } error } }"""
HOOK_INPUT = {
    "input": {"url": "https://example.com/h", "eventTypes": ["PATIENT_CREATED"], "label": "h"}
}
CREATE_PATIENT = """mutation AddPatient($data: CreatePatientDataInput) {
  createPatient(patientData: $data) { data { id firstName } error } }"""
PATIENT_INPUT = {"data": {"first": "Ada", "last": "Lovelace"}}


@pytest.fixture(scope="module")
def server() -> Iterator[MockSembleServer]:
    with MockSembleServer(seed=SEED) as started:
        yield started


@pytest.fixture(autouse=True)
def fresh(server: MockSembleServer) -> None:
    server.reset()


def gql(
    server: MockSembleServer,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = TOKEN,
    operation_name: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if operation_name is not None:
        body["operationName"] = operation_name
    headers = {} if token is None else {"x-token": token}
    return server.http.post("/graphql", json=body, headers=headers)


def add_rule(server: MockSembleServer, **rule: Any) -> dict[str, Any]:
    response = server.http.post("/__mock/faults", json=rule)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def faulted(response: httpx.Response) -> bool:
    """True when the answer is the test rule's graphql_error."""
    return response.json().get("errors", [{}])[0].get("message") == "injected"


INJECTED = {"type": "graphql_error", "message": "injected", "code": "TEST_FAULT"}


# -- each action ------------------------------------------------------------------------


def test_graphql_error_answers_once_and_is_counted_and_journaled(
    server: MockSembleServer,
) -> None:
    rule = add_rule(server, action=INJECTED)
    assert rule == {
        "id": rule["id"],
        "target": "api",
        "match": {},
        "action": INJECTED,
        "times": 1,
        "probability": 1.0,
        "hits": 0,
    }
    first = gql(server, LIST_HOOKS)
    assert first.status_code == 200
    assert first.json() == {
        "errors": [{"message": "injected", "extensions": {"code": "TEST_FAULT"}}],
        "data": None,
    }
    assert gql(server, LIST_HOOKS).json() == {"data": {"webhooks": []}}  # times: 1
    assert server.faults()[0]["hits"] == 1
    journal = server.requests()
    assert journal[0]["fault"] == rule["id"]
    assert journal[0]["errorCodes"] == ["TEST_FAULT"]
    assert journal[0]["operationName"] == "ListHooks"
    assert "fault" not in journal[1]


@pytest.mark.parametrize(
    ("action", "content_type", "body"),
    [
        ({"type": "http", "status": 502, "body": "bad gateway"}, "text/plain", b"bad gateway"),
        ({"type": "http", "status": 503, "body": {"down": True}}, "application/json", None),
        (
            {"type": "http", "status": 500, "body": "<p>x</p>", "contentType": "text/html"},
            "text/html",
            b"<p>x</p>",
        ),
        ({"type": "http", "status": 504}, None, b""),
    ],
)
def test_http_action_sends_that_status_body_and_type(
    server: MockSembleServer, action: dict[str, Any], content_type: str | None, body: bytes | None
) -> None:
    add_rule(server, action=action)
    response = gql(server, LIST_HOOKS)
    assert response.status_code == action["status"]
    if content_type is None:
        assert "content-type" not in response.headers
    else:
        assert response.headers["content-type"].startswith(content_type)
    if body is None:
        assert response.json() == {"down": True}
    else:
        assert response.content == body
    assert server.requests()[0]["status"] == action["status"]


def test_rate_limited_preset_is_semble_answer(server: MockSembleServer) -> None:
    add_rule(server, action={"type": "rate_limited"})
    response = gql(server, LIST_HOOKS)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == RATE_LIMITED_MESSAGE
    assert "too often" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_edge_blocked_is_an_html_403(server: MockSembleServer) -> None:
    add_rule(server, action={"type": "edge_blocked"})
    response = gql(server, LIST_HOOKS)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()


def raw_post(server: MockSembleServer, body: bytes) -> bytes:
    """Send one HTTP request over a plain socket; everything the server sent back."""
    port = int(server.url.rsplit(":", 1)[1])
    head = (
        "POST /graphql HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n"
        f"x-token: {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        while chunk := sock.recv(65536):
            received += chunk
            if b"\r\n\r\n" in received and received.startswith(b"HTTP/1.1 200"):
                break  # a normal answer (keep-alive): stop reading
    return received


def test_drop_closes_the_connection_without_a_response(server: MockSembleServer) -> None:
    rule = add_rule(server, action={"type": "drop"}, times=2)
    assert raw_post(server, b'{"query":"{ webhooks { id } }"}') == b""
    with pytest.raises(httpx.RemoteProtocolError):
        gql(server, LIST_HOOKS)
    assert raw_post(server, b'{"query":"{ webhooks { id } }"}').startswith(b"HTTP/1.1 200")
    journal = server.requests()
    assert [(e["status"], e.get("fault")) for e in journal] == [
        (0, rule["id"]),
        (0, rule["id"]),
        (200, None),
    ]


def test_delay_waits_then_runs_without_blocking_others(server: MockSembleServer) -> None:
    rule = add_rule(server, match={"operationName": "Slow"}, action={"type": "delay", "ms": 1500})
    slow_done = threading.Event()
    result: dict[str, Any] = {}

    def slow() -> None:
        started = time.monotonic()
        result["response"] = gql(server, CREATE_HOOK.replace("AddHook", "Slow"), HOOK_INPUT)
        result["elapsed"] = time.monotonic() - started
        slow_done.set()

    thread = threading.Thread(target=slow)
    thread.start()
    deadline = time.monotonic() + 10
    while server.faults()[0]["hits"] == 0:  # the slow request is now waiting
        assert time.monotonic() < deadline, "the delayed request never arrived"
        time.sleep(0.01)
    assert gql(server, LIST_HOOKS).json() == {"data": {"webhooks": []}}
    assert not slow_done.is_set(), "a delayed request held up another request"
    thread.join(10)
    assert slow_done.is_set()
    assert result["elapsed"] >= 1.5
    created = result["response"].json()["data"]["createWebhook"]
    assert created["error"] is None  # then it ran normally: the webhook exists
    hooks = gql(server, LIST_HOOKS).json()["data"]["webhooks"]
    assert hooks == [{"id": created["data"]["id"]}]
    assert [e.get("fault") for e in server.requests()] == [None, rule["id"], None]


# -- authentication comes first ------------------------------------------------------------


def test_401_stays_401_and_is_no_hit(server: MockSembleServer) -> None:
    add_rule(server, action={"type": "drop"}, times=None)
    assert gql(server, LIST_HOOKS, token=None).status_code == 401
    assert gql(server, LIST_HOOKS, token="not-a-token").status_code == 401
    assert server.faults()[0]["hits"] == 0


# -- matching -------------------------------------------------------------------------------


def test_operation_name_is_the_requests_else_the_documents(server: MockSembleServer) -> None:
    add_rule(server, match={"operationName": "Named"}, action=INJECTED, times=None)
    two = "query Named { webhooks { id } } query Other { webhooks { id } }"
    assert faulted(gql(server, two, operation_name="Named"))
    assert not faulted(gql(server, two, operation_name="Other"))
    assert faulted(gql(server, "query Named { webhooks { id } }"))  # the document's name
    assert not faulted(gql(server, "{ webhooks { id } }"))


@pytest.mark.parametrize(
    ("query", "variables", "hit"),
    [
        (CREATE_PATIENT, PATIENT_INPUT, True),
        ('mutation { renamed: createPatient(patientData: {first: "A"}) { error } }', None, True),
        (
            "mutation { ...F } fragment F on Mutation { createPatient { error } }",
            None,
            True,
        ),
        ("query { patients { data { id } } }", None, False),
        (LIST_HOOKS, None, False),
    ],
)
def test_field_matches_a_root_field_whatever_its_alias_or_fragment(
    server: MockSembleServer, query: str, variables: dict[str, Any] | None, hit: bool
) -> None:
    add_rule(server, match={"field": "createPatient"}, action=INJECTED, times=None)
    assert faulted(gql(server, query, variables)) is hit


def test_practice_and_token_matches(server: MockSembleServer) -> None:
    other = server.new_practice("Other")
    add_rule(server, match={"practiceId": other.id}, action=INJECTED, times=None)
    assert not faulted(gql(server, LIST_HOOKS))
    assert faulted(gql(server, LIST_HOOKS, token=other.token))
    server.clear_faults()
    add_rule(server, match={"token": TOKEN}, action=INJECTED, times=None)
    assert faulted(gql(server, LIST_HOOKS))
    assert not faulted(gql(server, LIST_HOOKS, token=other.token))


def test_all_match_keys_must_hold(server: MockSembleServer) -> None:
    add_rule(
        server,
        match={"field": "webhooks", "operationName": "ListHooks", "token": TOKEN},
        action=INJECTED,
        times=None,
    )
    assert faulted(gql(server, LIST_HOOKS))
    assert not faulted(gql(server, "query Other { webhooks { id } }"))


def test_rules_are_tried_in_creation_order(server: MockSembleServer) -> None:
    first = add_rule(server, action={**INJECTED, "message": "first"})
    second = add_rule(server, action={**INJECTED, "message": "second"})
    messages = [gql(server, LIST_HOOKS).json()["errors"][0]["message"] for _ in range(2)]
    assert messages == ["first", "second"]
    assert [r["hits"] for r in server.faults()] == [1, 1]
    assert [e["fault"] for e in server.requests()] == [first["id"], second["id"]]


# -- times and probability ----------------------------------------------------------------------


def test_times_counts_hits_and_null_lasts_until_deleted(server: MockSembleServer) -> None:
    add_rule(server, action=INJECTED, times=3)
    assert [faulted(gql(server, LIST_HOOKS)) for _ in range(5)] == [True] * 3 + [False] * 2
    assert server.faults()[0]["hits"] == 3
    server.clear_faults()
    forever = add_rule(server, action=INJECTED, times=None)
    assert all(faulted(gql(server, LIST_HOOKS)) for _ in range(5))
    assert server.http.delete(f"/__mock/faults/{forever['id']}").json()["hits"] == 5
    assert not faulted(gql(server, LIST_HOOKS))


def test_probability_draws_are_exact_under_the_seed(server: MockSembleServer) -> None:
    # SPEC: drawn from a generator of its own seeded from --seed; a miss is not a hit.
    add_rule(server, action=INJECTED, times=None, probability=0.3)
    draws = random.Random(SEED)
    expected = [draws.random() < 0.3 for _ in range(40)]
    seen = [faulted(gql(server, LIST_HOOKS)) for _ in range(40)]
    assert seen == expected
    assert server.faults()[0]["hits"] == sum(expected)
    server.reset()  # a whole reset restarts the draws
    add_rule(server, action=INJECTED, times=None, probability=0.3)
    assert [faulted(gql(server, LIST_HOOKS)) for _ in range(40)] == expected


def test_a_miss_passes_to_the_next_rule_and_probability_zero_never_hits(
    server: MockSembleServer,
) -> None:
    add_rule(server, action={**INJECTED, "message": "never"}, times=None, probability=0)
    add_rule(server, action=INJECTED, times=2)
    assert [faulted(gql(server, LIST_HOOKS)) for _ in range(3)] == [True, True, False]
    assert [r["hits"] for r in server.faults()] == [0, 2]


# -- nothing changes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables"), [(CREATE_HOOK, HOOK_INPUT), (CREATE_PATIENT, PATIENT_INPUT)]
)
@pytest.mark.parametrize(
    "action",
    [INJECTED, {"type": "http", "status": 500}, {"type": "drop"}, {"type": "rate_limited"}],
)
def test_a_faulted_mutation_changes_nothing(
    server: MockSembleServer, query: str, variables: dict[str, Any], action: dict[str, Any]
) -> None:
    before = server.state()
    add_rule(server, action=action)
    add_rule(server, action=INJECTED, probability=0.5, times=None)  # draws do not shift ids
    with contextlib.suppress(httpx.RemoteProtocolError):  # drop
        gql(server, query, variables)
    assert server.state() == before
    assert server.deliveries() == []
    server.clear_faults()
    made = gql(server, query, variables).json()["data"]
    server.reset()  # the same mutation on an untouched seeded run makes the same record
    assert gql(server, query, variables).json()["data"] == made


# -- rules are runtime data -------------------------------------------------------------------


def test_reset_clears_rules_and_state_documents_have_none(server: MockSembleServer) -> None:
    add_rule(server, action=INJECTED, times=None)
    document = server.state()
    assert "fault" not in str(document).lower()
    server.reset()
    assert server.faults() == []
    assert not faulted(gql(server, LIST_HOOKS))


def test_practice_reset_drops_only_that_practices_rules(server: MockSembleServer) -> None:
    other = server.new_practice("Other")
    add_rule(server, match={"practiceId": other.id}, action=INJECTED, times=None)
    kept = add_rule(server, match={"practiceId": PRACTICE}, action=INJECTED, times=None)
    other.reset()
    assert [r["id"] for r in server.faults()] == [kept["id"]]


def test_inject_fault_handle_removes_its_rule_on_exit(server: MockSembleServer) -> None:
    with server.inject_fault("graphql_error", message="injected", code="X", times=None) as fault:
        assert faulted(gql(server, LIST_HOOKS))
        assert fault.hits == 1
    assert server.faults() == []
    assert fault.rule["hits"] == 1
    assert not faulted(gql(server, LIST_HOOKS))
    with server.inject_fault({"type": "edge_blocked"}, match={"field": "webhooks"}):
        server.reset()  # the rule is gone before the exit: the exit does not fail
