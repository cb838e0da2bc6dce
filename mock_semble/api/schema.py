"""The served schema, assembled from the domains' root types (SPEC §1, §3).

Knows no domain by name: :func:`build_schema` merges whatever ``Query``/``Mutation``
types the registered domains give for an API version, and maps Python's ``datetime``
and ``date`` to Semble's ``DateTime`` and ``Date`` scalars.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from ..core.domain import Domain
from ..core.scalars import DATE, DATETIME
from .errors import ExecutionTracker
from .executor import BudgetedExecutor
from .limits import LIMIT_RULES, MAX_CACHED_QUERY, MAX_TOKENS


class SmallDocumentParserCache(ParserCache):
    """strawberry's ParserCache for documents up to MAX_CACHED_QUERY characters; larger
    ones are parsed by strawberry itself (128 cached near-1 MiB documents hold ~250 MiB)."""

    def on_parse(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > MAX_CACHED_QUERY:
            yield
        else:
            yield from super().on_parse()


class SmallDocumentValidationCache(ValidationCache):
    """strawberry's ValidationCache (keyed by the parsed document) for small documents."""

    def on_validate(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > MAX_CACHED_QUERY:
            yield
        else:
            yield from super().on_validate()


class MockSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Client errors are answers, not faults: errors.format_error logs real faults.
        return None


@lru_cache(maxsize=8)
def build_schema(domains: Sequence[Domain], mode: str) -> MockSchema:
    """The schema of ``domains`` for API version ``mode`` ("enum" or "strings")."""
    roots = [domain.graphql(mode) for domain in domains]
    query = merge_types("Query", tuple(q for q, _ in roots))
    mutation = merge_types("Mutation", tuple(m for _, m in roots))
    query.__strawberry_definition__.description = "Read operations."  # type: ignore[attr-defined]
    mutation.__strawberry_definition__.description = "Write operations."  # type: ignore[attr-defined]
    return MockSchema(
        query=query,
        mutation=mutation,
        config=StrawberryConfig(scalar_map={datetime: DATETIME, date: DATE}),
        execution_context_class=BudgetedExecutor,  # bounded answers (SPEC §7)
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            SmallDocumentParserCache,
            SmallDocumentValidationCache,
            lambda: AddValidationRules(LIMIT_RULES),
            ExecutionTracker,
        ],
    )


def sdl(schema: strawberry.Schema) -> str:
    """The SDL as ``schema.graphql`` holds it."""
    return schema.as_str() + "\n"
