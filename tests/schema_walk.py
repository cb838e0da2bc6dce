"""Hypothesis strategies generated from a served GraphQL schema: selections for any output
type (aliases, ``__typename``, nested objects), argument values for any input type, and
whole operations for any root field; plus reading an answer back through its aliases.

Nothing here names a type or a field of the mock's API. Input values are biased by the
*input* field's name only (``url``, ``email``, ``first`` …), so that generated
operations often succeed; ID arguments are drawn from the ids earlier answers returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)
from hypothesis import strategies as st

MAX_DEPTH = 3
MISSING_IDS = ("0" * 24, "not-an-id")
# Biases by input field / argument name; the first value of each is a valid one.
STRINGS: dict[str, list[str]] = {
    "url": [
        "https://a.example.com/h",
        "HTTPS://A.example.com:443/h",
        "https://b.example.com/h",
        "http://a.example.com/h",
    ],
    "label": ["hook", " ", "x" * 257],
    "key": ["X-Env", "Host", "bad key"],
    "value": ["v", " padded "],
    "email": ["ada@example.com", "not-an-email"],
    "first": ["Ada", "Grace", " "],
    "last": ["Lovelace", "Hopper", ""],
    "phoneNumber": ["+44 20 7946 0000", "07700 900123"],
    "phoneType": ["Mobile", "Home"],
    "socialSecurityNumber": ["123456789012345", "12345"],
    "membershipStartDate": ["2026-01-31", "someday"],
    "eventTypes": ["patient.created", "patient.updated", "patient.deleted", "no.such.event"],
}
DEFAULT_STRINGS = ["x", "Ada", ""]
DATES = ["2001-02-03", "2026-11-28T15:02:26.123Z", "not a date"]
# Optional inputs named here are given most of the time (others now and then).
USUALLY_GIVEN = {"first", "last", "patientData", "input", "phoneNumber", "phoneType", "value"}


@dataclass(frozen=True)
class Picked:
    """One selected field: how to find it in the answer, and what it holds."""

    key: str  # the response key: the alias when there is one
    name: str
    parent: str  # the object type the field belongs to
    type_name: str  # the field's named type
    children: tuple[Picked, ...] = ()


@dataclass
class Operation:
    """A generated document for one root field, and its variables."""

    root: str  # the root field's name
    kind: str  # "query" or "mutation"
    key: str  # the root's response key (alias)
    text: str
    variables: dict[str, Any]
    selection: tuple[Picked, ...]  # one Picked: the root field
    data_type: str  # the object type the root returns (a payload's ``data`` type)
    returns: str  # the root field's own named type
    parts: tuple[str, str, str] = ("", "", "")  # variable definitions, call, selection

    def record(self, answer_data: Any) -> Any:
        """The record a root answered: its payload's ``data``, or itself (aliases resolved)."""
        [root] = self.selection
        value = (answer_data or {}).get(root.key)
        for child in root.children:
            if child.name == "data" and self.returns != self.data_type:
                return None if value is None else value.get(child.key)
        return value

    def field_key(self, name: str) -> str | None:
        """The response key of field ``name`` on the record (None: not selected)."""
        [root] = self.selection
        picked = root.children
        if self.returns != self.data_type:
            picked = next((c.children for c in picked if c.name == "data"), ())
        return next((p.key for p in picked if p.name == name), None)


@dataclass
class Ids:
    """Ids seen in answers, by (object type, field name), in the order they came."""

    seen: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # practice reference data by the argument / input field that takes it
    reference: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, parent: str, name: str, value: str) -> None:
        found = self.seen.setdefault((parent, name), [])
        if value not in found:
            found.append(value)

    def of(self, parent: str, name: str = "id") -> list[str]:
        return self.seen.get((parent, name), [])

    def every(self) -> list[str]:
        return [v for values in self.seen.values() for v in values]


def data_type(gql_field: GraphQLField) -> str:
    """The object type a root field is about: its own, or its payload's ``data``."""
    named = get_named_type(gql_field.type)
    assert isinstance(named, GraphQLObjectType)
    inner = named.fields.get("data")
    if inner is not None:
        named = get_named_type(inner.type)
    return named.name


