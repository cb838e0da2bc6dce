"""Every documented limit, on both sides, through the HTTP API (SPEC §1.4, §2.4, §4, §7).

Expected values — limits, messages, codes, reserved header names — are written here from
the SPEC as literals, never imported from the code under test: a change of a limit or a
message in the code must fail a test here.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_semble.testing import MockSembleServer
from mock_semble.testing.receiver import WebhookReceiver

PRACTICE = "000000000000000000000001"
MIB = 1024 * 1024

MSG_URL = "url must be a valid HTTPS URL"
MSG_EVENT_COUNT = "eventTypes must contain between 1 and 10 event types"
MSG_EVENT_DUPLICATES = "eventTypes must not contain duplicates"
MSG_LABEL = "label must be between 1 and 256 characters"
MSG_TOO_LARGE_PREFIX = "Request body is larger than 1 MiB"
# SPEC §1.4: Semble's own headers and every signing header of §2.3.
RESERVED_HEADERS = [
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
    "user-agent",
    "x-webhook-signature",
    "x-webhook-timestamp",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
]
ELEVEN_EVENT_TYPES = [
    "patient.created",
    "patient.updated",
    "patient.deleted",
    "patient.archived",
    "patient.unarchived",
    "patient.label.added",
    "patient.label.removed",
    "patient.phone.added",
    "patient.phone.updated",
    "patient.phone.removed",
    "patient.relationship.added",
]
GRIN = "\U0001f600"  # one code point, two UTF-16 code units

CREATE = """mutation Create($input: CreateWebhookInput!) {
  createWebhook(input: $input) { data { id label eventTypes headers { key value } url } error }
}"""
UPDATE = """mutation Update($id: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(id: $id, input: $input) { data { id label eventTypes headers { key } } error }
}"""

strings_mode = pytest.mark.mock_semble(event_types="strings")


def create(
    server: MockSembleServer,
    *,
    url: str = "https://hooks.example/boundary",
    event_types: list[str] | None = None,
    label: str = "boundary",
    headers: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """createWebhook's payload (``data`` and ``error``) and its payload error, if any."""
    webhook_input: dict[str, Any] = {
        "url": url,
        "eventTypes": ["PATIENT_CREATED"] if event_types is None else event_types,
        "label": label,
    }
    if headers is not None:
        webhook_input["headers"] = [{"key": k, "value": v} for k, v in headers]
    result = server.execute(CREATE, {"input": webhook_input})
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["createWebhook"]
    payload["payloadErrors"] = result.get("extensions", {}).get("payloadErrors", [])
    return payload


def assert_refused(payload: dict[str, Any], message: str, code: str) -> None:
    assert payload["data"] is None
    assert payload["error"] == message
    assert payload["payloadErrors"] == [
        {"path": ["createWebhook"], "status": 400, "code": code, "message": message}
    ]


def assert_header_refused(payload: dict[str, Any]) -> None:
    assert payload["data"] is None
    assert payload["error"].startswith("invalid header: ")
    [error] = payload["payloadErrors"]
    assert (error["status"], error["code"]) == (400, "INVALID_HEADERS")


def subscription_count(server: MockSembleServer) -> int:
    return len(server.state()["subscriptions"])


# -- eventTypes: 1 to 10, no repeats -------------------------------------------------------------


@strings_mode
def test_ten_event_types_are_accepted_and_eleven_refused(mock_semble: MockSembleServer) -> None:
    ten = create(mock_semble, event_types=ELEVEN_EVENT_TYPES[:10])
    assert ten["error"] is None and ten["data"]["eventTypes"] == ELEVEN_EVENT_TYPES[:10]
    eleven = create(mock_semble, url="https://hooks.example/11", event_types=ELEVEN_EVENT_TYPES)
    assert_refused(eleven, MSG_EVENT_COUNT, "INVALID_EVENT_TYPES")
    one = create(mock_semble, url="https://hooks.example/1", event_types=["patient.created"])
    assert one["error"] is None
    none = create(mock_semble, url="https://hooks.example/0", event_types=[])
    assert_refused(none, MSG_EVENT_COUNT, "INVALID_EVENT_TYPES")
    twice = create(mock_semble, url="https://hooks.example/2", event_types=["patient.created"] * 2)
    assert_refused(twice, MSG_EVENT_DUPLICATES, "INVALID_EVENT_TYPES")
    assert subscription_count(mock_semble) == 2


