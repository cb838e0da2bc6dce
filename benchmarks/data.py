"""Bench data: state documents, control-plane set-up, and GraphQL requests by operation."""

from __future__ import annotations

import json
from typing import Any

from mock_semble.core.tenancy import DEFAULT_PRACTICE_ID, DEFAULT_PRACTICE_NAME, DEFAULT_TOKEN
from mock_semble.testing.documents import (
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    GET_WEBHOOK,
    LIST_WEBHOOKS,
    UPDATE_WEBHOOK,
)

from .wire import Conn, HttpError, graphql_request, json_request

ALL_PERMISSIONS = ["seeWebhooks", "createWebhooks", "editWebhooks", "deleteWebhooks"]
SECRET = "whsec_" + "QmVuY2htYXJrIHNlY3JldCwgbm90IGEgcmVhbCBvbmUu"
STAMP = "2026-01-01T00:00:00.000Z"

# The operations' documents, full selections (the bare app answers the very same bodies)
CREATE = CREATE_WEBHOOK
GET = GET_WEBHOOK
UPDATE = UPDATE_WEBHOOK
DELETE = DELETE_WEBHOOK
LIST = LIST_WEBHOOKS


def practice_id(n: int) -> str:
    return f"b{n:023x}"


def practice_token(n: int) -> str:
    return f"bench-token-{n}"


def state_document(subscriptions: int, practices: int = 100) -> dict[str, Any]:
    """The default practice and token plus ``practices`` bench practices (each with a
    token of every permission) sharing ``subscriptions`` evenly."""
    return {
        "version": 1,
        "practices": [
            {"id": DEFAULT_PRACTICE_ID, "name": DEFAULT_PRACTICE_NAME, "webhooksEnabled": True},
            *(
                {"id": practice_id(p), "name": f"Bench {p}", "webhooksEnabled": True}
                for p in range(practices)
            ),
        ],
        "tokens": [
            {
                "token": DEFAULT_TOKEN,
                "practiceId": DEFAULT_PRACTICE_ID,
                "permissions": ALL_PERMISSIONS,
            },
            *(
                {
                    "token": practice_token(p),
                    "practiceId": practice_id(p),
                    "permissions": ALL_PERMISSIONS,
                }
                for p in range(practices)
            ),
        ],
        "subscriptions": [
            {
                "id": f"c{k:023x}",
                "practiceId": practice_id(k % practices),
                "url": f"https://bench.example/p{k % practices}/s{k}",
                "label": f"bench {k}",
                "eventTypes": ["PATIENT_CREATED"],
                "headers": None,
                "secret": SECRET,
                "version": "1",
                "createdAt": STAMP,
                "updatedAt": STAMP,
                "deleted": False,
                "deliveryPaused": False,
            }
            for k in range(subscriptions)
        ],
    }


def add_practice(conn: Conn, name: str) -> tuple[str, str]:
    """A runtime practice and an all-permission token for it: (practice id, token)."""
    practice = conn.call(json_request("POST", "/__mock/practices", {"name": name}), 201)
    token = conn.call(
        json_request(
            "POST", "/__mock/tokens", {"practiceId": practice["id"], "permissions": ALL_PERMISSIONS}
        ),
        201,
    )
    return practice["id"], token["token"]


def create_request(token: str, url: str, events: tuple[str, ...] = ("PATIENT_CREATED",)) -> bytes:
    return graphql_request(
        CREATE, {"input": {"url": url, "eventTypes": list(events), "label": "bench"}}, token=token
    )


def get_request(token: str, sub_id: str) -> bytes:
    return graphql_request(GET, {"id": sub_id}, token=token)


def update_request(token: str, sub_id: str, label: str) -> bytes:
    return graphql_request(UPDATE, {"id": sub_id, "input": {"label": label}}, token=token)


def delete_request(token: str, sub_id: str) -> bytes:
    return graphql_request(DELETE, {"id": sub_id}, token=token)


def list_request(token: str) -> bytes:
    return graphql_request(LIST, token=token)


def created_id(body: bytes) -> str:
    """The id of a createWebhook answer; any refusal is an error of the benchmark."""
    answer = json.loads(body)
    payload = (answer.get("data") or {}).get("createWebhook") or {}
    if answer.get("errors") or payload.get("error") or not payload.get("data"):
        raise HttpError(f"createWebhook failed: {body[:300]!r}")
    return str(payload["data"]["id"])


def bulk_create(conn: Conn, token: str, urls: list[str]) -> list[str]:
    """Create one subscription per URL, pipelined; returns their ids."""
    answers = conn.pipeline([create_request(token, url) for url in urls])
    for status, body in answers:
        if status != 200:
            raise HttpError(f"createWebhook HTTP {status}: {body[:200]!r}")
    return [created_id(body) for _, body in answers]