# -- selections ----------------------------------------------------------------------------


@st.composite
def selection(
    draw: st.DrawFn,
    gql_type: GraphQLObjectType,
    depth: int = 0,
    must: tuple[str, ...] = (),
    nested: tuple[str, ...] = (),
) -> tuple[str, tuple[Picked, ...]]:
    """``{ … }`` for ``gql_type``: some of its fields, some aliased; ``must`` fields always,
    and ``nested`` fields always in the selection of a ``data`` field (a payload's or a
    page's record)."""
    names = [n for n, f in gql_type.fields.items() if not f.args]
    if depth >= MAX_DEPTH:  # leaves only, so the walk ends
        names = [n for n in names if not is_object(gql_type.fields[n])]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=8, unique=True))
    chosen += [n for n in must if n not in chosen]
    if draw(st.integers(0, 4)) == 0:
        chosen.insert(draw(st.integers(0, len(chosen))), "__typename")  # anywhere
    parts: list[str] = []
    picked: list[Picked] = []
    for n, name in enumerate(chosen):
        key = f"k{n}_{name.strip('_')}" if draw(st.integers(0, 2)) == 0 else name
        prefix = f"{key}: " if key != name else ""
        if name == "__typename":
            parts.append(prefix + name)
            picked.append(Picked(key, name, gql_type.name, "String"))
            continue
        named = get_named_type(gql_type.fields[name].type)
        if isinstance(named, GraphQLObjectType):
            inner_must = nested if name == "data" else ()
            text, children = draw(selection(named, depth + 1, inner_must))
            parts.append(f"{prefix}{name} {text}")
            picked.append(Picked(key, name, gql_type.name, named.name, children))
        else:
            parts.append(prefix + name)
            picked.append(Picked(key, name, gql_type.name, named.name))
    return "{ " + " ".join(parts) + " }", tuple(picked)


def is_object(gql_field: GraphQLField) -> bool:
    return isinstance(get_named_type(gql_field.type), GraphQLObjectType)


def collect_ids(value: Any, picked: tuple[Picked, ...], ids: Ids) -> None:
    """Record every ID-typed value of an answer, found through the selection's aliases."""
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, dict):
            continue
        for p in picked:
            found = item.get(p.key)
            if p.children:
                collect_ids(found, p.children, ids)
            elif p.type_name == "ID" and isinstance(found, str):
                ids.add(p.parent, p.name, found)


# -- input values --------------------------------------------------------------------------


def id_value(draw: st.DrawFn, name: str, own: str, ids: Ids) -> str:
    """An id for argument ``name`` of a root about ``own``: most often one the API gave
    for that kind of record, sometimes any id, sometimes one that never existed."""
    stem = name.removesuffix("Id").removeprefix("patient").lower()
    if name in ("id", "patientId"):
        likely = ids.of(own)[-3:]
    else:  # phoneId, relationshipId …: a field of that name, or an id of a matching type
        likely = [
            v
            for (parent, field_name), values in ids.seen.items()
            for v in values
            if field_name == name or (field_name == "id" and stem and stem in parent.lower())
        ]
    if name in ids.reference:
        likely = list(ids.reference[name])
    known = [r for refs in ids.reference.values() for r in refs]
    pools = [p for p in (likely, ids.every() + known, list(MISSING_IDS)) if p]
    pool = pools[0] if draw(st.integers(0, 4)) > 0 else draw(st.sampled_from(pools))
    return draw(st.sampled_from(pool))


def input_value(draw: st.DrawFn, gql_type: GraphQLInputType, name: str, own: str, ids: Ids) -> Any:
    if isinstance(gql_type, GraphQLNonNull):
        return input_value(draw, gql_type.of_type, name, own, ids)
    if isinstance(gql_type, GraphQLList):
        size = draw(st.integers(1, 3) if draw(st.integers(0, 3)) else st.integers(0, 11))
        items = [input_value(draw, gql_type.of_type, name, own, ids) for _ in range(size)]
        if draw(st.integers(0, 3)) and all(isinstance(i, str) for i in items):
            items = list(dict.fromkeys(items))  # mostly without repeats
        return items
    if isinstance(gql_type, GraphQLEnumType):
        return draw(st.sampled_from(list(gql_type.values)))
    if isinstance(gql_type, GraphQLInputObjectType):
        return input_object(draw, gql_type, own, ids)
    assert isinstance(gql_type, GraphQLScalarType)
    return scalar_value(draw, gql_type.name, name, own, ids)


