"""Permissions against EXISTING objects, on both execution paths (SPEC §1.2, §1.3, §3).

Every guarded operation is called with a real subscription (or patient) id by a token that
lacks exactly the permission it needs: the answer is FORBIDDEN naming the permission, and
nothing changes (state document, delivery journal). Each runs twice: as a plain document,
which the fast path serves, and with its selection moved into a fragment, which forces the
full (graphql-core) path. A spy on the fast path proves which path each request took, and
the same document with only the needed permission succeeds — so a refusal can never come
from a failed lookup instead of the permission check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from patients import documents as patient_docs
from patients.conftest import World, assert_unchanged, world  # noqa: F401 (fixture)
from patients.conftest import token_without as patient_token_without
from patients.test_api_permissions import OPERATIONS as PATIENT_OPERATIONS

from mock_semble.api.fastpath import Compiled
from mock_semble.testing import MockSembleServer

pytestmark = pytest.mark.mock_semble(event_types="strings", delivery_mode="record")

PRACTICE = "000000000000000000000001"
# SPEC §1.2 and §3: the eight permission names.
ALL_PERMISSIONS = [
    "seeWebhooks",
    "createWebhooks",
    "editWebhooks",
    "deleteWebhooks",
    "seePatients",
    "createPatients",
    "editPatients",
    "deletePatients",
]
MSG_DISABLED = "Webhooks are not enabled for this practice."
EXISTING_URL = "https://hooks.example/existing"
# The existing subscription also listens to its own updates (strings mode): an update that
# slipped past the permission check would journal a delivery.
EXISTING_EVENTS = ["patient.created", "webhook.subscription.updated"]

SUB = "id url label eventTypes headers { key value } deleted deliveryPaused updatedAt secret"
Variables = Callable[[str], dict[str, Any]]
# (root field, document, variables from the existing subscription's id, permission)
WEBHOOK_OPERATIONS: list[tuple[str, str, Variables, str]] = [
    (
        "webhooks",
        f"query Hooks {{ webhooks(includeDeleted: true) {{ {SUB} }} }}",
        lambda sub_id: {},
        "seeWebhooks",
    ),
    (
        "webhook",
        f"query Hook($id: ID!) {{ webhook(id: $id) {{ {SUB} }} }}",
        lambda sub_id: {"id": sub_id},
        "seeWebhooks",
    ),
    (
        "createWebhook",
        "mutation Create($input: CreateWebhookInput!) "
        f"{{ createWebhook(input: $input) {{ data {{ {SUB} }} error }} }}",
        lambda sub_id: {
            "input": {
                "url": "https://hooks.example/new",
                "eventTypes": ["patient.created"],
                "label": "new",
            }
        },
        "createWebhooks",
    ),
    (
        "updateWebhook",
        "mutation Update($id: ID!, $input: UpdateWebhookInput!) "
        f"{{ updateWebhook(id: $id, input: $input) {{ data {{ {SUB} }} error }} }}",
        lambda sub_id: {
            "id": sub_id,
            "input": {
                "label": "changed",
                "deliveryPaused": True,
                "headers": [{"key": "X-A", "value": "1"}],
            },
        },
        "editWebhooks",
    ),
    (
        "deleteWebhook",
        f"mutation Delete($id: ID!) {{ deleteWebhook(id: $id) {{ data {{ {SUB} }} error }} }}",
        lambda sub_id: {"id": sub_id},
        "deleteWebhooks",
    ),
]
PATHS = ["fast", "full"]


def forced_full_path(document: str) -> str:
    """The same operation with its root selection moved into a named fragment: a document
    with a fragment is never compiled by the fast path."""
    start, end = document.index("{"), document.rindex("}")
    header = document[:start].strip()
    root = "Mutation" if header.startswith("mutation") else "Query"
    body = document[start + 1 : end]
    return f"{header} {{ ...Forced }}\nfragment Forced on {root} {{ {body} }}"


def on_path(document: str, path: str) -> str:
    return document if path == "fast" else forced_full_path(document)


@pytest.fixture
def fast_path_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The root fields of every request the fast path ran (the server runs in this process)."""
    calls: list[str] = []
    real_run = Compiled.run

    async def spy(self: Compiled, *args: Any, **kwargs: Any) -> Any:
        calls.extend(root if isinstance(root, str) else root.key for root in self.roots)
        return await real_run(self, *args, **kwargs)

    monkeypatch.setattr(Compiled, "run", spy)
    yield calls


def token_with(server: MockSembleServer, permissions: list[str], practice: str = PRACTICE) -> str:
    body = {"practiceId": practice, "permissions": permissions}
    return str(server.control("POST", "tokens", json=body)["token"])


def existing_subscription(server: MockSembleServer) -> dict[str, Any]:
    return server.create_webhook(EXISTING_URL, EXISTING_EVENTS, headers={"X-Existing": "yes"})


# Root fields whose type is non-null: their null propagates to ``data`` (GraphQL spec 6.4.4).
NON_NULL_ROOTS = {"webhooks"}


def run_on(
    server: MockSembleServer,
    calls: list[str],
    path: str,
    field: str,
    document: str,
    variables: dict[str, Any],
    token: str | None = None,
) -> dict[str, Any]:
    """``document`` on ``path``; asserts the fast path ran it exactly when it should."""
    calls.clear()
    document = on_path(document, path)
    result: dict[str, Any] = (
        server.execute(document, variables)
        if token is None
        else server.execute(document, variables, token=token)
    )
    assert calls == ([field] if path == "fast" else [])
    return result


def assert_forbidden(result: dict[str, Any], field: str, message: str) -> None:
    assert result["data"] == (None if field in NON_NULL_ROOTS else {field: None})
    [error] = result["errors"]
    assert error["message"] == message
    assert error["path"] == [field]
    assert error["extensions"] == {"code": "FORBIDDEN"}
    assert "payloadErrors" not in result.get("extensions", {})


