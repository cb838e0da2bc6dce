"""State documents: ``GET``/``PUT /__mock/state`` and ``--state-file``.

Export is exact and versioned; import validates the whole document and refuses an
invalid one with 400 and no change; a round trip (export -> import -> export) is exact.
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from core.test_seed import cli_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_semble.testing import MockSembleError, MockSembleServer
from mock_semble.testing.receiver import WebhookReceiver

LIST = "{ webhooks(includeDeleted: true) { id url deleted deliveryPaused secret } }"
UPDATE = """
mutation U($id: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(id: $id, input: $input) { data { id secret label } error }
}
"""
DELETE = "mutation D($id: ID!) { deleteWebhook(id: $id) { data { id } error } }"
# SPEC §1.2: the default practice and token.
DEFAULT_PRACTICE_ID = "000000000000000000000001"
DEFAULT_TOKEN = "test-token"
SECRET = "whsec_" + "QUJD" * 10 + "QUI="
P2 = "a" * 24


def _sub(n: int, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"{n:024x}",
        "practiceId": DEFAULT_PRACTICE_ID,
        "url": f"https://hooks.example/{n}",
        "label": f"hook {n}",
        "eventTypes": ["PATIENT_CREATED"],
        "headers": None,
        "secret": SECRET,
        "version": "1",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-02T00:00:00.000Z",
        "deleted": False,
        "deliveryPaused": False,
        **overrides,
    }


DEFAULT_USER = {
    "id": "0000000000000000000000e1",
    "firstName": "Mock",
    "lastName": "User",
    "email": "mock.user@example.com",
}
NO_REFERENCE_DATA: dict[str, list[Any]] = {
    "labels": [],
    "numberTypes": [],
    "memberships": [],
    "accessGroups": [],
}
# SPEC §3: the default practice's fixed reference data.
DEFAULT_REFERENCE_DATA = {
    "labels": [
        {"id": "0000000000000000000000a1", "text": "VIP", "color": "#e53935"},
        {"id": "0000000000000000000000a2", "text": "New patient", "color": "#1e88e5"},
    ],
    "numberTypes": [{"id": "0000000000000000000000b1", "name": "NHS Number"}],
    "memberships": [{"id": "0000000000000000000000c1", "name": "Gold"}],
    "accessGroups": [{"id": "0000000000000000000000d1", "name": "Everyone", "label": "everyone"}],
}
WEBHOOK_PERMISSIONS = ["createWebhooks", "deleteWebhooks", "editWebhooks", "seeWebhooks"]


def valid_v1_document() -> dict[str, Any]:
    """A version 1 document: enum event names, no reference data, no users, no patients."""
    return {
        "version": 1,
        "practices": [
            {"id": DEFAULT_PRACTICE_ID, "name": "Mock Practice", "webhooksEnabled": True},
            {"id": P2, "name": "Second", "webhooksEnabled": False},
        ],
        "tokens": [
            {
                "token": DEFAULT_TOKEN,
                "practiceId": DEFAULT_PRACTICE_ID,
                "permissions": WEBHOOK_PERMISSIONS,
            },
            {"token": "second-token", "practiceId": P2, "permissions": ["seeWebhooks"]},
        ],
        "subscriptions": [
            _sub(1, headers=[{"key": "X-One", "value": "1"}, {"key": "x-two", "value": ""}]),
            _sub(2, url="https://hooks.example/1", deleted=True),  # deleted: no conflict
            _sub(3, eventTypes=["PATIENT_UPDATED", "PATIENT_DELETED"], deliveryPaused=True),
            _sub(4, practiceId=P2, url="https://hooks.example/1"),  # other practice: fine
        ],
    }


def upgraded(v1: dict[str, Any]) -> dict[str, Any]:
    """What a version 1 document exports as once imported (SPEC §4): version 2, dotted
    event types, the default user, no patients; reference data empty except for the
    default practice, which keeps SPEC §3's fixed ids."""
    return {
        "version": 2,
        "practices": [
            {
                **p,
                **(
                    DEFAULT_REFERENCE_DATA
                    if p["id"] == "000000000000000000000001"
                    else NO_REFERENCE_DATA
                ),
            }
            for p in v1["practices"]
        ],
        "tokens": [{**t, "user": DEFAULT_USER} for t in v1["tokens"]],
        "subscriptions": [
            {**sub, "eventTypes": [e.lower().replace("_", ".") for e in sub["eventTypes"]]}
            for sub in v1["subscriptions"]
        ],
        "patients": [],
    }


