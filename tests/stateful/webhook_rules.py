"""The webhook rules of the stateful machine (SPEC §1.4, §2.1, §2.5): create, update,
delete, get, list and fire, from every caller, against the model."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import multiple, rule

from mock_semble.testing.documents import (
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    GET_WEBHOOK,
    LIST_WEBHOOKS,
    UPDATE_WEBHOOK,
)

from .base import SUBS, Fired, MachineBase
from .model import (
    HEADERS,
    LABELS,
    MSG_CONFLICT,
    MSG_DISABLED,
    MSG_LABEL,
    MSG_URL,
    MSG_WEBHOOK_NOT_FOUND,
    SUBSCRIPTION_UPDATED,
    UNKNOWN_EVENT,
    URLS,
    VALID_URLS,
    Sub,
    events_error,
    subscribable,
    url_key,
    wire_event,
    without_times,
)

MISSING_IDS = ["0" * 24, "not-an-object-id", ""]
labels = st.sampled_from(["hook", "hook", "hook", *LABELS])
headers = st.sampled_from([None, None, None, None, *HEADERS])


class WebhookRules(MachineBase):
    # -- drawing ----------------------------------------------------------------------

    def event_lists(self, data: st.DataObject, *, valid: bool = False) -> list[str]:
        """Dotted event types: mostly well-formed lists, sometimes broken ones."""
        types = subscribable(self.mode)
        good = st.lists(st.sampled_from(types), min_size=1, max_size=3, unique=True)
        if valid:
            return data.draw(good, label="events")
        pool = types + ((UNKNOWN_EVENT,) if self.mode == "strings" else ())
        bad = st.lists(st.sampled_from(pool), min_size=0, max_size=4)
        return data.draw(good | bad | st.just([types[0]] * 11), label="events")

    def practice_of(self, sub_id: str) -> str | None:
        sub = self.subs.get(sub_id)
        return None if sub is None else sub.practice

    def wire(self, events: list[str]) -> list[str]:
        return [wire_event(self.mode, e) for e in events]

    def conflicting(self, practice: str, key: str, events: list[str], ignore: str = "") -> bool:
        return any(
            s.practice == practice
            and not s.deleted
            and s.id != ignore
            and s.key == key
            and set(s.events) & set(events)
            for s in self.subs.values()
        )

    # -- rules ------------------------------------------------------------------------

    @rule(
        target=SUBS,
        data=st.data(),
        url=st.sampled_from(list(URLS)),
        label=labels,
        header=headers,
    )
    def create(self, data: st.DataObject, url: str, label: str, header: str | None) -> Any:
        return self.create_webhook_as(self.who(data), url, self.event_lists(data), label, header)

    @rule(target=SUBS, data=st.data(), url=st.sampled_from(VALID_URLS))
    def create_valid(self, data: st.DataObject, url: str) -> Any:
        """Well-formed creates, so that subscriptions pile up and collide."""
        return self.create_webhook_as(
            self.who(data), url, self.event_lists(data, valid=True), "hook"
        )

    def create_webhook_as(
        self, who: str, url: str, events: list[str], label: str, header: str | None = None
    ) -> Any:
        self.step()
        given: dict[str, Any] = {"url": url, "eventTypes": self.wire(events), "label": label}
        if header is not None:
            given["headers"] = [{"key": header, "value": "v"}]
        body = self.call(who, CREATE_WEBHOOK, {"input": given})
        payload = self.payload(who, "createWebhook", "createWebhooks", body)
        self.expect_events([])  # creating fires nothing, refused or not
        if payload is None:
            return multiple()
        practice, key = self.scale.callers[who].practice, url_key(url)
        expected = (
            (MSG_URL if key is None else None)
            or events_error(events)
            or (None if LABELS.get(label, True) else MSG_LABEL)
            or (HEADERS[header] if header is not None else None)
            or (MSG_CONFLICT if key and self.conflicting(practice, key, events) else None)
        )
        if expected is not None:
            self.expect_payload_error("createWebhook", body, expected)
            return multiple()
        data = payload["data"]
        assert payload["error"] is None and data["secret"].startswith("whsec_")
        assert data["createdAt"] == data["updatedAt"]
        sub = Sub(
            data["id"], practice, url, events, label, given.get("headers"), data["secret"],
            data["updatedAt"],
        )  # fmt: skip
        assert without_times(data) == {**sub.as_listed(self.mode), "secret": sub.secret}
        assert sub.id not in self.subs
        self.subs[sub.id] = sub
        self.outcome("createWebhook: ok")
        return sub.id

    @rule(
        data=st.data(),
        sub_id=SUBS,
        url=st.none() | st.sampled_from(list(URLS)),
        label=st.none() | labels,
        paused=st.none() | st.booleans(),
        clear_headers=st.booleans(),
    )
    def update(
        self,
        data: st.DataObject,
        sub_id: str,
        url: str | None,
        label: str | None,
        paused: bool | None,
        clear_headers: bool,
    ) -> None:
        events = self.event_lists(data) if data.draw(st.booleans(), label="new events") else None
        who = self.who_for(data, self.practice_of(sub_id))
        self.update_webhook_as(who, sub_id, url, events, label, paused, clear_headers)

    @rule(data=st.data(), sub_id=SUBS, paused=st.booleans())
    def update_valid(self, data: st.DataObject, sub_id: str, paused: bool) -> None:
        """Well-formed updates onto colliding URLs (another live subscription's of the
        same practice, half of the time): successes and conflicts."""
        practice = self.practice_of(sub_id)
        taken = [s.url for s in self.subs.values() if s.practice == practice and not s.deleted]
        urls = st.sampled_from(VALID_URLS)
        url = data.draw(st.sampled_from(taken) | urls if taken else urls, label="url")
        events = self.event_lists(data, valid=True)
        who = self.who_for(data, practice)
        self.update_webhook_as(who, sub_id, url, events, None, paused, False)

    def update_webhook_as(
        self,
        who: str,
        sub_id: str,
        url: str | None,
        events: list[str] | None,
        label: str | None,
        paused: bool | None,
        clear_headers: bool,
    ) -> None:
        self.step()
        changes: dict[str, Any] = {}
        for name, value in (("url", url), ("label", label), ("deliveryPaused", paused)):
            if value is not None:
                changes[name] = value
        if events is not None:
            changes["eventTypes"] = self.wire(events)
        if clear_headers:
            changes["headers"] = []
        body = self.call(who, UPDATE_WEBHOOK, {"id": sub_id, "input": changes})
        payload = self.payload(who, "updateWebhook", "editWebhooks", body)
        if payload is None:
            return self.expect_events([])
        practice = self.scale.callers[who].practice
        sub = self.subs.get(sub_id)
        if sub is None or sub.practice != practice or sub.deleted:
            self.expect_payload_error("updateWebhook", body, MSG_WEBHOOK_NOT_FOUND)
            return self.expect_events([])
        key = sub.key if url is None else url_key(url)
        new_events = sub.events if events is None else events
        expected = (
            (MSG_URL if key is None else None)
            or (None if events is None else events_error(events))
            or (None if label is None or LABELS.get(label, True) else MSG_LABEL)
            or (
                MSG_CONFLICT
                if key and self.conflicting(practice, key, new_events, sub.id)
                else None
            )
        )
        if expected is not None:
            self.expect_payload_error("updateWebhook", body, expected)
            return self.expect_events([])
        before = sub.looks()
        sub.url = sub.url if url is None else url
        sub.events = new_events
        sub.label = sub.label if label is None else label
        sub.paused = sub.paused if paused is None else paused
        sub.headers = [] if clear_headers else sub.headers
        data = payload["data"]
        assert without_times(data) == {**sub.as_listed(self.mode), "secret": sub.secret}
        if changes:
            assert data["updatedAt"] >= sub.updated_at
        else:  # an empty input is a no-op, updatedAt included
            assert data["updatedAt"] == sub.updated_at
        sub.updated_at = data["updatedAt"]
        fired: list[Fired] = []
        if sub.looks() != before:  # SPEC §2.5: only a change fires
            identifiers = {"subscriptionId": sub.id}
            fired.append(
                (practice, SUBSCRIPTION_UPDATED, identifiers, {"deliveryPaused": sub.paused})
            )
        self.expect_events(fired)
        self.outcome("updateWebhook: ok")

    @rule(data=st.data(), sub_id=SUBS)
    def delete(self, data: st.DataObject, sub_id: str) -> None:
        self.delete_webhook_as(self.who_for(data, self.practice_of(sub_id)), sub_id)

    def delete_webhook_as(self, who: str, sub_id: str) -> None:
        self.step()
        body = self.call(who, DELETE_WEBHOOK, {"id": sub_id})
        payload = self.payload(who, "deleteWebhook", "deleteWebhooks", body)
        self.expect_events([])  # deleting fires nothing
        if payload is None:
            return
        sub = self.subs.get(sub_id)
        if sub is None or sub.practice != self.scale.callers[who].practice or sub.deleted:
            self.expect_payload_error("deleteWebhook", body, MSG_WEBHOOK_NOT_FOUND)
            return
        sub.deleted = True
        assert payload["error"] is None
        assert without_times(payload["data"]) == sub.as_listed(self.mode)  # secret: null
        assert payload["data"]["updatedAt"] >= sub.updated_at
        sub.updated_at = payload["data"]["updatedAt"]
        self.outcome("deleteWebhook: ok")

    @rule(data=st.data(), sub_id=SUBS)
    def get(self, data: st.DataObject, sub_id: str) -> None:
        self.get_webhook_as(self.who(data, writers=False), sub_id)

    def get_webhook_as(self, who: str, sub_id: str) -> None:
        self.step()
        body = self.call(who, GET_WEBHOOK, {"id": sub_id})
        if self.forbidden(who, "webhook", "seeWebhooks", body):
            return
        got = body["data"]["webhook"]
        sub = self.subs.get(sub_id)
        if sub is None or sub.practice != self.scale.callers[who].practice:
            assert got is None  # another practice's subscription is simply missing
            self.outcome("webhook: null")
        else:
            assert without_times(got) == sub.as_listed(self.mode)  # deleted ones too
            self.outcome("webhook: found")

    @rule(data=st.data(), include_deleted=st.booleans())
    def list_webhooks(self, data: st.DataObject, include_deleted: bool) -> None:
        self.step()
        who = self.who(data, writers=False)
        body = self.call(who, LIST_WEBHOOKS, {"all": include_deleted})
        if self.forbidden(who, "webhooks", "seeWebhooks", body):
            return
        practice = self.scale.callers[who].practice
        expected = [
            s.as_listed(self.mode)
            for s in self.subs.values()
            if s.practice == practice and (include_deleted or not s.deleted)
        ]
        assert [without_times(s) for s in body["data"]["webhooks"]] == expected
        self.outcome("webhooks: listed")

    @rule(
        data=st.data(),
        sub_id=st.sampled_from(MISSING_IDS),
        operation=st.sampled_from(["update", "delete", "get"]),
    )
    def touch_missing(self, data: st.DataObject, sub_id: str, operation: str) -> None:
        """Ids that never existed are missing, like another practice's."""
        who = self.who(data)
        if operation == "update":
            self.update_webhook_as(who, sub_id, None, None, "renamed", None, False)
        elif operation == "delete":
            self.delete_webhook_as(who, sub_id)
        else:
            self.get_webhook_as(who, sub_id)

    @rule(data=st.data())
    def fire(self, data: st.DataObject) -> None:
        """``POST /__mock/events``: to the practice's listening subscriptions only."""
        self.step()
        practice = data.draw(st.sampled_from(list(self.scale.practices)), label="practice")
        event = data.draw(st.sampled_from(subscribable(self.mode)), label="event")
        response = self.http.post(
            "/__mock/events",
            json={"eventType": wire_event(self.mode, event), "practiceId": practice},
        )
        self.outcomes.calls += 1
        if not self.scale.practices[practice]:
            assert response.status_code == 409, response.text
            assert response.json() == {"error": MSG_DISABLED}
            self.outcome("fire: disabled")
            return self.expect_events([])
        assert response.status_code == 200, response.text
        got = [(d["subscriptionId"], d["status"]) for d in response.json()["deliveries"]]
        listeners = self.listeners(practice, event)
        assert got == [(s.id, "skipped_paused" if s.paused else "recorded") for s in listeners]
        self.expect_events([(practice, event, None, None)])
        self.outcome("fire: ok")
