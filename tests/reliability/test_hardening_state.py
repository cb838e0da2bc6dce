"""Issue 13, items 1, 2 and 4: the clock stays in range, every exported state document
imports, and header values that could never be sent are refused everywhere.

Expected values come from SPEC §4 and the issue's decisions, written out here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_semble.core.clock import Clock, ClockRangeError, format_datetime, parse_datetime
from mock_semble.testing import MockSembleServer

from .helpers import CREATE, DELETE, UPDATE, graphql

TOKEN = "test-token"
RANGE_MESSAGE = "the clock must stay between 0001-01-02T00:00:00.000Z and 9999-12-30T00:00:00.000Z"
INVALID_HEADERS = "INVALID_HEADERS"
HEADER_MESSAGE = "must be visible ASCII with inner spaces or tabs only"


# -- item 1: the clock's range ------------------------------------------------------------

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)

moves = st.one_of(
    st.tuples(st.just("advance"), st.floats(allow_nan=False, allow_infinity=True)),
    st.tuples(st.just("advance"), st.integers(-(10**12), 10**12)),
    st.tuples(
        st.just("freeze"),
        st.datetimes(timezones=st.just(UTC)),
    ),
    st.tuples(st.just("reset"), st.none()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(moves, max_size=12))
def test_no_sequence_of_clock_calls_leaves_the_range(steps: list[tuple[str, Any]]) -> None:
    clock = Clock()

    def state() -> dict[str, object]:  # real time moves on: "now" only when frozen
        described = clock.describe()
        return described if described["frozen"] else {**described, "now": None}

    for kind, value in steps:
        before = state()
        try:
            if kind == "advance":
                clock.advance(value)
            elif kind == "freeze":
                clock.freeze(value)
            else:
                clock.reset()
        except ClockRangeError:
            assert state() == before  # a refused move changes nothing
        now = clock.now()
        assert EARLIEST <= now <= LATEST + timedelta(days=1)
        assert parse_datetime(format_datetime(now)) == now  # readable again
        clock.timestamp()  # signatures can still be made


@pytest.mark.parametrize(
    ("moves", "message"),
    [
        ([{"advanceSeconds": 3e11}], RANGE_MESSAGE),
        ([{"advanceSeconds": -7e10}], RANGE_MESSAGE),
        ([{"advanceSeconds": 2e11}, {"advanceSeconds": 2e11}], RANGE_MESSAGE),
        ([{"advanceSeconds": 1e308}], "cannot move the clock by 1e+308 seconds"),
        ([{"frozenAt": "9999-12-31T23:59:59Z"}], RANGE_MESSAGE),
        ([{"frozenAt": "2030-01-01T00:00:00Z"}, {"advanceSeconds": 3e11}], RANGE_MESSAGE),
    ],
)
def test_clock_moves_out_of_range_answer_400_and_the_api_keeps_serving(
    http: httpx.Client, moves: list[dict[str, Any]], message: str
) -> None:
    answers = [http.put("/__mock/clock", json=move) for move in moves]
    refused = answers[-1]
    assert refused.status_code == 400
    assert refused.json() == {"error": message}
    assert all(a.status_code == 200 for a in answers[:-1])
    listed = graphql(http, TOKEN, "{ webhooks { id } }")
    assert listed["_status"] == 200 and listed["data"] == {"webhooks": []}
    assert http.get("/__mock/requests").json()["requests"][-1]["status"] == 200


# -- item 2: every exported document imports ---------------------------------------------

URLS = ["https://a.example.com/hook", "https://b.example.com/hook"]
clock_moves = st.one_of(
    st.builds(lambda s: {"advanceSeconds": s}, st.integers(-(10**9), 10**9)),
    st.builds(
        lambda d: {"frozenAt": d.isoformat()},
        st.datetimes(
            min_value=datetime(1000, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
        ),
    ),
)
operations = st.one_of(
    st.tuples(st.just("clock"), clock_moves),
    st.tuples(st.just("create"), st.sampled_from(URLS)),
    st.tuples(st.just("update"), st.integers(0, 3)),
    st.tuples(st.just("delete"), st.integers(0, 3)),
    st.tuples(st.just("unfreeze"), st.none()),
)


def _run(http: httpx.Client, steps: list[tuple[str, Any]]) -> None:
    ids: list[str] = []
    for n, (kind, value) in enumerate(steps):
        if kind == "clock":
            http.put("/__mock/clock", json=value)  # a refusal (400) is fine here
        elif kind == "unfreeze":
            assert http.delete("/__mock/clock").status_code == 200
        elif kind == "create":
            variables = {
                "input": {"url": value, "label": f"l{n}", "eventTypes": ["PATIENT_CREATED"]}
            }
            data = graphql(http, TOKEN, CREATE, variables)["data"]["createWebhook"]["data"]
            if data:
                ids.append(data["id"])
        elif ids:
            sub = ids[value % len(ids)]
            if kind == "update":
                update = {"id": sub, "input": {"label": f"u{n}", "deliveryPaused": n % 2 == 0}}
                graphql(http, TOKEN, UPDATE, update)
            else:
                graphql(http, TOKEN, DELETE, {"id": sub})


def _round_trip(http: httpx.Client) -> None:
    exported = http.get("/__mock/state").json()
    imported = http.put("/__mock/state", json=exported)
    assert imported.status_code == 200, imported.text
    assert http.get("/__mock/state").json() == exported


def test_backwards_clock_between_create_and_update_still_round_trips(http: httpx.Client) -> None:
    """The issue's reproduction: updatedAt before createdAt once broke the import."""
    _run(
        http,
        [
            ("clock", {"frozenAt": "2030-01-01T00:00:00Z"}),
            ("create", URLS[0]),
            ("clock", {"advanceSeconds": -86400}),
            ("update", 0),
        ],
    )
    [sub] = http.get("/__mock/state").json()["subscriptions"]
    assert sub["updatedAt"] == "2029-12-31T00:00:00.000Z"
    assert sub["createdAt"] == "2030-01-01T00:00:00.000Z"
    _round_trip(http)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operations, min_size=1, max_size=12))