def valid_document() -> dict[str, Any]:
    """A version 2 document (SPEC §4): reference data, users, dotted event types."""
    document = upgraded(valid_v1_document())
    document["practices"][0].update(DEFAULT_REFERENCE_DATA)
    document["practices"][1].update(
        labels=[{"id": "b" * 23 + "1", "text": "Second label", "color": "#000000"}],
        accessGroups=[{"id": "b" * 23 + "2", "name": "Staff", "label": "staff"}],
    )
    document["tokens"][1]["user"] = {
        "id": "b" * 23 + "3",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
    }
    return copy.deepcopy(document)  # no test may mutate the shared constants


# -- export ---------------------------------------------------------------------------------


def test_export_holds_everything_the_store_holds(mock_semble: MockSembleServer) -> None:
    mock_semble.freeze_clock("2030-03-04T05:06:07.089Z")
    practice = mock_semble.new_practice(
        "Other", permissions=["seeWebhooks"], webhooks_enabled=False
    )
    live = mock_semble.create_webhook(
        "https://hooks.example/live", ["PATIENT_CREATED", "PATIENT_DELETED"], headers={"X-A": "b"}
    )
    gone = mock_semble.create_webhook("https://hooks.example/gone")
    mock_semble.advance_clock(1.5)
    mock_semble.execute(UPDATE, {"id": live["id"], "input": {"deliveryPaused": True}})
    mock_semble.execute(DELETE, {"id": gone["id"]})
    state = mock_semble.state()
    assert state == {
        "version": 2,
        "practices": [
            {
                "id": DEFAULT_PRACTICE_ID,
                "name": "Mock Practice",
                "webhooksEnabled": True,
                **DEFAULT_REFERENCE_DATA,
            },
            {"id": practice.id, "name": "Other", "webhooksEnabled": False, **NO_REFERENCE_DATA},
        ],
        "tokens": [
            {
                "token": DEFAULT_TOKEN,
                "practiceId": DEFAULT_PRACTICE_ID,
                "permissions": [
                    "createPatients",
                    "createWebhooks",
                    "deletePatients",
                    "deleteWebhooks",
                    "editPatients",
                    "editWebhooks",
                    "seePatients",
                    "seeWebhooks",
                ],
                "user": DEFAULT_USER,
            },
            {
                "token": practice.token,
                "practiceId": practice.id,
                "permissions": ["seeWebhooks"],
                "user": DEFAULT_USER,
            },
        ],
        "subscriptions": [
            {
                "id": live["id"],
                "practiceId": DEFAULT_PRACTICE_ID,
                "url": "https://hooks.example/live",
                "label": "test webhook",
                "eventTypes": ["patient.created", "patient.deleted"],
                "headers": [{"key": "X-A", "value": "b"}],
                "secret": live["secret"],
                "version": "1",
                "createdAt": "2030-03-04T05:06:07.089Z",
                "updatedAt": "2030-03-04T05:06:08.589Z",
                "deleted": False,
                "deliveryPaused": True,
            },
            {
                "id": gone["id"],
                "practiceId": DEFAULT_PRACTICE_ID,
                "url": "https://hooks.example/gone",
                "label": "test webhook",
                "eventTypes": ["patient.created"],
                "headers": None,
                "secret": gone["secret"],
                "version": "1",
                "createdAt": "2030-03-04T05:06:07.089Z",
                "updatedAt": "2030-03-04T05:06:08.589Z",
                "deleted": True,
                "deliveryPaused": False,
            },
        ],
        "patients": [],
    }


# -- import -------------------------------------------------------------------------------