@strings_mode
def test_an_update_to_eleven_event_types_is_refused_and_changes_nothing(
    mock_semble: MockSembleServer,
) -> None:
    sub = create(mock_semble, event_types=["patient.created"])["data"]
    before = mock_semble.state()
    result = mock_semble.execute(
        UPDATE, {"id": sub["id"], "input": {"eventTypes": ELEVEN_EVENT_TYPES}}
    )
    assert result["data"]["updateWebhook"] == {"data": None, "error": MSG_EVENT_COUNT}
    assert mock_semble.state() == before
    ten = mock_semble.execute(
        UPDATE, {"id": sub["id"], "input": {"eventTypes": ELEVEN_EVENT_TYPES[1:]}}
    )
    assert ten["data"]["updateWebhook"]["data"]["eventTypes"] == ELEVEN_EVENT_TYPES[1:]


# -- label: 1 to 256 UTF-16 code units, not blank ------------------------------------------------


@pytest.mark.parametrize(
    ("label", "accepted"),
    [
        ("a", True),
        ("a" * 256, True),
        ("a" * 257, False),
        (GRIN * 128, True),  # 128 code points, 256 code units
        ("a" + GRIN * 128, False),  # 129 code points, 257 code units
        ("a" * 255 + GRIN, False),  # 256 code points, 257 code units
        ("a" * 254 + GRIN, True),  # 255 code points, 256 code units
        ("", False),
        ("   ", False),
    ],
)
def test_label_length_is_counted_in_utf16_code_units(
    mock_semble: MockSembleServer, label: str, accepted: bool
) -> None:
    payload = create(mock_semble, label=label)
    if accepted:
        assert payload["error"] is None and payload["data"]["label"] == label
    else:
        assert_refused(payload, MSG_LABEL, "INVALID_LABEL")
        assert subscription_count(mock_semble) == 0


def test_an_update_to_a_257_unit_label_is_refused(mock_semble: MockSembleServer) -> None:
    sub = create(mock_semble)["data"]
    refused = mock_semble.execute(UPDATE, {"id": sub["id"], "input": {"label": GRIN * 128 + "a"}})
    assert refused["data"]["updateWebhook"] == {"data": None, "error": MSG_LABEL}
    kept = mock_semble.execute(UPDATE, {"id": sub["id"], "input": {"label": GRIN * 128}})
    assert kept["data"]["updateWebhook"]["data"]["label"] == GRIN * 128


# -- url: at most 2048 characters ----------------------------------------------------------------


def test_urls_of_2048_characters_are_accepted_and_2049_refused(
    mock_semble: MockSembleServer,
) -> None:
    base = "https://hooks.example/"
    exact = base + "p" * (2048 - len(base))
    assert len(exact) == 2048
    accepted = create(mock_semble, url=exact)
    assert accepted["error"] is None and accepted["data"]["url"] == exact
    assert_refused(create(mock_semble, url=exact + "p"), MSG_URL, "INVALID_URL")


# -- headers: at most 20; keys 1-256; values at most 4096; reserved names -----------------------


def test_twenty_headers_are_accepted_and_twenty_one_refused(mock_semble: MockSembleServer) -> None:
    twenty = [(f"X-H{n}", str(n)) for n in range(20)]
    accepted = create(mock_semble, headers=twenty)
    assert accepted["error"] is None
    assert [(h["key"], h["value"]) for h in accepted["data"]["headers"]] == twenty
    refused = create(
        mock_semble, url="https://hooks.example/21", headers=[*twenty, ("X-H20", "20")]
    )
    assert_header_refused(refused)
    assert subscription_count(mock_semble) == 1


def test_an_update_to_twenty_one_headers_is_refused(mock_semble: MockSembleServer) -> None:
    sub = create(mock_semble)["data"]
    before = mock_semble.state()
    headers = [{"key": f"X-H{n}", "value": "v"} for n in range(21)]
    result = mock_semble.execute(UPDATE, {"id": sub["id"], "input": {"headers": headers}})
    assert result["data"]["updateWebhook"]["data"] is None
    assert result["data"]["updateWebhook"]["error"].startswith("invalid header: ")
    assert mock_semble.state() == before
    result = mock_semble.execute(UPDATE, {"id": sub["id"], "input": {"headers": headers[:20]}})
    assert len(result["data"]["updateWebhook"]["data"]["headers"]) == 20