def scalar_value(draw: st.DrawFn, type_name: str, name: str, own: str, ids: Ids) -> Any:
    if type_name == "ID":
        return id_value(draw, name, own, ids)
    if type_name == "Boolean":
        return draw(st.booleans())
    if type_name == "Int":
        return draw(st.sampled_from([1, 2, 20, 100, 0, 101]))
    if type_name in ("Date", "DateTime"):
        return draw(st.sampled_from(DATES))
    pool = STRINGS.get(name, DEFAULT_STRINGS)
    return pool[0] if draw(st.integers(0, 4)) else draw(st.sampled_from(pool))


def given(draw: st.DrawFn, name: str, arg_type: GraphQLInputType, deprecated: bool = False) -> bool:
    """Whether to give an optional input (required ones always are; deprecated ones
    seldom, as clients should not)."""
    if isinstance(arg_type, GraphQLNonNull):
        return True
    if deprecated:
        return draw(st.integers(0, 199)) == 100
    odds = 15 if name in USUALLY_GIVEN else 2
    return draw(st.integers(0, 15)) < odds


def input_object(draw: st.DrawFn, gql_type: GraphQLInputObjectType, own: str, ids: Ids) -> Any:
    value: dict[str, Any] = {}
    for name, input_field in gql_type.fields.items():
        if given(draw, name, input_field.type):
            explicit_null = (
                not isinstance(input_field.type, GraphQLNonNull) and draw(st.integers(0, 9)) == 0
            )
            value[name] = (
                None if explicit_null else input_value(draw, input_field.type, name, own, ids)
            )
    return value


# -- operations ----------------------------------------------------------------------------


def root_fields(schema: GraphQLSchema) -> dict[str, tuple[str, GraphQLField]]:
    """Every root field: name -> (``query`` | ``mutation``, field)."""
    roots: dict[str, tuple[str, GraphQLField]] = {}
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, gql_field in root.fields.items():
            roots[name] = (kind, gql_field)
    return roots


@st.composite
def operation(
    draw: st.DrawFn,
    schema: GraphQLSchema,
    root: str,
    ids: Ids,
    *,
    fixed: dict[str, Any] | None = None,
    must: tuple[str, ...] = (),
) -> Operation:
    """A document calling ``root`` (aliased or not) with generated arguments (``fixed``
    ones as given); ``must`` fields are selected on the record it is about."""
    kind, gql_field = root_fields(schema)[root]
    own = data_type(gql_field)
    variables: dict[str, Any] = {}
    declared, passed = [], []
    for arg_name, argument in gql_field.args.items():
        if fixed and arg_name in fixed and isinstance(argument.type, GraphQLNonNull):
            value = fixed[arg_name]
        elif given(draw, arg_name, argument.type, argument.deprecation_reason is not None):
            value = input_value(draw, argument.type, arg_name, own, ids)
        else:
            continue
        declared.append(f"${arg_name}: {argument.type}")
        passed.append(f"{arg_name}: ${arg_name}")
        variables[arg_name] = value
    named = get_named_type(gql_field.type)
    assert isinstance(named, GraphQLObjectType)
    if "data" in named.fields:  # a payload or a page: always its record(s)
        text, picked = draw(selection(named, 0, ("data",), must))
    else:
        text, picked = draw(selection(named, 1, must))
    key = root if draw(st.booleans()) else f"r_{root}"
    alias = f"{key}: " if key != root else ""
    header = f"({', '.join(declared)})" if declared else ""
    args = f"({', '.join(passed)})" if passed else ""
    body = f"{kind} Op{header} {{ {alias}{root}{args} {text} }}"
    picked_root = (Picked(key, root, kind, named.name, picked),)
    parts = (header, f"{alias}{root}{args}", text)
    return Operation(root, kind, key, body, variables, picked_root, own, named.name, parts)