def test_import_replaces_the_store_and_round_trips(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    document = valid_document()
    assert mock_semble.load_state(document) == {
        "loaded": {"practices": 2, "tokens": 2, "subscriptions": 4, "patients": 0}
    }
    assert mock_semble.state() == document  # the canonical form comes back unchanged
    with MockSembleServer() as other:  # and into another server
        other.load_state(mock_semble.state())
        assert other.state() == document
    hooks = mock_semble.execute(LIST)["data"]["webhooks"]
    assert [(h["id"], h["deleted"], h["deliveryPaused"], h["secret"]) for h in hooks] == [
        (f"{1:024x}", False, False, None),
        (f"{2:024x}", True, False, None),
        (f"{3:024x}", False, True, None),
    ]
    # the imported secret is the subscription's secret
    updated = mock_semble.execute(UPDATE, {"id": f"{1:024x}", "input": {"label": "renamed"}})
    assert updated["data"]["updateWebhook"]["data"]["secret"] == SECRET
    # the duplicate rule knows the imported subscriptions (and ignores the deleted one)
    conflict = mock_semble.execute(
        UPDATE,
        {
            "id": f"{3:024x}",
            "input": {"url": "https://HOOKS.example:443/1", "eventTypes": ["PATIENT_CREATED"]},
        },
    )
    assert conflict["extensions"]["payloadErrors"][0]["code"] == "CONFLICT"
    # the second practice's token and switch came along
    second = mock_semble.execute(LIST, token="second-token")
    assert second["errors"][0]["message"] == "Webhooks are not enabled for this practice."
    # deliveries are signed with the imported secret
    mock_semble.execute(UPDATE, {"id": f"{1:024x}", "input": {"url": webhook_receiver.url}})
    [delivery] = mock_semble.fire("PATIENT_CREATED")
    assert delivery["status"] == "succeeded"
    assert webhook_receiver.verify(SECRET) == 1


def test_a_version_1_document_still_imports(mock_semble: MockSembleServer) -> None:
    v1 = valid_v1_document()
    assert mock_semble.load_state(v1) == {
        "loaded": {"practices": 2, "tokens": 2, "subscriptions": 4, "patients": 0}
    }
    assert mock_semble.state() == upgraded(v1)
    # the enum names became the dotted types deliveries carry
    [delivery] = mock_semble.fire("patient.updated")
    assert delivery["subscriptionId"] == f"{3:024x}"


def test_a_version_1_document_refuses_dotted_types_and_version_2_enum_names(
    mock_semble: MockSembleServer,
) -> None:
    before = mock_semble.state()
    v1 = valid_v1_document()
    v1["subscriptions"][0]["eventTypes"] = ["patient.created"]
    v2 = valid_document()
    v2["subscriptions"][0]["eventTypes"] = ["PATIENT_CREATED"]
    for document, message in [
        (v1, "subscriptions[0].eventTypes: must be a list of"),
        (v2, "subscriptions[0].eventTypes: invalid event type: PATIENT_CREATED"),
    ]:
        response = httpx.put(mock_semble.url + "/__mock/state", json=document)
        assert response.status_code == 400 and message in response.json()["error"]
    assert mock_semble.state() == before


def test_a_backwards_clock_does_not_make_a_document_unimportable(
    mock_semble: MockSembleServer,
) -> None:
    # SPEC §4 "Every exported document imports": updatedAt before createdAt is kept.
    document = valid_document()
    document["subscriptions"][0]["createdAt"] = "2027-01-01T00:00:00.000Z"
    mock_semble.load_state(document)
    assert mock_semble.state() == document
    mock_semble.load_state(valid_document())
    sub = mock_semble.create_webhook("https://hooks.example/back")
    mock_semble.freeze_clock("2000-01-01T00:00:00.000Z")
    mock_semble.execute(UPDATE, {"id": sub["id"], "input": {"label": "earlier"}})
    exported = mock_semble.state()
    [moved] = [s for s in exported["subscriptions"] if s["id"] == sub["id"]]
    assert moved["updatedAt"] == "2000-01-01T00:00:00.000Z" < moved["createdAt"]
    mock_semble.load_state(exported)
    assert mock_semble.state() == exported


def test_import_clears_the_delivery_journal(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    mock_semble.create_webhook(webhook_receiver.url)
    mock_semble.fire("PATIENT_CREATED")
    mock_semble.execute("{ webhooks { id } }")
    assert mock_semble.deliveries()
    mock_semble.load_state(valid_document())
    assert mock_semble.deliveries() == []  # they named subscriptions that are gone
    assert len(mock_semble.requests()) == 2  # the GraphQL journal is not state


def test_a_whole_reset_returns_to_the_start_up_state(mock_semble: MockSembleServer) -> None:
    start = mock_semble.state()
    document = valid_document()
    document["practices"][0]["name"] = "Renamed"
    mock_semble.load_state(document)
    mock_semble.reset()  # imported data is runtime data: back to the configured start
    assert mock_semble.state() == start
    assert (
        mock_semble.execute(LIST, token="second-token")["errors"][0]["message"] == "Invalid token."
    )


Mutator = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Mutator:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is KeyError:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return mutate


def _append(key: str, item: Any) -> Mutator:
    return lambda doc: doc[key].append(item)


PRACTICE_NAME = "practices[0]: name must be a non-empty string of at most 256 characters"
TOKEN_TEXT = (
    "tokens[1]: token must be 1-256 visible ASCII characters without spaces"
    " and must not start with 'Bearer'"
)
TEN_EVENT_TYPES = [
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
]

INVALID: list[tuple[str, Mutator, str]] = [
    ("version 3", _set("version", 3), "version: must be one of 1, 2"),
    ("version as text", _set("version", "2"), "version: must be one of 1, 2"),
    ("version true", _set("version", True), "version: must be one of 1, 2"),
    ("missing tokens", _set("tokens", KeyError), "missing key(s): tokens"),
    ("unknown top key", _set("deliveries", []), "unknown key(s): deliveries"),
    ("practices not a list", _set("practices", {}), "practices: must be an array"),
    (
        "practice id",
        _set("practices.1.id", "A" * 24),
        "practices[1]: id must be 24 lower-case hex digits",
    ),
    ("duplicate practice", _set("practices.1.id", DEFAULT_PRACTICE_ID), "duplicate practice id"),
    ("blank name", _set("practices.0.name", "  "), PRACTICE_NAME),
    ("name type", _set("practices.0.name", 7), PRACTICE_NAME),
    ("long name", _set("practices.0.name", "n" * 257), PRACTICE_NAME),
    (
        "enabled type",
        _set("practices.0.webhooksEnabled", "yes"),
        "practices[0]: webhooksEnabled must be true or false",
    ),
    (
        "label id",
        _set("practices.0.labels.0.id", "a1"),
        "practices[0].labels #1: id must be 24 lower-case hex digits",
    ),
    (
        "label text",
        _set("practices.0.labels.1.text", ""),
        "practices[0].labels #2: text must be a non-empty string of at most 256 characters",
    ),
    (
        "duplicate label id",
        _set("practices.0.labels.1.id", "0000000000000000000000a1"),
        "practices[0]: duplicate id 0000000000000000000000a1",
    ),
    ("labels type", _set("practices.1.labels", {}), "practices[1]: labels must be a list"),
    (
        "access group extra key",
        _set("practices.1.accessGroups.0.colour", "red"),
        "practices[1].accessGroups #1: unknown key(s): colour",
    ),
    (
        "user email",
        _set("tokens.1.user.email", ""),
        "tokens[1].user: email must be a non-empty string of at most 256 characters",
    ),
    ("user id", _set("tokens.1.user.id", "e1"), "tokens[1].user: id must be 24 lower-case hex"),
    ("user extra key", _set("tokens.1.user.role", "x"), "tokens[1].user: unknown key(s): role"),
    ("practice extra key", _set("practices.0.configured", True), "unknown key(s): configured"),
    (
        "token practice",
        _set("tokens.1.practiceId", "b" * 24),
        "tokens[1]: practiceId must be the id of a known practice",
    ),
    ("duplicate token", _set("tokens.1.token", DEFAULT_TOKEN), "tokens[1].token: duplicate token"),
    ("empty token", _set("tokens.1.token", ""), TOKEN_TEXT),
    ("token with a space", _set("tokens.1.token", "a b"), TOKEN_TEXT),
    ("Bearer token", _set("tokens.1.token", "Bearer-x"), TOKEN_TEXT),
    ("257-character token", _set("tokens.1.token", "t" * 257), TOKEN_TEXT),
    (
        "permission",
        _set("tokens.1.permissions", ["seeWebhooks", "root"]),
        "tokens[1]: unknown permission 'root' (known: seeWebhooks, createWebhooks, editWebhooks,"
        " deleteWebhooks, seePatients, createPatients, editPatients, deletePatients)",
    ),
    (
        "permission twice",
        _set("tokens.1.permissions", ["seeWebhooks"] * 2),
        "must not contain duplicates",
    ),
    ("subscription id", _set("subscriptions.0.id", "x"), "subscriptions[0].id: must be 24"),
    (
        "duplicate subscription",
        _set("subscriptions.3.id", f"{1:024x}"),
        "subscriptions[3].id: duplicate subscription id",
    ),
    (
        "subscription practice",
        _set("subscriptions.0.practiceId", "c" * 24),
        "subscriptions[0].practiceId: unknown practice",
    ),
    (
        "http url",
        _set("subscriptions.0.url", "http://hooks.example/"),
        "subscriptions[0].url: url must be a valid HTTPS URL",
    ),
    (
        "user-info url",
        _set("subscriptions.0.url", "https://u:p@hooks.example/"),
        "url must be a valid HTTPS URL",
    ),
    (
        "blank label",
        _set("subscriptions.0.label", " "),
        "subscriptions[0].label: label must be between 1 and 256",
    ),
    (
        "long label",
        _set("subscriptions.0.label", "\U0001f600" * 129),
        "label must be between 1 and 256",
    ),
    (
        "no events",
        _set("subscriptions.0.eventTypes", []),
        "eventTypes must contain between 1 and 10",
    ),
    (
        "enum name in version 2",
        _set("subscriptions.0.eventTypes", ["PATIENT_CREATED"]),
        "subscriptions[0].eventTypes: invalid event type: PATIENT_CREATED",
    ),
    (
        "11 events",
        _set("subscriptions.0.eventTypes", [*TEN_EVENT_TYPES, "patient.relationship.added"]),
        "subscriptions[0].eventTypes: eventTypes must contain between 1 and 10 event types",
    ),
    (
        "repeated event",
        _set("subscriptions.2.eventTypes", ["patient.updated"] * 2),
        "eventTypes must not contain duplicates",
    ),
    (
        "reserved header",
        _set("subscriptions.0.headers", [{"key": "Content-Type", "value": "x"}]),
        "subscriptions[0].headers: invalid header: key 'Content-Type' is reserved",
    ),
    (
        "header CRLF",
        _set("subscriptions.0.headers", [{"key": "X-A", "value": "a\r\nb"}]),
        "subscriptions[0].headers: invalid header: value of 'X-A' must be visible ASCII with"
        " inner spaces or tabs only",
    ),
    (
        "header twice",
        _set("subscriptions.0.headers", [{"key": "X-A", "value": ""}, {"key": "x-a", "value": ""}]),
        "given more than once",
    ),
    (
        "21 headers",
        _set("subscriptions.0.headers", [{"key": f"X-{n}", "value": ""} for n in range(21)]),
        "at most 20 headers",
    ),
    (
        "header shape",
        _set("subscriptions.0.headers", [{"key": "X-A"}]),
        "headers[0]: missing key(s): value",
    ),
    ("headers type", _set("subscriptions.0.headers", {"X-A": "1"}), "headers: must be an array"),
    (
        "no secret",
        _set("subscriptions.0.secret", KeyError),
        "subscriptions[0]: missing key(s): secret",
    ),
    (
        "null secret",
        _set("subscriptions.0.secret", None),
        "subscriptions[0].secret: must be a string",
    ),
    (
        "bare secret",
        _set("subscriptions.0.secret", "hunter2"),
        "secret: must be 'whsec_' followed by base64",
    ),
    ("bad base64", _set("subscriptions.0.secret", "whsec_###"), "followed by base64"),
    ("empty secret body", _set("subscriptions.0.secret", "whsec_"), "followed by base64"),
    (
        "payload version",
        _set("subscriptions.0.version", "2"),
        'subscriptions[0].version: must be "1"',
    ),
    ("bad time", _set("subscriptions.0.createdAt", "yesterday"), "createdAt: must be an ISO-8601"),
    ("time type", _set("subscriptions.0.updatedAt", 1700000000), "updatedAt: must be an ISO-8601"),
    ("deleted type", _set("subscriptions.0.deleted", "false"), "deleted: must be a boolean"),
    (
        "paused null",
        _set("subscriptions.0.deliveryPaused", None),
        "deliveryPaused: must be a boolean",
    ),
    ("subscription extra key", _set("subscriptions.0.practice", "x"), "unknown key(s): practice"),
    (
        "subscription not object",
        _append("subscriptions", "x"),
        "subscriptions[4]: must be an object",
    ),
    # the duplicate rule: URLs compare with scheme/host lower-cased and default port dropped
    (
        "live conflict",
        _append(
            "subscriptions",
            _sub(9, url="HTTPS://Hooks.Example:443/1", eventTypes=["patient.created"]),
        ),
        "subscriptions[4]: conflicts with subscription 000000000000000000000001",
    ),
    (
        "paused still conflicts",
        _append(
            "subscriptions", _sub(9, url="https://hooks.example/3", eventTypes=["patient.deleted"])
        ),
        "conflicts with subscription 000000000000000000000003",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [pytest.param(m, msg, id=name) for name, m, msg in INVALID]
)
def test_an_invalid_document_is_refused_whole(
    mock_semble: MockSembleServer, mutate: Mutator, message: str
) -> None:
    mock_semble.create_webhook("https://hooks.example/before")
    before = mock_semble.state()
    document = valid_document()
    mutate(document)
    response = httpx.put(mock_semble.url + "/__mock/state", json=document)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("invalid state document: ") and message in error
    assert mock_semble.state() == before
    # an error never echoes a secret
    assert SECRET not in error


@pytest.mark.parametrize("body", [b"", b"[]", b"{", b'"state"'])
def test_a_non_object_body_is_refused(mock_semble: MockSembleServer, body: bytes) -> None:
    before = mock_semble.state()
    response = httpx.put(mock_semble.url + "/__mock/state", content=body)
    assert response.status_code == 400 and isinstance(response.json()["error"], str)
    assert mock_semble.state() == before


def test_lenient_timestamps_are_normalised(mock_semble: MockSembleServer) -> None:
    document = valid_document()
    document["subscriptions"][0]["createdAt"] = "2026-01-01T01:00:00.123456+01:00"
    mock_semble.load_state(document)
    exported = mock_semble.state()
    assert exported["subscriptions"][0]["createdAt"] == "2026-01-01T00:00:00.123Z"
    mock_semble.load_state(exported)
    assert mock_semble.state() == exported


def test_http_localhost_urls_follow_the_server_setting(mock_semble: MockSembleServer) -> None:
    document = valid_document()
    document["subscriptions"][0]["url"] = "http://127.0.0.1:9/hook"
    mock_semble.load_state(document)  # the fixture allows http to localhost
    with (
        MockSembleServer(allow_http_localhost=False) as strict,
        pytest.raises(MockSembleError, match=r"subscriptions\[0\]\.url: url must be a valid HTTPS"),
    ):
        strict.load_state(document)


# -- generated documents ---------------------------------------------------------------------

hex_ids = st.text("0123456789abcdef", min_size=24, max_size=24)
names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
).filter(str.strip)
# SPEC §4: 1-256 visible ASCII characters, no spaces, not starting with "Bearer".
token_texts = st.text("".join(chr(c) for c in range(0x21, 0x7F)), min_size=1, max_size=40).filter(
    lambda t: not t.lower().startswith("bearer")
)
paths = st.from_regex(r"[a-z0-9/]{0,10}", fullmatch=True)
header_keys = st.from_regex(r"X-[A-Za-z0-9]{1,12}", fullmatch=True)
# SPEC §1.4: visible ASCII with inner spaces/tabs, no leading or trailing white space.
header_values = st.text("".join(chr(c) for c in range(0x20, 0x7F)) + "\t", max_size=30).map(
    lambda v: v.strip(" \t")
)
millis = st.integers(min_value=0, max_value=10**12)
PATIENT_EVENTS = ["patient.created", "patient.updated", "patient.deleted"]


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    from mock_semble.core.clock import format_datetime

    return format_datetime(datetime.fromtimestamp(ms / 1000, UTC))


def _reference_data(draw: st.DrawFn, ids: list[str]) -> dict[str, list[dict[str, str]]]:
    def take() -> str:
        return ids.pop()

    def some(make: Callable[[], dict[str, str]]) -> list[dict[str, str]]:
        return [make() for _ in range(draw(st.integers(0, 2)))]

    return {
        "labels": some(lambda: {"id": take(), "text": draw(names), "color": "#00ff00"}),
        "numberTypes": some(lambda: {"id": take(), "name": draw(names)}),
        "memberships": some(lambda: {"id": take(), "name": draw(names)}),
        "accessGroups": some(lambda: {"id": take(), "name": draw(names), "label": draw(names)}),
    }


@st.composite
def documents(draw: st.DrawFn, event_types: list[str]) -> dict[str, Any]:
    """Version 2 documents in export form (SPEC §4)."""
    practice_ids = draw(st.lists(hex_ids, min_size=1, max_size=3, unique=True))
    reference_ids = draw(st.lists(hex_ids, min_size=24, max_size=24, unique=True))
    practices = [
        {
            "id": p,
            "name": draw(names),
            "webhooksEnabled": draw(st.booleans()),
            **_reference_data(draw, reference_ids),
        }
        for p in practice_ids
    ]
    perms = st.lists(
        st.sampled_from(["createWebhooks", "deleteWebhooks", "editWebhooks", "seeWebhooks"]),
        unique=True,
    ).map(sorted)
    users = st.fixed_dictionaries(
        {"id": hex_ids, "firstName": names, "lastName": names, "email": names}
    )
    tokens = [
        {
            "token": t,
            "practiceId": draw(st.sampled_from(practice_ids)),
            "permissions": draw(perms),
            "user": draw(users),
        }
        for t in draw(st.lists(token_texts, max_size=3, unique=True))
    ]
    sub_ids = draw(st.lists(hex_ids, max_size=6, unique=True))
    subs = []
    for n, sub_id in enumerate(sub_ids):
        created = draw(millis)
        headers = draw(
            st.none()
            | st.lists(
                st.tuples(header_keys, header_values), max_size=3, unique_by=lambda h: h[0].lower()
            )
        )
        subs.append(
            {
                "id": sub_id,
                "practiceId": draw(st.sampled_from(practice_ids)),
                "url": f"https://h{n}.example/{draw(paths)}",
                "label": draw(names),
                "eventTypes": draw(
                    st.lists(st.sampled_from(event_types), min_size=1, max_size=10, unique=True)
                ),
                "headers": None
                if headers is None
                else [{"key": k, "value": v} for k, v in headers],
                "secret": "whsec_" + base64.b64encode(draw(st.binary(min_size=1))).decode(),
                "version": "1",
                "createdAt": _iso(created),
                # a clock moved backwards leaves updatedAt before createdAt: still exported
                "updatedAt": _iso(max(0, created + draw(st.integers(-(10**9), 10**9)))),
                "deleted": draw(st.booleans()),
                "deliveryPaused": draw(st.booleans()),
            }
        )
    # export lists subscriptions practice by practice, each in creation order
    subs.sort(key=lambda s: practice_ids.index(s["practiceId"]))
    return {
        "version": 2,
        "practices": practices,
        "tokens": tokens,
        "subscriptions": subs,
        "patients": [],
    }


def downgraded(v2: dict[str, Any]) -> dict[str, Any]:
    """The version 1 form of a document with only patient event types."""
    keep = ("id", "name", "webhooksEnabled")
    return {
        "version": 1,
        "practices": [{k: p[k] for k in keep} for p in v2["practices"]],
        "tokens": [{k: v for k, v in t.items() if k != "user"} for t in v2["tokens"]],
        "subscriptions": [
            {**sub, "eventTypes": [e.upper().replace(".", "_") for e in sub["eventTypes"]]}
            for sub in v2["subscriptions"]
        ],
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=documents(PATIENT_EVENTS))
def test_generated_documents_round_trip_exactly(
    mock_semble: MockSembleServer, document: dict[str, Any]
) -> None:
    mock_semble.load_state(document)
    exported = mock_semble.state()
    assert exported == document
    mock_semble.load_state(copy.deepcopy(exported))
    assert mock_semble.state() == exported


@pytest.mark.mock_semble(event_types="strings")
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=documents([*TEN_EVENT_TYPES, "invoice.paid", "webhook.subscription.updated"]))
def test_generated_documents_round_trip_exactly_in_strings_mode(
    mock_semble: MockSembleServer, document: dict[str, Any]
) -> None:
    mock_semble.load_state(document)
    exported = mock_semble.state()
    assert exported == document
    mock_semble.load_state(copy.deepcopy(exported))
    assert mock_semble.state() == exported


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=documents(PATIENT_EVENTS))
def test_generated_version_1_documents_import_as_version_2(
    mock_semble: MockSembleServer, document: dict[str, Any]
) -> None:
    v1 = downgraded(document)
    mock_semble.load_state(v1)
    assert mock_semble.state() == upgraded(v1)


