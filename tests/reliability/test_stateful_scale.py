"""The API against a reference model, at scale: three practices with different rights.

- practice A: one token with all four permissions;
- practice B: a token without ``deleteWebhooks`` and a read-only token (``seeWebhooks``);
- practice C: webhooks disabled (its token holds every permission, and is refused anyway).

A hypothesis state machine creates, updates, deletes, reads and fires events with every
token, against URLs that collide across practices (and, after normalisation, within one).
After every step: each token's lists equal the model; the store (``GET /__mock/state``)
holds exactly the model's subscriptions, each in its own practice with the secret the
client saw; no two live subscriptions of a practice conflict; C holds nothing.
Deliveries run in ``record`` mode: events reach only their practice's matching
subscriptions, and nothing is sent anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule

from mock_semble.core.settings import Settings
from mock_semble.core.tenancy import Permission, PracticeSeed, TokenSeed
from mock_semble.testing import MockSembleServer

from .helpers import (
    CREATE,
    DELETE,
    EVENTS,
    GET,
    LIST,
    MSG_CONFLICT,
    MSG_DISABLED,
    MSG_NOT_FOUND,
    UPDATE,
    Figures,
    conflicts,
    env_number,
)

EXAMPLES = int(env_number("MOCK_SEMBLE_STATEFUL_SCALE_EXAMPLES", 80))
STEPS = int(env_number("MOCK_SEMBLE_STATEFUL_SCALE_STEPS", 60))

PA, PB, PC = "0000000000000000000000a1", "0000000000000000000000b2", "0000000000000000000000c3"
ALL = frozenset(Permission)


@dataclass(frozen=True)
class Caller:
    token: str
    practice: str
    permissions: frozenset[Permission]
    enabled: bool

    def refusal(self, needed: Permission) -> str | None:
        """The FORBIDDEN message this caller gets for ``needed`` (permission first)."""
        if needed not in self.permissions:
            return f"Missing permission: {needed.value}"
        if not self.enabled:
            return MSG_DISABLED
        return None


CALLERS = {
    "a-full": Caller("tok-a-full", PA, ALL, True),
    "b-nodelete": Caller("tok-b-nodelete", PB, ALL - {Permission.DELETE_WEBHOOKS}, True),
    "b-readonly": Caller("tok-b-readonly", PB, frozenset({Permission.SEE_WEBHOOKS}), True),
    "c-disabled": Caller("tok-c-disabled", PC, ALL, False),
}
# sampled with repeats: most calls come from callers that may write
WRITERS = ["a-full", "a-full", "a-full", "b-nodelete", "b-nodelete", "b-readonly", "c-disabled"]
# url -> normalised key (None: invalid), written out by hand
URLS = {
    "https://hooks.example.com/h": "https://hooks.example.com/h",
    "HTTPS://Hooks.Example.COM:443/h": "https://hooks.example.com/h",
    "https://hooks.example.com/h?x=1": "https://hooks.example.com/h?x=1",
    "https://hooks.example.com:8443/h": "https://hooks.example.com:8443/h",
    "https://other.example.com/h": "https://other.example.com/h",
    "http://hooks.example.com/h": None,
    "https://user@hooks.example.com/h": None,
}
LABELS = {"hook": True, "ü" * 256: True, "\U0001f600" * 129: False, " \t": False}
HEADERS: dict[str, str | None] = {  # name -> expected error, for a one-header list
    "X-Env": None,
    "x-Env-2": None,
    "Host": "invalid header: key 'Host' is reserved",
    "Bad Key": "invalid header: key 'Bad Key' is not a valid HTTP header name",
}
# mostly valid lists (so that subscriptions pile up and collide), sometimes invalid ones
event_lists = st.lists(st.sampled_from(EVENTS), min_size=1, max_size=3, unique=True) | st.lists(
    st.sampled_from(EVENTS), min_size=0, max_size=4
)
labels = st.sampled_from(["hook", "hook", "hook", "ü" * 256, "\U0001f600" * 129, " \t"])
headers = st.sampled_from([None, None, None, None, "X-Env", "x-Env-2", "Host", "Bad Key"])
CODES = {
    "url must be a valid HTTPS URL": "INVALID_URL",
    "eventTypes must contain between 1 and 10 event types": "INVALID_EVENT_TYPES",
    "eventTypes must not contain duplicates": "INVALID_EVENT_TYPES",
    "label must be between 1 and 256 characters": "INVALID_LABEL",
    MSG_CONFLICT: "CONFLICT",
    MSG_NOT_FOUND: "NOT_FOUND",
}


def events_error(events: list[str]) -> str | None:
    if not 1 <= len(events) <= 10:
        return "eventTypes must contain between 1 and 10 event types"
    if len(set(events)) != len(events):
        return "eventTypes must not contain duplicates"
    return None


@dataclass
class Sub:
    id: str
    practice: str
    url: str
    key: str
    events: list[str]
    label: str
    headers: list[dict[str, str]] | None
    secret: str
    deleted: bool = False
    paused: bool = False

    def as_listed(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "secret": None,
            "url": self.url,
            "label": self.label,
            "eventTypes": self.events,
            "headers": self.headers,
            "deleted": self.deleted,
            "deliveryPaused": self.paused,
        }


def without_times(sub: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sub.items() if k not in ("createdAt", "updatedAt")}


class Counters:
    examples = 0
    steps = 0
    calls = 0
    outcomes: ClassVar[dict[str, int]] = {}


class ScaleMachine(RuleBasedStateMachine):
    server: ClassVar[MockSembleServer]
    subs = Bundle("subs")

    def __init__(self) -> None:
        super().__init__()
        self.http = httpx.Client(base_url=self.server.url, timeout=30)
        self.http.post("/__mock/reset").raise_for_status()
        self.model: dict[str, Sub] = {}
        Counters.examples += 1

    def teardown(self) -> None:
        self.http.close()

    # -- plumbing -------------------------------------------------------------------

    def call(self, who: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"x-token": CALLERS[who].token},
        )
        Counters.calls += 1
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def outcome(self, name: str) -> None:
        Counters.outcomes[name] = Counters.outcomes.get(name, 0) + 1

    def payload(
        self, who: str, field: str, needed: Permission, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The payload, or None after checking a FORBIDDEN answer."""
        refusal = CALLERS[who].refusal(needed)
        if refusal is not None:
            # webhooks is non-null ([WebhookSubscription!]!): its null propagates to data
            assert body["data"] == (None if field == "webhooks" else {field: None}), body
            [error] = body["errors"]
            assert error["message"] == refusal and error["extensions"]["code"] == "FORBIDDEN"
            self.outcome(f"{field}: FORBIDDEN")
            return None
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"][field]
        return payload

    def conflicting(self, practice: str, key: str, events: list[str], ignore: str = "") -> bool:
        return any(
            s.practice == practice
            and not s.deleted
            and s.id != ignore
            and s.key == key
            and set(s.events) & set(events)
            for s in self.model.values()
        )

    def expect_payload_error(self, field: str, body: dict[str, Any], expected: str) -> None:
        assert body["data"][field] == {"data": None, "error": expected}, body
        code = CODES.get(expected, "INVALID_HEADERS")
        [error] = body["extensions"]["payloadErrors"]
        assert error == {
            "path": [field],
            "status": error["status"],
            "code": code,
            "message": expected,
        }
        self.outcome(f"{field}: {code}")

    # -- rules ------------------------------------------------------------------------

    @rule(
        target=subs,
        who=st.sampled_from(WRITERS),
        url=st.sampled_from(list(URLS)),
        events=event_lists,
        label=labels,
        header=headers,
    )
    def create(self, who: str, url: str, events: list[str], label: str, header: str | None) -> Any:
        Counters.steps += 1
        given: dict[str, Any] = {"url": url, "eventTypes": events, "label": label}
        headers = None if header is None else [{"key": header, "value": "v"}]
        if headers is not None:
            given["headers"] = headers
        body = self.call(who, CREATE, {"input": given})
        payload = self.payload(who, "createWebhook", Permission.CREATE_WEBHOOKS, body)
        if payload is None:
            return multiple()
        practice, key = CALLERS[who].practice, URLS[url]
        expected: str | None
        if key is None:
            expected = "url must be a valid HTTPS URL"
        elif events_error(events):
            expected = events_error(events)
        elif not LABELS[label]:
            expected = "label must be between 1 and 256 characters"
        elif header is not None and HEADERS[header]:
            expected = HEADERS[header]
        elif self.conflicting(practice, key, events):
            expected = MSG_CONFLICT
        else:
            expected = None
        if expected is not None:
            self.expect_payload_error("createWebhook", body, expected)
            return multiple()
        assert key is not None
        data = payload["data"]
        assert payload["error"] is None and data["secret"].startswith("whsec_")
        sub = Sub(data["id"], practice, url, key, events, label, headers, data["secret"])
        assert without_times(data) == {**sub.as_listed(), "secret": sub.secret}
        assert data["id"] not in self.model
        self.model[sub.id] = sub
        self.outcome("createWebhook: ok")
        return sub.id

    @rule(
        target=subs,
        who=st.sampled_from(["a-full", "b-nodelete"]),
        url=st.sampled_from([u for u, key in URLS.items() if key is not None]),
        events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=2, unique=True),
    )
    def create_valid(self, who: str, url: str, events: list[str]) -> Any:
        """Well-formed creates, so that subscriptions pile up and collide."""
        return self.create(who, url, events, "hook", None)

    @rule(
        who=st.sampled_from(WRITERS),
        sub_id=subs,
        url=st.none() | st.sampled_from(list(URLS)),
        events=st.none() | event_lists,
        label=st.none() | labels,
        paused=st.none() | st.booleans(),
        clear_headers=st.booleans(),
    )
    def update(
        self,
        who: str,
        sub_id: str,
        url: str | None,
        events: list[str] | None,
        label: str | None,
        paused: bool | None,
        clear_headers: bool,
    ) -> None:
        Counters.steps += 1
        changes: dict[str, Any] = {}
        if url is not None:
            changes["url"] = url
        if events is not None:
            changes["eventTypes"] = events
        if label is not None:
            changes["label"] = label
        if paused is not None:
            changes["deliveryPaused"] = paused
        if clear_headers:
            changes["headers"] = []
        body = self.call(who, UPDATE, {"id": sub_id, "input": changes})
        payload = self.payload(who, "updateWebhook", Permission.EDIT_WEBHOOKS, body)
        if payload is None:
            return
        practice = CALLERS[who].practice
        sub = self.model.get(sub_id)
        if sub is None or sub.practice != practice or sub.deleted:
            self.expect_payload_error("updateWebhook", body, MSG_NOT_FOUND)
            return
        key = sub.key if url is None else URLS[url]
        new_events = sub.events if events is None else events
        expected: str | None
        if key is None:
            expected = "url must be a valid HTTPS URL"
        elif events is not None and events_error(events):
            expected = events_error(events)
        elif label is not None and not LABELS[label]:
            expected = "label must be between 1 and 256 characters"
        elif self.conflicting(practice, key, new_events, ignore=sub.id):
            expected = MSG_CONFLICT
        else:
            expected = None
        if expected is not None:
            self.expect_payload_error("updateWebhook", body, expected)
            return
        assert key is not None
        if url is not None:
            sub.url, sub.key = url, key
        sub.events = new_events
        sub.label = sub.label if label is None else label
        sub.paused = sub.paused if paused is None else paused
        sub.headers = [] if clear_headers else sub.headers
        assert without_times(payload["data"]) == {**sub.as_listed(), "secret": sub.secret}
        self.outcome("updateWebhook: ok")

    @rule(
        who=st.sampled_from(["a-full", "b-nodelete"]),
        sub_id=subs,
        url=st.sampled_from([u for u, key in URLS.items() if key is not None]),
        events=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=2, unique=True),
        paused=st.none() | st.booleans(),
    )
    def update_valid(
        self, who: str, sub_id: str, url: str, events: list[str], paused: bool | None
    ) -> None:
        """Well-formed updates onto colliding URLs: successes and conflicts."""
        self.update(who, sub_id, url, events, None, paused, False)

    @rule(who=st.sampled_from(WRITERS), sub_id=subs)
    def delete(self, who: str, sub_id: str) -> None:
        Counters.steps += 1
        body = self.call(who, DELETE, {"id": sub_id})
        payload = self.payload(who, "deleteWebhook", Permission.DELETE_WEBHOOKS, body)
        if payload is None:
            return
        sub = self.model.get(sub_id)
        if sub is None or sub.practice != CALLERS[who].practice or sub.deleted:
            self.expect_payload_error("deleteWebhook", body, MSG_NOT_FOUND)
            return
        sub.deleted = True
        assert payload["error"] is None
        assert without_times(payload["data"]) == sub.as_listed()  # secret: null
        self.outcome("deleteWebhook: ok")

    @rule(who=st.sampled_from(WRITERS), sub_id=subs)
    def get(self, who: str, sub_id: str) -> None:
        Counters.steps += 1
        body = self.call(who, GET, {"id": sub_id})
        if self.payload(who, "webhook", Permission.SEE_WEBHOOKS, body) is None:
            got = None
        else:
            got = body["data"]["webhook"]
            sub = self.model.get(sub_id)
            if sub is None or sub.practice != CALLERS[who].practice:
                assert got is None  # another practice's subscription is simply missing
            else:
                assert without_times(got) == sub.as_listed()
        self.outcome("webhook: " + ("null" if got is None else "found"))

    @rule(
        who=st.sampled_from(WRITERS),
        sub_id=st.sampled_from(["0" * 24, "not-an-object-id", ""]),
        operation=st.sampled_from(["update", "delete", "get"]),
    )
    def touch_missing(self, who: str, sub_id: str, operation: str) -> None:
        """Ids that never existed are missing, like another practice's."""
        if operation == "update":
            self.update(who, sub_id, None, None, "renamed", None, False)
        elif operation == "delete":
            self.delete(who, sub_id)
        else:
            self.get(who, sub_id)

    @rule(practice=st.sampled_from([PA, PB, PC]), event=st.sampled_from(EVENTS))
    def fire(self, practice: str, event: str) -> None:
        Counters.steps += 1
        response = self.http.post(
            "/__mock/events", json={"eventType": event, "practiceId": practice}
        )
        Counters.calls += 1
        if practice == PC:
            assert response.status_code == 409, response.text
            assert response.json() == {"error": MSG_DISABLED}
            self.outcome("fire: disabled")
            return
        assert response.status_code == 200, response.text
        got = {d["subscriptionId"]: d["status"] for d in response.json()["deliveries"]}
        expected = {
            s.id: "skipped_paused" if s.paused else "recorded"
            for s in self.model.values()
            if s.practice == practice and not s.deleted and event in s.events
        }
        assert got == expected
        self.outcome("fire: delivered")

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def every_token_lists_what_the_model_holds(self) -> None:
        for who, caller in CALLERS.items():
            for include_deleted in (False, True):
                if who == "b-readonly" and not include_deleted:
                    continue  # b-nodelete lists the same practice
                body = self.call(who, LIST, {"all": include_deleted})
                refusal = caller.refusal(Permission.SEE_WEBHOOKS)
                if refusal is not None:
                    assert body["data"] is None and body["errors"][0]["message"] == refusal
                    continue
                expected = [
                    s.as_listed()
                    for s in self.model.values()
                    if s.practice == caller.practice and (include_deleted or not s.deleted)
                ]
                assert [without_times(s) for s in body["data"]["webhooks"]] == expected

    @invariant()
    def the_store_is_the_model(self) -> None:
        state = self.http.get("/__mock/state").json()
        Counters.calls += 1
        stored = {s["id"]: s for s in state["subscriptions"]}
        assert set(stored) == set(self.model)
        for sub_id, sub in self.model.items():
            record = stored[sub_id]
            assert record["practiceId"] == sub.practice  # isolation: never moved
            assert record["secret"] == sub.secret  # the secret the client saw on create
            assert (record["deleted"], record["deliveryPaused"]) == (sub.deleted, sub.paused)
            assert (record["url"], record["eventTypes"]) == (sub.url, sub.events)
        assert not any(s["practiceId"] == PC for s in stored.values())
        assert not conflicts(stored.values())


