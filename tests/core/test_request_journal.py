"""``GET``/``DELETE /__mock/requests``: what each GraphQL request left in the journal —
time, operationName, variables, practice, status, error codes — bounded, never a token."""

from __future__ import annotations

import json

import httpx
import pytest

from mock_semble.testing import MockSembleServer

CREATE = """
mutation Create($input: CreateWebhookInput!) {
  createWebhook(input: $input) { data { id } error }
}
"""
LIST = "query Hooks { webhooks { id } }"
DEFAULT_PRACTICE_ID = "000000000000000000000001"  # SPEC §1.2


def _input(url: str = "https://hooks.example/j") -> dict[str, object]:
    return {"url": url, "eventTypes": ["PATIENT_CREATED"], "label": "journal"}


def test_entries_describe_each_request(mock_semble: MockSembleServer) -> None:
    mock_semble.freeze_clock("2030-05-06T07:08:09.123Z")
    practice = mock_semble.new_practice(permissions=["seeWebhooks"])
    variables = {"input": _input()}
    mock_semble.execute(CREATE, variables, operation_name="Create")
    mock_semble.execute(CREATE, variables)  # conflict: a payload error, still a 200
    practice.execute(CREATE, variables)  # FORBIDDEN
    mock_semble.execute("query Broken { webhooks { nope } }")
    mock_semble.execute("{ webhooks(", token=None)
    httpx.post(mock_semble.graphql_url, json={"query": LIST})  # no token at all
    assert mock_semble.requests() == [
        {
            "time": "2030-05-06T07:08:09.123Z",
            "operationName": "Create",
            "variables": variables,
            "practiceId": DEFAULT_PRACTICE_ID,
            "status": 200,
            "errorCodes": [],
        },
        {
            "time": "2030-05-06T07:08:09.123Z",
            "operationName": "Create",  # the document's operation
            "variables": variables,
            "practiceId": DEFAULT_PRACTICE_ID,
            "status": 200,
            "errorCodes": ["CONFLICT"],  # payload errors are listed too
        },
        {
            "time": "2030-05-06T07:08:09.123Z",
            "operationName": "Create",
            "variables": variables,
            "practiceId": practice.id,
            "status": 200,
            "errorCodes": ["FORBIDDEN"],
        },
        {
            "time": "2030-05-06T07:08:09.123Z",
            "operationName": "Broken",
            "variables": None,
            "practiceId": DEFAULT_PRACTICE_ID,
            "status": 200,
            "errorCodes": ["GRAPHQL_VALIDATION_FAILED"],
        },
        {
            "time": "2030-05-06T07:08:09.123Z",
            "operationName": None,  # no document parsed
            "variables": None,
            "practiceId": DEFAULT_PRACTICE_ID,
            "status": 200,
            "errorCodes": ["GRAPHQL_PARSE_FAILED"],
        },
        {
            "time": "2030-05-06T07:08:09.123Z",
            "operationName": None,
            "variables": None,
            "practiceId": None,
            "status": 401,
            "errorCodes": ["UNAUTHENTICATED"],
        },
    ]


def test_http_refusals_are_journaled_too(mock_semble: MockSembleServer) -> None:
    url = mock_semble.graphql_url
    headers = {"x-token": mock_semble.token or ""}
    httpx.post(url, content=b"{not json", headers={**headers, "content-type": "application/json"})
    httpx.post(url, content=b"query", headers={**headers, "content-type": "text/plain"})
    httpx.post(url, json={"query": LIST, "operationName": "Hooks"}, headers={"x-token": "nope"})
    entries = mock_semble.requests()
    assert [(e["status"], e["errorCodes"], e["practiceId"]) for e in entries] == [
        (400, ["BAD_REQUEST"], None),
        (415, ["UNSUPPORTED_MEDIA_TYPE"], None),
        (401, ["UNAUTHENTICATED"], None),
    ]
    assert entries[2]["operationName"] == "Hooks"


def test_large_variables_are_not_kept(mock_semble: MockSembleServer) -> None:
    label = "x" * 70_000  # the request body is over the 64 KiB the journal keeps
    mock_semble.execute(CREATE, {"input": {**_input(), "label": label}})
    [entry] = mock_semble.requests()
    assert entry["variables"]["truncated"] is True
    assert set(entry["variables"]) == {"truncated", "rendering"}
    assert len(entry["variables"]["rendering"]) <= 4096
    assert len(json.dumps(entry)) < 5000


def test_variables_over_4_kib_are_a_truncated_rendering(mock_semble: MockSembleServer) -> None:
    # SPEC §4: variables are a truncated rendering of at most 4 KiB.
    fits = {"n": "y" * (4096 - len('{"n":""}'))}  # a rendering of exactly 4096 characters
    over = {"n": "y" * (4097 - len('{"n":""}'))}
    mock_semble.execute(LIST, fits)
    mock_semble.execute(LIST, over)
    kept, cut = mock_semble.requests()
    assert kept["variables"] == fits
    assert cut["variables"] == {"truncated": True, "rendering": '{"n":"' + "y" * 4089 + '"'}


@pytest.mark.parametrize("sent", ["{token}", "Bearer {token}", "bearer   {token}"])
def test_the_token_never_appears(mock_semble: MockSembleServer, sent: str) -> None:
    token = "tok-" + "s3cr3t" * 6
    practice_token = mock_semble.new_practice().token
    httpx.post(
        mock_semble.url + "/__mock/tokens",
        json={
            "practiceId": mock_semble.practice_id,
            "permissions": ["seeWebhooks"],
            "token": token,
        },
    ).raise_for_status()
    for secret in (token, practice_token, "unknown-" + token):
        headers = {"x-token": sent.format(token=secret)}
        httpx.post(mock_semble.graphql_url, json={"query": LIST}, headers=headers)
        httpx.post(mock_semble.graphql_url, json={"query": "{"}, headers=headers)
    raw = httpx.get(mock_semble.url + "/__mock/requests").text
    assert len(json.loads(raw)["requests"]) == 6
    for secret in (token, practice_token, "s3cr3t", mock_semble.token or "test-token"):
        assert secret not in raw


def test_delete_clears_and_reset_clears(mock_semble: MockSembleServer) -> None:
    mock_semble.execute(LIST)
    assert len(mock_semble.requests()) == 1
    response = httpx.delete(mock_semble.url + "/__mock/requests")
    assert (response.status_code, response.json()) == (200, {"requests": [], "next": None})
    assert mock_semble.requests() == []
    mock_semble.execute(LIST)
    mock_semble.reset()
    assert mock_semble.requests() == []


def test_control_plane_calls_are_not_journaled(mock_semble: MockSembleServer) -> None:
    mock_semble.new_practice()
    mock_semble.state()
    mock_semble.clock()
    assert mock_semble.requests() == []


@pytest.mark.mock_semble(request_journal_size=3)
def test_the_journal_is_a_bounded_ring_buffer(mock_semble: MockSembleServer) -> None:
    for n in range(10):
        mock_semble.execute(LIST, operation_name="Hooks", variables={"n": n})
    assert [e["variables"]["n"] for e in mock_semble.requests()] == [7, 8, 9]
    # per-practice resets leave the (global) journal alone
    mock_semble.reset(mock_semble.practice_id)
    assert len(mock_semble.requests()) == 3
