"""A hypothesis state machine drives the HTTP API from two practices and checks every
answer against a small reference model (conflicts, soft delete, isolation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from conftest import CREATE, DELETE, GET, LIST, UPDATE
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from mock_semble.core.settings import Settings
from mock_semble.core.tenancy import ALL_PERMISSIONS, PracticeSeed, TokenSeed
from mock_semble.testing import MockSembleServer

P1, P2 = "0000000000000000000000a1", "0000000000000000000000a2"
TOKENS = {P1: "token-one", P2: "token-two"}
# url -> normalised key, or None when invalid (written out by hand: independent of rules.py)
URLS = {
    "https://a.example.com/h": "https://a.example.com/h",
    "HTTPS://A.Example.COM:443/h": "https://a.example.com/h",
    "https://a.example.com/H": "https://a.example.com/H",
    "https://a.example.com:8443/h": "https://a.example.com:8443/h",
    "https://b.example.com/h?x=1": "https://b.example.com/h?x=1",
    "http://a.example.com/h": None,
    "https://user@a.example.com/h": None,
}
EVENTS = ["PATIENT_CREATED", "PATIENT_UPDATED", "PATIENT_DELETED"]
LABELS = {"hook": True, "  ": False, "x" * 256: True, "x" * 257: False}

event_lists = st.lists(st.sampled_from(EVENTS), min_size=0, max_size=4)


@dataclass
class Sub:
    id: str
    practice: str
    key: str
    events: list[str]
    label: str
    secret: str
    deleted: bool = False
    paused: bool = False
    headers: list[dict[str, str]] | None = field(default=None)


def events_error(events: list[str]) -> str | None:
    if not 1 <= len(events) <= 10:
        return "eventTypes must contain between 1 and 10 event types"
    if len(set(events)) != len(events):
        return "eventTypes must not contain duplicates"
    return None


@pytest.fixture(scope="module")
def server() -> Any:
    config = Settings(
        practices=(PracticeSeed("One", P1), PracticeSeed("Two", P2)),
        tokens=tuple(TokenSeed(TOKENS[p], p, ALL_PERMISSIONS) for p in (P1, P2)),
    )
    with MockSembleServer(config) as running:
        yield running


class WebhookMachine(RuleBasedStateMachine):
    server: MockSembleServer
    subs = Bundle("subs")

    def __init__(self) -> None:
        super().__init__()
        self.http = httpx.Client(base_url=self.server.url)
        self.http.post("/__mock/reset").raise_for_status()
        self.model: dict[str, Sub] = {}

    def teardown(self) -> None:
        self.http.close()

    def call(self, practice: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        r = self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"x-token": TOKENS[practice]},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert "errors" not in body, body
        return body

    def conflicts(
        self, practice: str, key: str, events: list[str], ignore: str | None = None
    ) -> bool:
        return any(
            s.practice == practice
            and not s.deleted
            and s.id != ignore
            and s.key == key
            and set(s.events) & set(events)
            for s in self.model.values()
        )

    @rule(
        target=subs,
        practice=st.sampled_from([P1, P2]),
        url=st.sampled_from(list(URLS)),
        events=event_lists,
        label=st.sampled_from(list(LABELS)),
    )
    def create(self, practice: str, url: str, events: list[str], label: str) -> Any:
        body = self.call(
            practice, CREATE, {"input": {"url": url, "eventTypes": events, "label": label}}
        )
        payload = body["data"]["createWebhook"]
        key = URLS[url]
        if key is None:
            expected = "url must be a valid HTTPS URL"
        elif events_error(events):
            expected = events_error(events)
        elif not LABELS[label]:
            expected = "label must be between 1 and 256 characters"
        elif self.conflicts(practice, key, events):
            expected = (
                "A webhook subscription with this url and an overlapping event type already exists"
            )
        else:
            expected = None
        assert payload["error"] == expected
        if expected is not None:
            assert payload["data"] is None
            return "0" * 24  # a missing id is a useful target too
        data = payload["data"]
        assert (
            data["url"] == url
            and data["eventTypes"] == events
            and data["secret"].startswith("whsec_")
        )
        self.model[data["id"]] = Sub(data["id"], practice, key, events, label, data["secret"])
        return data["id"]

    @rule(
        practice=st.sampled_from([P1, P2]),
        sub_id=subs,
        url=st.none() | st.sampled_from(list(URLS)),
        events=st.none() | event_lists,
        paused=st.none() | st.booleans(),
    )
    def update(
        self,
        practice: str,
        sub_id: str,
        url: str | None,
        events: list[str] | None,
        paused: bool | None,
    ) -> None:
        changes: dict[str, Any] = {}
        if url is not None:
            changes["url"] = url
        if events is not None:
            changes["eventTypes"] = events
        if paused is not None:
            changes["deliveryPaused"] = paused
        body = self.call(practice, UPDATE, {"id": sub_id, "input": changes})
        payload = body["data"]["updateWebhook"]
        sub = self.model.get(sub_id)
        if sub is None or sub.practice != practice or sub.deleted:
            assert payload == {"data": None, "error": "Webhook not found"}
            return
        key = sub.key if url is None else URLS[url]
        new_events = sub.events if events is None else events
        if key is None:
            expected = "url must be a valid HTTPS URL"
        elif events is not None and events_error(events):
            expected = events_error(events)
        elif self.conflicts(practice, key, new_events, ignore=sub.id):
            expected = (
                "A webhook subscription with this url and an overlapping event type already exists"
            )
        else:
            expected = None
        assert payload["error"] == expected
        if expected is None:
            sub.key, sub.events = key, new_events
            sub.paused = sub.paused if paused is None else paused
            assert payload["data"]["secret"] == sub.secret
            assert payload["data"]["eventTypes"] == sub.events
            assert payload["data"]["deliveryPaused"] is sub.paused

    @rule(practice=st.sampled_from([P1, P2]), sub_id=subs)
    def delete(self, practice: str, sub_id: str) -> None:
        payload = self.call(practice, DELETE, {"id": sub_id})["data"]["deleteWebhook"]
        sub = self.model.get(sub_id)
        if sub is None or sub.practice != practice or sub.deleted:
            assert payload == {"data": None, "error": "Webhook not found"}
            return
        assert payload["error"] is None and payload["data"]["deleted"] is True
        assert payload["data"]["secret"] is None
        sub.deleted = True

    @rule(practice=st.sampled_from([P1, P2]), sub_id=subs)
    def get(self, practice: str, sub_id: str) -> None:
        got = self.call(practice, GET, {"id": sub_id})["data"]["webhook"]
        sub = self.model.get(sub_id)
        if sub is None or sub.practice != practice:
            assert got is None
        else:
            assert got["id"] == sub_id and got["deleted"] is sub.deleted and got["secret"] is None

    @invariant()
    def lists_match_the_model(self) -> None:
        for practice in (P1, P2):
            for include_deleted in (False, True):
                body = self.call(practice, LIST, {"all": include_deleted})
                seen = [
                    (s["id"], s["eventTypes"], s["deleted"], s["deliveryPaused"])
                    for s in body["data"]["webhooks"]
                ]
                expected = [
                    (s.id, s.events, s.deleted, s.paused)
                    for s in self.model.values()
                    if s.practice == practice and (include_deleted or not s.deleted)
                ]
                assert seen == expected

    @invariant()
    def no_two_live_subscriptions_conflict(self) -> None:
        live = [s for s in self.model.values() if not s.deleted]
        for i, a in enumerate(live):
            for b in live[i + 1 :]:
                assert not (
                    a.practice == b.practice and a.key == b.key and set(a.events) & set(b.events)
                )


def test_api_against_reference_model(server: MockSembleServer) -> None:
    WebhookMachine.server = server
    run = WebhookMachine.TestCase
    run.settings = settings(
        max_examples=int(__import__("os").environ.get("MOCK_SEMBLE_STATEFUL_EXAMPLES", "40")),
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    run().runTest()