@pytest.fixture(scope="module")
def server() -> Iterator[MockSembleServer]:
    config = Settings(
        practices=(
            PracticeSeed("Full", PA, True),
            PracticeSeed("No delete", PB, True),
            PracticeSeed("Disabled", PC, False),
        ),
        tokens=tuple(TokenSeed(c.token, c.practice, c.permissions) for c in CALLERS.values()),
    )
    with MockSembleServer(config, delivery_mode="record") as running:
        yield running


def test_three_practices_against_the_model_at_scale(
    server: MockSembleServer, figures: Figures
) -> None:
    ScaleMachine.server = server
    Counters.examples = Counters.steps = Counters.calls = 0
    Counters.outcomes = {}
    run = ScaleMachine.TestCase
    run.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    run().runTest()
    figures.record(
        "stateful_scale",
        max_examples=EXAMPLES,
        step_count=STEPS,
        examples_run=Counters.examples,
        rule_steps=Counters.steps,
        http_calls=Counters.calls,
        outcomes=dict(sorted(Counters.outcomes.items())),
    )
    assert Counters.examples >= EXAMPLES
    # every class of outcome was reached, so the invariants were tested against each
    for needed in (
        "createWebhook: ok",
        "createWebhook: CONFLICT",
        "createWebhook: FORBIDDEN",
        "updateWebhook: ok",
        "updateWebhook: NOT_FOUND",
        "updateWebhook: CONFLICT",
        "deleteWebhook: ok",
        "deleteWebhook: FORBIDDEN",
        "fire: delivered",
        "fire: disabled",
    ):
        assert Counters.outcomes.get(needed, 0) > 0, (needed, Counters.outcomes)