# -- webhooks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("op", WEBHOOK_OPERATIONS, ids=[op[0] for op in WEBHOOK_OPERATIONS])
def test_a_missing_webhook_permission_is_forbidden_against_an_existing_subscription(
    mock_semble: MockSembleServer,
    fast_path_calls: list[str],
    path: str,
    op: tuple[str, str, Variables, str],
) -> None:
    field, document, variables, permission = op
    sub = existing_subscription(mock_semble)
    token = token_with(mock_semble, [p for p in ALL_PERMISSIONS if p != permission])
    before = mock_semble.state()
    result = run_on(
        mock_semble, fast_path_calls, path, field, document, variables(sub["id"]), token
    )

    assert_forbidden(result, field, f"Missing permission: {permission}")
    assert mock_semble.state() == before
    assert mock_semble.deliveries() == []


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("op", WEBHOOK_OPERATIONS, ids=[op[0] for op in WEBHOOK_OPERATIONS])
def test_the_same_request_succeeds_with_only_that_permission(
    mock_semble: MockSembleServer,
    fast_path_calls: list[str],
    path: str,
    op: tuple[str, str, Variables, str],
) -> None:
    field, document, variables, permission = op
    sub = existing_subscription(mock_semble)
    token = token_with(mock_semble, [permission])
    result = run_on(
        mock_semble, fast_path_calls, path, field, document, variables(sub["id"]), token
    )

    assert "errors" not in result, result
    answer = result["data"][field]
    if field == "webhooks":
        assert [(s["id"], s["secret"]) for s in answer] == [(sub["id"], None)]
    elif field == "webhook":
        assert (answer["id"], answer["url"], answer["secret"]) == (sub["id"], EXISTING_URL, None)
    elif field == "createWebhook":
        assert answer["error"] is None and answer["data"]["secret"].startswith("whsec_")
    elif field == "updateWebhook":
        data = answer["data"]
        assert (data["id"], data["label"], data["deliveryPaused"]) == (sub["id"], "changed", True)
        assert data["secret"] == sub["secret"]
    else:
        data = answer["data"]
        assert (data["id"], data["deleted"], data["secret"]) == (sub["id"], True, None)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("op", WEBHOOK_OPERATIONS, ids=[op[0] for op in WEBHOOK_OPERATIONS])
def test_a_practice_with_webhooks_disabled_is_forbidden_with_every_permission(
    mock_semble: MockSembleServer,
    fast_path_calls: list[str],
    path: str,
    op: tuple[str, str, Variables, str],
) -> None:
    field, document, variables, _ = op
    sub = existing_subscription(mock_semble)
    document_state = mock_semble.state()
    document_state["practices"][0]["webhooksEnabled"] = False  # the subscription stays
    mock_semble.load_state(document_state)
    before = mock_semble.state()
    result = run_on(mock_semble, fast_path_calls, path, field, document, variables(sub["id"]))

    assert_forbidden(result, field, MSG_DISABLED)
    assert mock_semble.state() == before
    assert mock_semble.deliveries() == []


def test_every_guarded_webhook_operation_is_covered() -> None:
    # SPEC §1.1: two queries and three mutations, each guarded by one permission.
    assert {op[0]: op[3] for op in WEBHOOK_OPERATIONS} == {
        "webhooks": "seeWebhooks",
        "webhook": "seeWebhooks",
        "createWebhook": "createWebhooks",
        "updateWebhook": "editWebhooks",
        "deleteWebhook": "deleteWebhooks",
    }


def test_the_forced_document_is_the_same_operation() -> None:
    assert forced_full_path("mutation D($id: ID!) { deleteWebhook(id: $id) { error } }") == (
        "mutation D($id: ID!) { ...Forced }\n"
        "fragment Forced on Mutation {  deleteWebhook(id: $id) { error }  }"
    )


# -- patients (the world: one patient with one of every sub-record) ----------------------------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("op", PATIENT_OPERATIONS, ids=[op[0] for op in PATIENT_OPERATIONS])
def test_a_missing_patient_permission_is_forbidden_against_an_existing_patient(
    world: World,  # noqa: F811
    fast_path_calls: list[str],
    path: str,
    op: tuple[str, str, Callable[[dict[str, str]], dict[str, Any]], str],
) -> None:
    field, document, variables, permission = op
    token = patient_token_without(world.server, permission)
    before = world.snapshot()
    result = run_on(
        world.server, fast_path_calls, path, field, document, variables(world.ids), token
    )

    assert_forbidden(result, field, f"Missing permission: {permission}")
    assert_unchanged(world, before)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("op", PATIENT_OPERATIONS, ids=[op[0] for op in PATIENT_OPERATIONS])
def test_the_same_patient_request_succeeds_with_only_that_permission(
    world: World,  # noqa: F811
    fast_path_calls: list[str],
    path: str,
    op: tuple[str, str, Callable[[dict[str, str]], dict[str, Any]], str],
) -> None:
    field, document, variables, permission = op
    token = token_with(world.server, [permission])
    if field == "unarchivePatient":  # only an archived patient can be unarchived
        archive = {"id": world.ids["id"], "reason": "OTHER"}
        assert world.server.execute(patient_docs.ARCHIVE, archive)["data"]["archivePatient"]["data"]
    result = run_on(
        world.server, fast_path_calls, path, field, document, variables(world.ids), token
    )

    assert "errors" not in result, result
    answer = result["data"][field]
    assert answer is not None
    if isinstance(answer, dict) and "error" in answer:
        assert answer["error"] is None, answer
    if field == "patient":
        assert answer["id"] == world.patient["id"]
