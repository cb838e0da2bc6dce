"""A compiled fast path for plain documents (an optimisation, never a contract).

graphql-core's executor costs ~10x this path for a 10-item list. Most documents
clients send are plain: one operation, fields with no fragments, directives or
duplicate response keys. Such a document is parsed and validated once and compiled
into a plan driven by the schema's own types: root fields call strawberry's resolver
for that field (the same function the full path calls, with strawberry's own argument
conversion); results are projected by walking each selection's GraphQL type, reading
``field.python_name`` and serialising leaves with the schema's scalar and enum types.
Nothing here names a domain, a type or a field.

Anything the plan cannot do is found at compile time (a field with a resolver or
arguments below the root, an interface, introspection): the document then runs
through the full pipeline, before anything executed. At run time a variable that does
not coerce, or a refusal raised as a GraphQL error (FORBIDDEN), gives up and the full
pipeline answers; both happen before any change, so running it again is safe.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import lru_cache
from operator import attrgetter
from types import SimpleNamespace
from typing import Any, cast

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.types.field import StrawberryField

from ..core.context import RequestContext
from .arguments import Unsupported, compile_arguments
from .errors import INTERNAL, format_error
from .limits import LIMIT_RULES, MAX_CACHED_QUERY, MAX_TOKENS
from .response import RawJSON, ResponseBudget, dumps, encode_items
from .schema import MockSchema

Answer = dict[str, Any]
Project = Callable[[Any], Any]
BACKREF = "strawberry-definition"
_PASS_THROUGH = {"String": str, "ID": str, "Boolean": bool}


class NotPlain(Exception):
    """The document uses something the fast path does not compile."""


class GiveUp(Exception):
    """Let the full pipeline answer this request (nothing was changed)."""


def _fields(selection_set: SelectionSetNode | None) -> list[tuple[str, FieldNode]]:
    if selection_set is None:
        raise NotPlain
    result: list[tuple[str, FieldNode]] = []
    keys: set[str] = set()
    for node in selection_set.selections:
        if not isinstance(node, FieldNode) or node.directives:
            raise NotPlain
        key = node.alias.value if node.alias else node.name.value
        if key in keys:
            raise NotPlain  # graphql merges same-key fields: leave that to it
        keys.add(key)
        result.append((key, node))
    return result


def _constant(value: str) -> Callable[[Any], str]:
    return lambda _: value


def _identity(value: Any) -> Any:
    return value


def _leaf(gql_type: GraphQLScalarType | GraphQLEnumType) -> Project:
    serialize = gql_type.serialize
    plain = _PASS_THROUGH.get(gql_type.name)
    if plain is not None:
        return lambda v: v if type(v) is plain or v is None else serialize(v)
    return lambda v: None if v is None else serialize(v)


def _projector(gql_type: GraphQLOutputType, node: FieldNode) -> Project:
    """How to turn a resolved value of ``gql_type`` into JSON for ``node``'s selection."""
    if isinstance(gql_type, GraphQLNonNull):
        return _projector(gql_type.of_type, node)
    if isinstance(gql_type, GraphQLList):
        inner = _projector(gql_type.of_type, node)
        return lambda v: None if v is None else [inner(item) for item in v]
    if isinstance(gql_type, GraphQLScalarType | GraphQLEnumType):
        if node.selection_set is not None:
            raise NotPlain
        return _leaf(gql_type)
    if isinstance(gql_type, GraphQLObjectType):
        return _object(gql_type, node.selection_set)
    raise NotPlain  # interfaces and unions: the full path resolves their types


def _object(gql_type: GraphQLObjectType, selection_set: SelectionSetNode | None) -> Project:
    steps: list[tuple[str, Callable[[Any], Any], Project]] = []
    for key, node in _fields(selection_set):
        name = node.name.value
        if name == "__typename":
            steps.append((key, _constant(gql_type.name), _identity))
            continue
        field_def = gql_type.fields.get(name)
        if field_def is None or node.arguments:
            raise NotPlain
        strawberry_field = (field_def.extensions or {}).get(BACKREF)
        if not isinstance(strawberry_field, StrawberryField) or strawberry_field.base_resolver:
            raise NotPlain  # a resolver below the root: the full path runs it
        steps.append(
            (key, attrgetter(strawberry_field.python_name), _projector(field_def.type, node))
        )

    def project(value: Any) -> Any:
        if value is None:
            return None
        return {key: convert(read(value)) for key, read, convert in steps}

    return project


