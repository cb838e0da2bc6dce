"""Compiled argument conversion for the fast path: GraphQL input values to the Python
values strawberry's resolvers take, decided once per root field from the schema's own
types (strawberry's ``convert_arguments`` re-inspects every type on every call, which
cost a third of a plain mutation).

Only what strawberry itself does for these kinds is done here: optional and list
wrappers, leaves (scalars and enums, already parsed by graphql-core's coercion) as they
are, and input objects built from their fields. Anything else (``Maybe``, ``GlobalID``,
lazy types, custom ``from_input``) raises :class:`Unsupported` at compile time and the
document runs through the full pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.scalar import ScalarDefinition, ScalarWrapper
from strawberry.types.unset import UNSET

Convert = Callable[[Any], Any]
Registry = Mapping[object, ScalarWrapper | ScalarDefinition]


class Unsupported(Exception):
    """An argument type this converter does not handle: use the full pipeline."""


def _identity(value: Any) -> Any:
    return value


def _converter(type_: Any, registry: Registry, config: StrawberryConfig) -> Convert:
    if isinstance(type_, StrawberryMaybe | LazyType) or type_ is GlobalID:
        raise Unsupported
    if isinstance(type_, StrawberryOptional):
        inner = _converter(type_.of_type, registry, config)
        return lambda v: v if v is None or v is UNSET else inner(v)
    if isinstance(type_, StrawberryList):
        item = _converter(type_.of_type, registry, config)
        if item is _identity:
            return lambda v: None if v is None else list(v)  # a copy: defaults are shared
        return lambda v: None if v is None else [item(x) for x in v]
    if isinstance(type_, StrawberryEnumDefinition) or has_enum_definition(type_):
        return _identity
    if is_scalar(type_, registry):
        return _identity
    if has_object_definition(type_):
        return _input_object(type_, registry, config)
    raise Unsupported


def _input_object(cls: Any, registry: Registry, config: StrawberryConfig) -> Convert:
    definition = cls.__strawberry_definition__
    if not definition.is_input or definition.from_input is not None:
        raise Unsupported
    defaults = {
        f.python_name: None
        for f in definition.fields
        if f.default_value is MISSING and f.default_factory is MISSING
    }
    fields = [
        (
            config.name_converter.from_field(f),
            f.python_name,
            _converter(f.resolve_type(type_definition=definition), registry, config),
        )
        for f in definition.fields
    ]

    def build(value: Any) -> Any:
        if value is None:
            return None
        kwargs = dict(defaults)
        for graphql_name, python_name, convert in fields:
            if graphql_name in value:
                kwargs[python_name] = convert(value[graphql_name])
        return cls(**kwargs)

    return build


def compile_arguments(
    arguments: list[StrawberryArgument], registry: Registry, config: StrawberryConfig
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function from coerced GraphQL argument values to the resolver's kwargs."""
    plan = [
        (
            config.name_converter.from_argument(a),
            a.python_name,
            _converter(a.type, registry, config),
        )
        for a in arguments
    ]

    def convert(raw: Mapping[str, Any]) -> dict[str, Any]:
        return {python: conv(raw[name]) for name, python, conv in plan if name in raw}

    return convert