# -- --state-file ------------------------------------------------------------------------------


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(valid_document()))
    return path


def test_state_file_is_the_start_up_state(state_file: Path) -> None:
    document = valid_document()
    with MockSembleServer(state_file=state_file) as server:
        assert server.state() == document
        assert (server.token, server.practice_id) == (DEFAULT_TOKEN, DEFAULT_PRACTICE_ID)
        server.create_webhook("https://hooks.example/new")
        server.execute(DELETE, {"id": f"{1:024x}"})
        server.new_practice()
        server.reset()  # back to the file's content, subscriptions included
        assert server.state() == document
        # a per-practice reset drops what was added and restores the file's subscriptions,
        # leaving other practices alone
        other = server.new_practice()
        kept = server.create_webhook("https://hooks.example/kept", token=other.token)
        server.create_webhook("https://hooks.example/new")
        server.execute(DELETE, {"id": f"{3:024x}"})
        server.reset(DEFAULT_PRACTICE_ID)
        after = server.state()
        by_id = {sub["id"]: sub for sub in after["subscriptions"]}
        assert by_id == {
            **{sub["id"]: sub for sub in document["subscriptions"]},
            kept["id"]: by_id[kept["id"]],
        }
        # each practice's subscriptions keep their order (export order is load order)
        assert [
            s["id"] for s in after["subscriptions"] if s["practiceId"] == DEFAULT_PRACTICE_ID
        ] == [f"{n:024x}" for n in (1, 2, 3)]


