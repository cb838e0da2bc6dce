"""The patient slice is served exactly as Semble documents it (``semble-patients.graphql``):
type by type — fields, arguments, types and nullability, default values, deprecations,
enum values and descriptions — in the patients domain's own schema and in the served
schema of both API versions."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path

import pytest
import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
)
from strawberry.schema.config import StrawberryConfig

from mock_semble.api.schema import build_schema as build_served_schema
from mock_semble.core.scalars import DATE, DATETIME
from mock_semble.domains import DOMAINS
from mock_semble.patients.graphql import build_types

CONTRACT_FILE = Path(__file__).parent.parent / "data" / "semble-patients.graphql"
CONTRACT = build_schema(CONTRACT_FILE.read_text(encoding="utf-8"))
ROOTS = ("Query", "Mutation")
# DateTime is shared with the webhook slice, whose description is SPEC §1.1's.
SHARED_DESCRIPTIONS = {"DateTime"}
KINDS = (GraphQLObjectType, GraphQLInputObjectType, GraphQLEnumType, GraphQLScalarType)
CONTRACT_TYPES = sorted(
    name
    for name in CONTRACT.type_map
    if not name.startswith("__") and name not in ("String", "Boolean", "ID", "Int", "Float")
)


def _domain_schema() -> GraphQLSchema:
    query, mutation = build_types("enum")
    schema = strawberry.Schema(
        query=query,
        mutation=mutation,
        config=StrawberryConfig(scalar_map={datetime: DATETIME, date: DATE}),
    )
    return schema._schema


SCHEMA_NAMES = ("domain", "served-enum", "served-strings")


@cache
def _schema(name: str) -> GraphQLSchema:
    if name == "domain":
        return _domain_schema()
    return build_served_schema(DOMAINS, name.removeprefix("served-"))._schema


def _argument(arg: GraphQLArgument | GraphQLInputField) -> dict[str, object]:
    return {
        "type": str(arg.type),
        "description": arg.description,
        "deprecation": arg.deprecation_reason,
        "default": repr(arg.default_value),
    }


def _field(field: GraphQLField) -> dict[str, object]:
    return {
        "type": str(field.type),
        "description": field.description,
        "deprecation": field.deprecation_reason,
        "args": [(name, _argument(arg)) for name, arg in field.args.items()],
    }


def _describe(named: GraphQLNamedType, *, only: set[str] | None = None) -> dict[str, object]:
    """Everything the contract says about a type; ``only`` limits a root type's fields."""
    kind = next(k.__name__ for k in KINDS if isinstance(named, k))
    out: dict[str, object] = {"kind": kind, "description": named.description}
    if isinstance(named, GraphQLObjectType):
        out["fields"] = [
            (name, _field(field))
            for name, field in named.fields.items()
            if only is None or name in only
        ]
    elif isinstance(named, GraphQLInputObjectType):
        out["fields"] = [(name, _argument(field)) for name, field in named.fields.items()]
    elif isinstance(named, GraphQLEnumType):
        out["values"] = [
            (name, value.description, value.deprecation_reason)
            for name, value in named.values.items()
        ]
    return out


@pytest.mark.parametrize("schema_name", SCHEMA_NAMES)
@pytest.mark.parametrize("type_name", CONTRACT_TYPES)
def test_each_contract_type_is_served_exactly(schema_name: str, type_name: str) -> None:
    served = _schema(schema_name).type_map.get(type_name)
    assert served is not None, f"{type_name} is missing"
    expected = CONTRACT.type_map[type_name]
    only = set(expected.fields) if type_name in ROOTS else None  # type: ignore[attr-defined]
    want = _describe(expected)
    got = _describe(served, only=only)
    if type_name in SHARED_DESCRIPTIONS:
        want.pop("description")
        got.pop("description")
    if schema_name.startswith("served") and type_name in ROOTS:
        got.pop("description")  # the served roots describe the whole API
        want.pop("description")
    assert got == want


def test_the_domain_serves_nothing_beyond_the_contract() -> None:
    schema = _schema("domain")
    served = {name for name in schema.type_map if not name.startswith("__")}
    assert served == set(CONTRACT.type_map) - {n for n in CONTRACT.type_map if n.startswith("__")}
    for root in ROOTS:
        assert list(schema.type_map[root].fields) == list(  # type: ignore[attr-defined]
            CONTRACT.type_map[root].fields  # type: ignore[attr-defined]
        )


def test_the_scalars_are_the_documented_ones() -> None:
    date_scalar = _schema("served-enum").type_map["Date"]
    assert isinstance(date_scalar, GraphQLScalarType)
    assert date_scalar.description == (
        'A calendar date, "YYYY-MM-DD" (docs.semble.io/docs/API/scalars/date/; '
        "see SPEC §3 for input forms)."
    )
