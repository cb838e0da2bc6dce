"""``/__mock/faults`` (SPEC §4.1, §4): strict validation, 404s, the admin guard, and
the rule store's choice (first matching rule in creation order, ``times``) as
properties."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_semble.core.faults import FaultRules
from mock_semble.testing import MockSembleServer

PRACTICE = "000000000000000000000001"


@pytest.fixture(scope="module")
def server() -> Iterator[MockSembleServer]:
    with MockSembleServer(signing_scheme="hmac-sha256-hex") as started:
        yield started


@pytest.fixture(autouse=True)
def fresh(server: MockSembleServer) -> None:
    server.reset()


def post(server: MockSembleServer, body: Any) -> httpx.Response:
    return server.http.post("/__mock/faults", json=body)


def test_created_rule_shape_and_defaults(server: MockSembleServer) -> None:
    response = post(server, {"action": {"type": "drop"}})
    assert response.status_code == 201
    rule = response.json()
    assert rule == {
        "id": rule["id"],
        "target": "api",
        "match": {},
        "action": {"type": "drop"},
        "times": 1,
        "probability": 1.0,
        "hits": 0,
    }
    forever = post(
        server,
        {
            "target": "delivery",
            "match": {"eventType": "PATIENT_CREATED"},
            "action": {"type": "delay"},
            "times": None,
            "probability": 0.25,
        },
    ).json()
    assert forever["times"] is None
    assert forever["probability"] == 0.25
    assert forever["match"] == {"eventType": "patient.created"}
    assert forever["action"] == {"type": "delay", "ms": 1000}
    listed = server.http.get("/__mock/faults").json()
    assert listed == {"faults": [rule, forever]}
    assert server.http.get(f"/__mock/faults/{rule['id']}").json() == rule


def test_delete_one_and_all_and_unknown_ids(server: MockSembleServer) -> None:
    first = post(server, {"action": {"type": "drop"}}).json()
    post(server, {"action": {"type": "edge_blocked"}})
    assert server.http.delete(f"/__mock/faults/{first['id']}").json() == first
    assert server.http.delete(f"/__mock/faults/{first['id']}").status_code == 404
    assert server.http.get(f"/__mock/faults/{first['id']}").status_code == 404
    assert server.http.get("/__mock/faults/fault-999").json() == {
        "error": "unknown fault rule 'fault-999'"
    }
    assert server.http.delete("/__mock/faults").json() == {"faults": []}
    # ids never restart: a stale handle cannot delete a newer rule
    server.reset()
    assert post(server, {"action": {"type": "drop"}}).json()["id"] != first["id"]


BAD_RULES: list[tuple[Any, str]] = [
    ({}, "'action' is required"),
    ({"match": {}}, "'action' is required"),
    ({"action": {"type": "drop"}, "extra": 1}, "unknown field(s): extra"),
    ({"action": "drop"}, "'action' must be a JSON object"),
    ({"action": {"type": "explode"}}, "'action.type' for target 'api' must be one of"),
    ({"action": {"type": "bad_signature"}}, "'bad_signature' is a delivery action"),
    ({"target": "delivery", "action": {"type": "drop"}}, "'drop' is a api action"),
    ({"target": "mail", "action": {"type": "drop"}}, "'target' must be one of api, delivery"),
    ({"action": {"type": "drop", "ms": 5}}, "unknown field(s) of 'action' (drop): ms"),
    ({"action": {"type": "delay"}}, "'action' (delay) needs 'ms'"),
    ({"action": {"type": "delay", "ms": -1}}, "'action.ms' must be a whole number"),
    ({"action": {"type": "delay", "ms": 1.5}}, "'action.ms' must be a whole number"),
    ({"action": {"type": "delay", "ms": 300_001}}, "'action.ms' must be a whole number"),
    ({"action": {"type": "graphql_error", "message": "x"}}, "needs 'code'"),
    ({"action": {"type": "graphql_error", "message": "", "code": "X"}}, "'action.message'"),
    ({"action": {"type": "http", "status": 700}}, "'action.status' must be a whole number"),
    ({"action": {"type": "http", "status": True}}, "'action.status' must be a whole number"),
    ({"action": {"type": "http", "status": 204, "body": "x"}}, "HTTP 204 response has no body"),
    (
        {"action": {"type": "http", "status": 500, "contentType": "text/html\r\nX-A: b"}},
        "'action.contentType'",
    ),
    ({"action": {"type": "drop"}, "times": 0}, "'times' must be a whole number from 1"),
    ({"action": {"type": "drop"}, "times": "2"}, "'times' must be a whole number"),
    ({"action": {"type": "drop"}, "probability": 1.5}, "'probability' must be a number"),
    ({"action": {"type": "drop"}, "probability": True}, "'probability' must be a number"),
    ({"action": {"type": "drop"}, "match": []}, "'match' must be a JSON object"),
    ({"action": {"type": "drop"}, "match": {"url": "x"}}, "unknown match key(s)"),
    ({"action": {"type": "drop"}, "match": {"practiceId": "1"}}, "must be a 24-hex id"),
    ({"action": {"type": "drop"}, "match": {"field": "a b"}}, "must be a GraphQL name"),
    ({"action": {"type": "drop"}, "match": {"token": 5}}, "'match.token' must be a string"),
    (
        {"target": "delivery", "action": {"type": "drop"}, "match": {"eventType": "nope"}},
        "'drop' is a api action",
    ),
    (
        {"target": "delivery", "action": {"type": "duplicate"}, "match": {"eventType": "nope"}},
        "nope",
    ),
    (
        {"target": "delivery", "action": {"type": "duplicate"}, "match": {"field": "x"}},
        "unknown match key(s) for target 'delivery': field",
    ),
    (
        {"target": "delivery", "action": {"type": "stale_timestamp"}},
        "stale_timestamp needs a signing scheme with a timestamp",
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD_RULES)
def test_bad_rules_are_refused_and_store_nothing(
    server: MockSembleServer, body: Any, message: str
) -> None:
    response = post(server, body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert server.faults() == []


def test_unknown_query_parameters_are_refused(server: MockSembleServer) -> None:
    assert server.http.get("/__mock/faults", params={"target": "api"}).status_code == 400


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["target", "match", "action", "times", "probability", "type", "ms"]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=10,
    )
)
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_body_is_a_201_or_a_400_never_a_500(server: MockSembleServer, body: Any) -> None:
    server.http.delete("/__mock/faults")
    response = server.http.post(
        "/__mock/faults",
        content=httpx.Request("POST", "/", json=body).content,
        headers={"content-type": "application/json"},
    )
    assert response.status_code in (201, 400), response.text
    assert len(server.faults()) == (1 if response.status_code == 201 else 0)


def test_admin_token_guards_the_routes(live_server: Any) -> None:
    guarded = live_server(admin_token="s3cret")
    assert guarded.http.get("/__mock/faults").status_code == 401
    assert guarded.http.post("/__mock/faults", json={"action": {"type": "drop"}}).status_code == 401
    guarded.inject_fault("drop")  # the client sends the admin token
    assert len(guarded.faults()) == 1


# -- the store's choice, as properties ------------------------------------------------------------

KEYS = ("operationName", "field", "practiceId")
VALUES = ("a", "b")
matches = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)
facts = st.fixed_dictionaries({k: st.sets(st.sampled_from(VALUES), max_size=2) for k in KEYS})


@given(st.lists(st.tuples(matches, st.integers(1, 3)), max_size=6), st.lists(facts, max_size=8))
def test_first_unspent_matching_rule_in_creation_order_answers(
    rules: list[tuple[dict[str, str], int]], requests: list[dict[str, set[str]]]
) -> None:
    store = FaultRules(seed=0)
    made = [store.add("api", match, {"type": "drop"}, times=times) for match, times in rules]
    hits = [0] * len(made)
    for request in requests:
        expected = None
        for index, (match, times) in enumerate(rules):
            if hits[index] < times and all(v in request[k] for k, v in match.items()):
                expected = index
                break
        chosen = store.take("api", lambda key, request=request: request.get(key, set()))  # type: ignore[misc]
        assert chosen is (None if expected is None else made[expected])
        assert store.take("delivery", lambda key: {"a", "b"}) is None  # other target
        if expected is not None:
            hits[expected] += 1
    assert [rule.hits for rule in store.rules()] == hits


@given(st.integers(1, 5), st.integers(0, 10))
def test_times_caps_hits(times: int, requests: int) -> None:
    store = FaultRules(seed=None)
    rule = store.add("delivery", {}, {"type": "duplicate"}, times=times)
    answered = [store.take("delivery", lambda key: ()) for _ in range(requests)]
    assert rule.hits == min(times, requests)
    assert answered == [rule] * min(times, requests) + [None] * max(0, requests - times)


def test_a_practice_reset_keeps_other_rules_and_a_whole_reset_restarts_draws() -> None:
    store = FaultRules(seed=3)
    mine = store.add("api", {"practiceId": PRACTICE}, {"type": "drop"}, times=None)
    other = store.add("api", {}, {"type": "drop"}, times=None, probability=0.5)
    store.reset("0" * 24)
    assert store.rules() == [mine, other]
    store.reset(PRACTICE)
    assert store.rules() == [other]
    first = [store.take("api", lambda key: ()) is other for _ in range(10)]
    store.reset(None)
    assert store.rules() == []
    again = store.add("api", {}, {"type": "drop"}, times=None, probability=0.5)
    assert [store.take("api", lambda key: ()) is again for _ in range(10)] == first
