"""The served schema: exactly SPEC §1.1, described, and identical to schema.graphql."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType
from graphql import build_schema as build_sdl_schema
from request_context import context_of

from mock_semble.api.schema import build_schema, sdl
from mock_semble.app import create_runtime
from mock_semble.core.clock import format_datetime
from mock_semble.core.settings import Settings
from mock_semble.domains import DOMAINS

schema = build_schema(DOMAINS, "enum")
SDL = sdl(schema)

ROOT = Path(__file__).resolve().parents[2]

SPEC_SDL = """
scalar DateTime
enum WebhookEventType { PATIENT_CREATED PATIENT_UPDATED PATIENT_DELETED }
type WebhookHeader { key: String!  value: String! }
input WebhookHeaderInput { key: String!  value: String! }
type WebhookSubscription {
  id: ID!  secret: String  url: String!  label: String!  eventTypes: [WebhookEventType!]!
  headers: [WebhookHeader!]  version: String!  createdAt: DateTime  updatedAt: DateTime
  deleted: Boolean  deliveryPaused: Boolean
}
input CreateWebhookInput {
  url: String!  eventTypes: [WebhookEventType!]!  label: String!  headers: [WebhookHeaderInput!]
}
input UpdateWebhookInput {
  url: String  eventTypes: [WebhookEventType!]  label: String  headers: [WebhookHeaderInput!]
  deliveryPaused: Boolean
}
type CreateWebhookPayload { data: WebhookSubscription  error: String }
type UpdateWebhookPayload { data: WebhookSubscription  error: String }
type DeleteWebhookPayload { data: WebhookSubscription  error: String }
type Query {
  webhooks(includeDeleted: Boolean): [WebhookSubscription!]!
  webhook(id: ID!): WebhookSubscription
}
type Mutation {
  createWebhook(input: CreateWebhookInput!): CreateWebhookPayload
  updateWebhook(id: ID!, input: UpdateWebhookInput!): UpdateWebhookPayload
  deleteWebhook(id: ID!): DeleteWebhookPayload
}
"""


def test_checked_in_schema_is_the_served_sdl() -> None:
    assert (ROOT / "schema.graphql").read_text() == SDL


def test_cli_prints_the_sdl() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mock_semble", "schema"], capture_output=True, text=True, check=True
    )
    assert out.stdout == SDL


def shape(sdl: str) -> dict[str, object]:
    """Names, field types, argument types and enum values — no descriptions."""
    built = build_sdl_schema(sdl)
    result: dict[str, object] = {}
    for name, t in built.type_map.items():
        if name.startswith("__") or name in ("String", "Boolean", "ID", "Int", "Float"):
            continue
        if isinstance(t, GraphQLObjectType):
            result[name] = {
                f: (
                    str(field.type),
                    {a: (str(arg.type), arg.default_value) for a, arg in field.args.items()},
                )
                for f, field in t.fields.items()
            }
        elif isinstance(t, GraphQLInputObjectType):
            result[name] = {
                f: (str(field.type), field.default_value) for f, field in t.fields.items()
            }
        elif isinstance(t, GraphQLEnumType):
            result[name] = list(t.values)
        else:
            result[name] = type(t).__name__
    return result


PATIENT_SLICE = (ROOT / "tests" / "data" / "semble-patients.graphql").read_text(encoding="utf-8")
ROOTS = ("Query", "Mutation")


def webhook_slice(served: dict[str, object]) -> dict[str, object]:
    """The served shape without the patient slice (tests/patients checks that one against
    Semble's contract): the types and root fields the patient contract does not define."""
    patients = shape(PATIENT_SLICE)
    result = {k: v for k, v in served.items() if k not in patients or k in ("DateTime", *ROOTS)}
    for root in ROOTS:
        fields = result[root]
        assert isinstance(fields, dict)
        patient_fields = patients.get(root, {})
        assert isinstance(patient_fields, dict)
        result[root] = {f: t for f, t in fields.items() if f not in patient_fields}
    return result


def test_schema_matches_spec_exactly() -> None:
    assert webhook_slice(shape(SDL)) == shape(SPEC_SDL)


def test_the_patient_slice_is_served_beside_the_webhook_slice() -> None:
    served, patients = shape(SDL), shape(PATIENT_SLICE)
    for root in ROOTS:
        fields, patient_fields = served[root], patients[root]
        assert isinstance(fields, dict) and isinstance(patient_fields, dict)
        assert set(patient_fields) <= set(fields), root
    assert set(patients) <= set(served)


def test_every_type_field_and_argument_has_a_one_line_description() -> None:
    built = build_sdl_schema(SDL)
    webhook_types = set(shape(SPEC_SDL))
    spec_roots = {r: set(f) for r, f in shape(SPEC_SDL).items() if r in ROOTS}  # type: ignore[arg-type]
    for name, t in built.type_map.items():
        if name not in webhook_types:
            continue  # the patient slice carries Semble's own descriptions (tests/patients)
        assert t.description and "\n" not in t.description, name
        fields = getattr(t, "fields", {})
        for fname, field in fields.items():
            if name in spec_roots and fname not in spec_roots[name]:
                continue
            assert field.description and "\n" not in field.description, f"{name}.{fname}"
            for aname, arg in getattr(field, "args", {}).items():
                assert arg.description, f"{name}.{fname}({aname})"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 28, 15, 2, 26, 123456, tzinfo=UTC), "2026-11-28T15:02:26.123Z"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05.000Z"),
    ],
)
def test_datetime_format(moment: datetime, text: str) -> None:
    assert format_datetime(moment) == text


@pytest.mark.anyio
async def test_resolvers_via_schema_execute() -> None:
    runtime = create_runtime(Settings())
    runtime.clock.freeze(datetime(2026, 11, 28, 15, 2, 26, 123000, tzinfo=UTC))
    context = context_of(runtime)
    result = await schema.execute(
        'mutation { createWebhook(input: {url: "https://a.com/h", eventTypes: [PATIENT_UPDATED], '
        'label: "L"}) { data { id createdAt updatedAt eventTypes } error } }',
        context_value=context,
    )
    assert result.errors is None
    data = result.data["createWebhook"]["data"]  # type: ignore[index]
    assert data["createdAt"] == data["updatedAt"] == "2026-11-28T15:02:26.123Z"
    assert data["eventTypes"] == ["PATIENT_UPDATED"]
    listed = await schema.execute("{ webhooks { id secret } }", context_value=context)
    assert listed.data == {"webhooks": [{"id": data["id"], "secret": None}]}
