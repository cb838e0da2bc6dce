"""A real GraphQL client (``gql`` + httpx) driving mock-semble's webhook API.

Creates a subscription, lists it, reads it, updates it (label + deliveryPaused) and
deletes it, checking every answer, plus two payload errors (a duplicate and an
invalid url). One line per step on stdout; exit 0 on success, or 1 with a one-line
reason on stderr.

    pip install "gql[httpx]>=4"
    mock-semble serve &
    python examples/python_client.py --url http://127.0.0.1:8000/graphql --token test-token
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import sys
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportError,
    TransportQueryError,
)
from gql.transport.httpx import HTTPXTransport
from graphql import ExecutionResult

FIELDS = (
    "id secret url label eventTypes headers { key value } version createdAt updatedAt "
    "deleted deliveryPaused"
)
CREATE = f"""
mutation CreateWebhook($input: CreateWebhookInput!) {{
  createWebhook(input: $input) {{ data {{ {FIELDS} }} error }}
}}"""
UPDATE = f"""
mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) {{
  updateWebhook(id: $id, input: $input) {{ data {{ {FIELDS} }} error }}
}}"""
DELETE = f"""
mutation DeleteWebhook($id: ID!) {{
  deleteWebhook(id: $id) {{ data {{ {FIELDS} }} error }}
}}"""
LIST = f"""
query ListWebhooks($includeDeleted: Boolean) {{
  webhooks(includeDeleted: $includeDeleted) {{ {FIELDS} }}
}}"""
GET = f"query GetWebhook($id: ID!) {{ webhook(id: $id) {{ {FIELDS} }} }}"

DUPLICATE_ERROR = (
    "A webhook subscription with this url and an overlapping event type already exists"
)
INVALID_URL_ERROR = "url must be a valid HTTPS URL"
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class CheckFailed(Exception):
    """One check did not hold; the message is the one-line reason."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