class Root:
    """One root field of a compiled operation."""

    __slots__ = (
        "call",
        "convert",
        "field_def",
        "items",
        "key",
        "node",
        "project",
        "wants_self",
    )

    def __init__(
        self, key: str, node: FieldNode, root_type: GraphQLObjectType, schema: MockSchema
    ) -> None:
        self.key = key
        self.node = node
        field_def = root_type.fields.get(node.name.value)
        if field_def is None:
            raise NotPlain  # introspection (__schema, __type) and the like
        strawberry_field = (field_def.extensions or {}).get(BACKREF)
        if not isinstance(strawberry_field, StrawberryField) or not strawberry_field.base_resolver:
            raise NotPlain
        resolver = strawberry_field.base_resolver
        if resolver.info_parameter is None or resolver.info_parameter.name != "info":
            raise NotPlain  # our resolvers take ``info`` by that name
        if resolver.root_parameter or resolver.parent_parameter:
            raise NotPlain
        try:
            self.convert = compile_arguments(
                strawberry_field.arguments,
                schema.schema_converter.scalar_registry,
                schema.config,
            )
        except Unsupported:
            raise NotPlain from None
        self.call = cast(Callable[..., Any], resolver.wrapped_func)
        self.wants_self = resolver.self_parameter is not None
        self.field_def = field_def
        self.project = _projector(field_def.type, node)
        listed = field_def.type
        if isinstance(listed, GraphQLNonNull):
            listed = listed.of_type
        # a list answers a chunk of items at a time (see .response)
        self.items = _projector(listed.of_type, node) if isinstance(listed, GraphQLList) else None

    async def answer(self, value: Any, budget: ResponseBudget | None) -> Any:
        """The projected value; with a ``budget``, encoded JSON counted against it."""
        if budget is None:
            return self.project(value)
        if self.items is not None and isinstance(value, list | tuple):
            return await encode_items(value, self.items, budget)
        text = dumps(self.project(value))
        budget.charge(len(text))
        return RawJSON([text])


class Compiled:
    def __init__(self, schema: MockSchema, operation: OperationDefinitionNode) -> None:
        self.schema = schema
        self.operation = operation
        self.kind = operation.operation
        root_type = schema._schema.get_root_type(self.kind)
        if root_type is None:
            raise NotPlain
        self.typename = root_type.name
        self.roots: list[Root | str] = []
        for key, node in _fields(operation.selection_set):
            if node.name.value == "__typename":
                self.roots.append(key)
            else:
                self.roots.append(Root(key, node, root_type, schema))
        if self.kind == OperationType.MUTATION and len(self.roots) != 1:
            raise NotPlain  # one side effect per document, so giving up stays safe

    async def run(
        self,
        variables: dict[str, Any] | None,
        ctx: RequestContext,
        budget: ResponseBudget | None = None,
    ) -> Answer | None:
        """The answer, or None for the full path to give it. With a ``budget`` the root
        values are encoded JSON (:class:`RawJSON`), built a chunk at a time."""
        gql_schema = self.schema._schema
        coerced = get_variable_values(
            gql_schema, self.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):
            return None
        data: Answer = {}
        errors: list[Any] = []
        nulls_data = False
        for root in self.roots:
            if isinstance(root, str):
                data[root] = self.typename
                continue
            try:
                value = await self._call(root, coerced, ctx)
            except (GraphQLError, GiveUp):
                ctx.payload_errors.clear()  # the full path records them again
                return None
            except Exception as exc:  # an unexpected fault: answered as the full path would
                error = GraphQLError(str(exc), path=[root.key], original_error=exc)
                errors.append(format_error(error, validated=True))
                data[root.key] = None
                # A null in a non-null root field propagates to ``data`` (GraphQL spec 6.4.4).
                nulls_data = nulls_data or isinstance(root.field_def.type, GraphQLNonNull)
                continue
            data[root.key] = await root.answer(value, budget)
        if errors:
            return {"data": None if nulls_data else data, "errors": errors}
        return {"data": data}

    async def _call(self, root: Root, coerced: Any, ctx: RequestContext) -> Any:
        try:
            raw = get_argument_values(root.field_def, root.node, coerced)
        except GraphQLError:
            raise GiveUp from None
        kwargs = root.convert(raw)
        kwargs["info"] = SimpleNamespace(context=ctx, path=SimpleNamespace(key=root.key, prev=None))
        result = root.call(None, **kwargs) if root.wants_self else root.call(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


class FastPath:
    """Compiles plain documents against one schema; a bounded cache of plans."""

    def __init__(self, schema: MockSchema) -> None:
        self.schema = schema
        self._compile = lru_cache(maxsize=512)(self._compile_uncached)

    def compile(self, query: str, operation_name: str | None) -> Compiled | None:
        """The plan for a plain, valid document; ``None`` sends it down the full path.
        Large documents are not compiled: the cache is keyed by the whole text, and 512
        distinct documents near the 1 MiB body limit would hold half a gigabyte."""
        if len(query) > MAX_CACHED_QUERY:
            return None
        return self._compile(query, operation_name)

    def _compile_uncached(self, query: str, operation_name: str | None) -> Compiled | None:
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError:
            return None
        if validate(self.schema._schema, document, [*specified_rules, *LIMIT_RULES]):
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or len(document.definitions) != 1:
            return None  # fragments or several operations: the full path
        try:
            return Compiled(self.schema, operation)
        except NotPlain:
            return None


__all__ = ["INTERNAL", "Compiled", "FastPath"]