@pytest.mark.parametrize(
    ("key", "value", "accepted"),
    [
        ("K" * 256, "v", True),
        ("K" * 257, "v", False),
        ("", "v", False),
        ("X-Value", "v" * 4096, True),
        ("X-Value", "v" * 4097, False),
        ("X-Value", "", True),
    ],
)
def test_header_key_and_value_lengths(
    mock_semble: MockSembleServer, key: str, value: str, accepted: bool
) -> None:
    payload = create(mock_semble, headers=[(key, value)])
    if accepted:
        assert payload["error"] is None
        assert payload["data"]["headers"] == [{"key": key, "value": value}]
    else:
        assert_header_refused(payload)


@pytest.mark.parametrize("name", RESERVED_HEADERS)
def test_every_reserved_header_name_is_refused_in_any_case(
    mock_semble: MockSembleServer, name: str
) -> None:
    for variant in (name, name.upper(), "-".join(p.capitalize() for p in name.split("-"))):
        payload = create(mock_semble, headers=[(variant, "x")])
        assert_header_refused(payload)
        assert variant in payload["error"]
    assert subscription_count(mock_semble) == 0


def test_names_next_to_the_reserved_ones_are_allowed(mock_semble: MockSembleServer) -> None:
    near = [("X-Webhook-Signature-2", "a"), ("Webhook-Ids", "b"), ("Hosts", "c"), ("X-Host", "d")]
    assert create(mock_semble, headers=near)["error"] is None


# -- GraphQL documents: at most 10 000 tokens, depth 20, 30 aliases ------------------------------