def test_state_file_brings_its_own_default_token(tmp_path: Path) -> None:
    document = valid_document()
    document["tokens"].reverse()  # the first token is the default one
    path = tmp_path / "s.json"
    path.write_text(json.dumps(document))
    with MockSembleServer(state_file=str(path)) as server:
        assert (server.token, server.practice_id) == ("second-token", P2)
        assert server.runtime.default_token == "second-token"  # GraphiQL's too


def test_cli_loads_a_state_file(state_file: Path) -> None:
    with cli_server("--state-file", str(state_file)) as mock:
        assert mock.state() == valid_document()
    with cli_server(env={"MOCK_SEMBLE_STATE_FILE": str(state_file)}) as mock:
        assert mock.state() == valid_document()


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    """``mock-semble serve`` expected to exit at start-up."""
    return subprocess.run(
        [sys.executable, "-m", "mock_semble", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "--state-file not found"),
        ("{not json", "is not valid JSON"),
        (b"\xff\xfe", "cannot read state file"),
        (json.dumps({"version": 2}), "missing key(s): practices"),
        (json.dumps({**valid_document(), "version": 3}), "version: must be one of 1, 2"),
        (
            json.dumps(
                {
                    **valid_document(),
                    "subscriptions": [_sub(1, url="ftp://x/", eventTypes=["patient.created"])],
                }
            ),
            "subscriptions[0].url: url must be a valid HTTPS URL",
        ),
    ],
)
def test_cli_refuses_a_bad_state_file_in_one_line(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    result = run_serve("--state-file", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mock-semble: error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_refuses_config_with_state_file(tmp_path: Path, state_file: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[[practices]]\nname = "P"\n')
    result = run_serve("--config", str(config), "--state-file", str(state_file))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "mock-semble: error: --config and --state-file cannot be combined: "
        "a state file carries its own practices and tokens"
    )