def test_export_import_export_is_identical_after_clock_moves_and_operations(
    server: MockSembleServer, steps: list[tuple[str, Any]]
) -> None:
    server.reset()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        _run(http, steps)
        _round_trip(http)


# -- item 4: header values that can never be sent ------------------------------------------

UNSENDABLE = ["café", "😀", " lead", "trail ", "\x01", "a\nb", "a\rb", "\t", "\x7f", "nul\x00"]
SENDABLE = ["plain", "with inner space", "tab\tinside", "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]


def _create_with_header(http: httpx.Client, value: str) -> dict[str, Any]:
    variables = {
        "input": {
            "url": "https://headers.example.com/hook",
            "label": "headers",
            "eventTypes": ["PATIENT_CREATED"],
            "headers": [{"key": "X-Custom", "value": value}],
        }
    }
    return graphql(http, TOKEN, CREATE, variables)


@pytest.mark.parametrize("value", UNSENDABLE)
def test_api_refuses_unsendable_header_values(http: httpx.Client, value: str) -> None:
    answer = _create_with_header(http, value)
    payload = answer["data"]["createWebhook"]
    assert payload["data"] is None
    assert HEADER_MESSAGE in payload["error"]
    assert [e["code"] for e in answer["extensions"]["payloadErrors"]] == [INVALID_HEADERS]
    assert http.get("/__mock/state").json()["subscriptions"] == []


@pytest.mark.parametrize("value", SENDABLE)
def test_accepted_header_values_are_really_sent(http: httpx.Client, value: str) -> None:
    answer = _create_with_header(http, value)
    assert answer["data"]["createWebhook"]["error"] is None
    [delivery] = http.post("/__mock/events", json={"eventType": "PATIENT_CREATED"}).json()[
        "deliveries"
    ]
    assert delivery["attempts"][0]["requestHeaders"]["X-Custom"] == value
    request = httpx.Request("POST", "http://127.0.0.1/", headers={"X-Custom": value})
    assert request.headers["x-custom"] == value  # an HTTP client can send it as is


@pytest.mark.parametrize("value", UNSENDABLE)
def test_state_import_refuses_unsendable_header_values(http: httpx.Client, value: str) -> None:
    assert _create_with_header(http, "ok")["data"]["createWebhook"]["error"] is None
    document = http.get("/__mock/state").json()
    document["subscriptions"][0]["headers"] = [{"key": "X-Custom", "value": value}]
    refused = http.put("/__mock/state", json=document)
    assert refused.status_code == 400
    assert HEADER_MESSAGE in refused.json()["error"]
    [kept] = http.get("/__mock/state").json()["subscriptions"]  # nothing changed
    assert kept["headers"] == [{"key": "X-Custom", "value": "ok"}]