def post_graphql(server: MockSembleServer, query: str) -> dict[str, Any]:
    response = httpx.post(
        server.graphql_url, json={"query": query}, headers={"x-token": "test-token"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def event_type_list_document(values: int) -> str:
    """A valid mutation of exactly ``23 + values`` lexical tokens (commas are not tokens):
    mutation { createWebhook ( input : { url : "…" label : "…" eventTypes : [ …values… ] } )
    { error } }"""
    enums = " PATIENT_CREATED" * values
    return (
        'mutation { createWebhook(input: {url: "https://hooks.example/t", label: "t", '
        f"eventTypes: [{enums} ]}}) {{ error }} }}"
    )


def test_a_document_of_10000_tokens_runs_and_10001_is_refused(
    mock_semble: MockSembleServer,
) -> None:
    ran = post_graphql(mock_semble, event_type_list_document(10_000 - 23))
    # it ran: the answer is the rule's payload error, not a limit error
    assert ran["data"] == {"createWebhook": {"error": MSG_EVENT_COUNT}}
    refused = post_graphql(mock_semble, event_type_list_document(10_001 - 23))
    assert refused["data"] is None
    [error] = refused["errors"]
    assert "10000 tokens" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert subscription_count(mock_semble) == 0


def introspection_of_depth(depth: int) -> str:
    """``__schema`` (1) ``queryType`` (2) ``fields`` (3) ``type`` (4), then ``ofType`` nested
    ``depth - 5`` times, then ``name``: ``depth`` fields deep."""
    nested = depth - 5
    return (
        "{ __schema { queryType { fields { type {"
        + " ofType {" * nested
        + " name"
        + " }" * nested
        + " } } } } }"
    )


def test_a_query_20_deep_runs_and_21_deep_is_refused(mock_semble: MockSembleServer) -> None:
    ran = post_graphql(mock_semble, introspection_of_depth(20))
    assert "errors" not in ran and ran["data"]["__schema"]["queryType"]["fields"]
    refused = post_graphql(mock_semble, introspection_of_depth(21))
    assert refused["data"] is None
    [error] = refused["errors"]
    assert "depth of 20" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def aliases(count: int) -> str:
    return "{" + "".join(f" a{n}: __typename" for n in range(count)) + " }"


def test_30_aliases_run_and_31_are_refused(mock_semble: MockSembleServer) -> None:
    ran = post_graphql(mock_semble, aliases(30))
    assert ran == {"data": {f"a{n}": "Query" for n in range(30)}}
    refused = post_graphql(mock_semble, aliases(31))
    assert refused["data"] is None
    [error] = refused["errors"]
    assert "Allowed: 30" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# -- request bodies: 1 MiB, streamed; JSON nested at most 64 deep -------------------------------


def padded(body: bytes, size: int) -> bytes:
    """``body`` followed by JSON white space up to exactly ``size`` bytes."""
    assert len(body) <= size
    return body + b" " * (size - len(body))


def chunks(body: bytes) -> Iterator[bytes]:
    """The body as a stream without Content-Length (chunked transfer encoding)."""
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_graphql_bodies_of_one_mib_are_read_and_one_byte_more_is_413(
    mock_semble: MockSembleServer, streamed: bool
) -> None:
    headers = {"x-token": "test-token", "content-type": "application/json"}
    query = b'{"query": "{ __typename }"}'
    for size, status in [(MIB, 200), (MIB + 1, 413)]:
        body = padded(query, size)
        content = chunks(body) if streamed else body
        response = httpx.post(mock_semble.graphql_url, content=content, headers=headers)
        assert response.status_code == status, size
        if status == 200:
            assert response.json() == {"data": {"__typename": "Query"}}
        else:
            [error] = response.json()["errors"]
            assert error["message"].startswith(MSG_TOO_LARGE_PREFIX)


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_control_bodies_of_one_mib_are_read_and_one_byte_more_is_413(
    mock_semble: MockSembleServer, streamed: bool
) -> None:
    url = mock_semble.url + "/__mock/practices"
    practice = b'{"name": "Padded"}'
    before = mock_semble.state()["practices"]
    over = padded(practice, MIB + 1)
    response = httpx.post(url, content=chunks(over) if streamed else over)
    assert response.status_code == 413
    assert response.json()["error"].startswith(MSG_TOO_LARGE_PREFIX)
    assert mock_semble.state()["practices"] == before
    exact = padded(practice, MIB)
    response = httpx.post(url, content=chunks(exact) if streamed else exact)
    assert response.status_code == 201 and response.json()["name"] == "Padded"


@pytest.mark.parametrize("path", ["/graphql", "/__mock/practices"])
def test_a_declared_length_over_one_mib_is_refused_before_the_body_arrives(
    mock_semble: MockSembleServer, path: str
) -> None:
    """Only the head is sent: the 413 must come without waiting for a body."""
    host, port = mock_semble.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nx-token: test-token\r\n"
            f"Content-Type: application/json\r\nContent-Length: {MIB + 1}\r\n\r\n".encode()
        )
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def nested_variables(depth: int) -> bytes:
    """A /graphql body whose JSON nests ``depth`` deep: the body object (1), ``variables``
    (2), then ``depth - 2`` arrays."""
    arrays = depth - 2
    return (
        b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * arrays + b"]" * arrays + b"}}"
    )


def test_json_nested_64_deep_is_read_and_65_is_refused(mock_semble: MockSembleServer) -> None:
    headers = {"x-token": "test-token", "content-type": "application/json"}
    ok = httpx.post(mock_semble.graphql_url, content=nested_variables(64), headers=headers)
    assert ok.status_code == 200 and ok.json() == {"data": {"__typename": "Query"}}
    deep = httpx.post(mock_semble.graphql_url, content=nested_variables(65), headers=headers)
    assert deep.status_code == 400
    assert deep.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert mock_semble.requests()[-1]["status"] == 400


# -- the control plane's paging and the delivery journal's response bodies ---------------------


@pytest.mark.parametrize(
    ("limit", "status"), [("1", 200), ("1000", 200), ("0", 400), ("1001", 400)]
)
def test_page_limits_are_1_to_1000(mock_semble: MockSembleServer, limit: str, status: int) -> None:
    for route in ("deliveries", "requests"):
        response = httpx.get(f"{mock_semble.url}/__mock/{route}", params={"limit": limit})
        assert response.status_code == status, route
        if status == 400:
            assert "'limit'" in response.json()["error"]


@pytest.mark.parametrize(("size", "kept"), [(4096, 4096), (4097, 4096)])
def test_response_bodies_are_journaled_up_to_4_kib(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver, size: int, kept: int
) -> None:
    webhook_receiver.respond_with(200, b"r" * size)
    mock_semble.create_webhook(webhook_receiver.url)
    [delivery] = mock_semble.fire("patient.created")
    assert delivery["status"] == "succeeded"
    assert delivery["attempts"][0]["responseBody"] == "r" * kept


@strings_mode
@pytest.mark.parametrize(("length", "status"), [(256, 200), (257, 400)])
def test_metadata_strings_are_at_most_256_characters(
    mock_semble: MockSembleServer, length: int, status: int
) -> None:
    response = httpx.post(
        mock_semble.url + "/__mock/events",
        json={
            "eventType": "webhook.event.deliveryFailed",
            "metadata": {"failedEventType": "f" * length},
        },
    )
    assert response.status_code == status, response.text