class Steps:
    """Runs the scenario with one gql session; ``step`` names the current step."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.step = "connect"
        self.created_id: str | None = None
        self.deleted = False

    def run(self, query: str, **variables: Any) -> ExecutionResult:
        """Execute; top-level GraphQL errors raise TransportQueryError (gql's default)."""
        request = GraphQLRequest(query, variable_values=variables)
        return self.session.execute(request, get_execution_result=True)  # type: ignore[no-any-return]

    def payload(self, result: ExecutionResult, field: str) -> dict[str, Any]:
        """The mutation payload's ``data`` after checking there is no payload error."""
        payload = (result.data or {}).get(field)
        check(payload is not None, f"{field} returned null")
        check(payload["error"] is None, f"{field} failed: {payload['error']}")
        check(payload["data"] is not None, f"{field} returned no data and no error")
        return payload["data"]  # type: ignore[no-any-return]

    def payload_error(self, result: ExecutionResult, field: str, message: str, code: str) -> None:
        """A business-rule error: ``{data: null, error}`` and extensions.payloadErrors."""
        payload = (result.data or {}).get(field)
        check(payload is not None, f"{field} returned null")
        check(payload["data"] is None, f"{field} expected data null, got {payload['data']}")
        check(payload["error"] == message, f"{field} error {payload['error']!r} != {message!r}")
        errors = (result.extensions or {}).get("payloadErrors") or []
        check(len(errors) == 1, f"expected one extensions.payloadErrors entry, got {errors}")
        got = errors[0]
        check(got.get("code") == code, f"payloadErrors[0].code {got.get('code')!r} != {code!r}")
        check(got.get("path") == [field], f"payloadErrors[0].path {got.get('path')!r}")
        check(got.get("message") == message, f"payloadErrors[0].message {got.get('message')!r}")

    def scenario(self) -> None:
        url = f"https://example.com/hooks/{secrets.token_hex(6)}"
        created_input = {
            "url": url,
            "eventTypes": ["PATIENT_CREATED", "PATIENT_UPDATED"],
            "label": "python example",
            "headers": [{"key": "X-Example", "value": "python"}],
        }

        self.step = "create"
        sub = self.payload(self.run(CREATE, input=created_input), "createWebhook")
        self.created_id = sub_id = sub["id"]
        check(re.fullmatch(r"[0-9a-f]{24}", sub_id) is not None, f"id {sub_id!r} is not 24-hex")
        check(str(sub["secret"]).startswith("whsec_"), "create payload has no whsec_ secret")
        check(sub["url"] == url, f"url {sub['url']!r} != {url!r}")
        check(sub["label"] == "python example", f"label {sub['label']!r}")
        check(sub["eventTypes"] == created_input["eventTypes"], f"eventTypes {sub['eventTypes']}")
        check(sub["headers"] == created_input["headers"], f"headers {sub['headers']}")
        check(sub["version"] == "1", f"version {sub['version']!r} != '1'")
        check(sub["deleted"] is False and sub["deliveryPaused"] is False, "new flags not false")
        check(DATETIME.match(sub["createdAt"] or "") is not None, f"createdAt {sub['createdAt']!r}")
        check(sub["createdAt"] == sub["updatedAt"], "createdAt != updatedAt on create")
        secret = sub["secret"]
        print(f"create: ok id={sub_id}")

        self.step = "duplicate"
        duplicate = {**created_input, "eventTypes": ["PATIENT_UPDATED", "PATIENT_DELETED"]}
        duplicate.pop("headers")
        result = self.run(CREATE, input=duplicate)
        self.payload_error(result, "createWebhook", DUPLICATE_ERROR, "CONFLICT")
        print("duplicate: ok CONFLICT")

        self.step = "invalid url"
        bad = {"url": "http://example.com/hooks", "eventTypes": ["PATIENT_CREATED"], "label": "x"}
        result = self.run(CREATE, input=bad)
        self.payload_error(result, "createWebhook", INVALID_URL_ERROR, "INVALID_URL")
        print("invalid url: ok INVALID_URL")

        self.step = "list"
        listed = (self.run(LIST).data or {}).get("webhooks")
        check(isinstance(listed, list), f"webhooks is not a list: {listed!r}")
        mine = [w for w in listed if w["id"] == sub_id]
        check(len(mine) == 1, f"created subscription {sub_id} not listed exactly once")
        check(mine[0]["secret"] is None, "webhooks must not return the secret")
        check(mine[0]["url"] == url, f"listed url {mine[0]['url']!r}")
        print(f"list: ok {len(listed)} subscription(s)")

        self.step = "get"
        got = (self.run(GET, id=sub_id).data or {}).get("webhook")
        check(got is not None, f"webhook({sub_id}) returned null")
        check(got["secret"] is None, "webhook(id) must not return the secret")
        expected = {k: v for k, v in sub.items() if k != "secret"}
        actual = {k: v for k, v in got.items() if k != "secret"}
        check(actual == expected, f"webhook(id) {actual} != created {expected}")
        print("get: ok")

        self.step = "update"
        result = self.run(
            UPDATE, id=sub_id, input={"label": "python example (paused)", "deliveryPaused": True}
        )
        updated = self.payload(result, "updateWebhook")
        check(updated["id"] == sub_id, f"updated id {updated['id']}")
        check(updated["label"] == "python example (paused)", f"label {updated['label']!r}")
        check(updated["deliveryPaused"] is True, "deliveryPaused did not become true")
        check(updated["url"] == url, "update changed the url")
        check(updated["eventTypes"] == sub["eventTypes"], "update changed eventTypes")
        check(updated["headers"] == sub["headers"], "update changed headers")
        check(updated["secret"] == secret, "update payload secret differs from create's")
        check(updated["createdAt"] == sub["createdAt"], "update changed createdAt")
        check(updated["updatedAt"] >= sub["updatedAt"], "updatedAt went backwards")
        got = (self.run(GET, id=sub_id).data or {}).get("webhook") or {}
        check(got.get("label") == "python example (paused)", "update not visible in webhook(id)")
        check(got.get("deliveryPaused") is True, "deliveryPaused not visible in webhook(id)")
        print("update: ok label + deliveryPaused")

        self.step = "delete"
        deleted = self.payload(self.run(DELETE, id=sub_id), "deleteWebhook")
        self.deleted = True
        check(deleted["id"] == sub_id, f"deleted id {deleted['id']}")
        check(deleted["deleted"] is True, "deleted is not true")
        check(deleted["secret"] is None, "delete payload must not return the secret")
        listed = (self.run(LIST).data or {}).get("webhooks") or []
        check(all(w["id"] != sub_id for w in listed), "deleted subscription still listed")
        listed = (self.run(LIST, includeDeleted=True).data or {}).get("webhooks") or []
        check(
            any(w["id"] == sub_id and w["deleted"] for w in listed),
            "deleted subscription missing from webhooks(includeDeleted: true)",
        )
        got = (self.run(GET, id=sub_id).data or {}).get("webhook")
        check(got is not None and got["deleted"] is True, "webhook(id) after delete not deleted")
        print("delete: ok")

        self.step = "delete again"
        result = self.run(DELETE, id=sub_id)
        self.payload_error(result, "deleteWebhook", "Webhook not found", "NOT_FOUND")
        print("delete again: ok NOT_FOUND")

    def cleanup(self) -> None:
        """After a failure, best effort: do not leave the subscription behind."""
        if self.created_id and not self.deleted:
            with contextlib.suppress(Exception):
                self.run(DELETE, id=self.created_id)


def query_error(error: TransportQueryError) -> str:
    """``Missing permission: createWebhooks (FORBIDDEN)`` from a top-level error."""
    first = (error.errors or [{}])[0]
    message = first.get("message", str(error)) if isinstance(first, dict) else str(first)
    code = (first.get("extensions") or {}).get("code") if isinstance(first, dict) else None
    return f"{message} ({code})" if code else message


def graphql_url(url: str) -> str:
    """The GraphQL endpoint from the server's base URL or from the ready line's URL."""
    return url.strip().rstrip("/").removesuffix("/graphql") + "/graphql"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("MOCK_SEMBLE_URL", "http://127.0.0.1:8000"),
        help="the server's base URL or its /graphql URL (env: MOCK_SEMBLE_URL)",
    )
    parser.add_argument("--token", default="test-token")
    args = parser.parse_args(argv)

    transport = HTTPXTransport(
        url=graphql_url(args.url), headers={"x-token": args.token}, timeout=30
    )
    client = Client(transport=transport, fetch_schema_from_transport=False)
    steps: Steps | None = None
    try:
        with client as session:
            steps = Steps(session)
            try:
                steps.scenario()
            except BaseException:
                steps.cleanup()
                raise
    except CheckFailed as error:
        reason = str(error)
    except TransportQueryError as error:
        reason = query_error(error)
    except (TransportConnectionFailed, OSError) as error:  # refused, DNS, timeout…
        reason = f"cannot reach {args.url}: {error}"
    except TransportError as error:  # not a GraphQL answer (HTML, 5xx…)
        reason = f"{type(error).__name__}: {error}"
    else:
        print("python client: all checks passed")
        return 0
    step = steps.step if steps else "connect"
    print(f"python client: FAILED at {step}: {' '.join(reason.split())}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
