"""Input limits (SPEC §7): query depth 20, aliases 30, tokens 10 000.

The depth rule is our own because strawberry's ``QueryDepthLimiter`` skips
introspection fields, so a deeply nested ``__schema { types { ofType … } }``
escaped it, and it fails on a spread of an unknown fragment. Introspection counts
here like any field; GraphiQL's own introspection query is 15 deep and passes.
The alias rule is our own too: strawberry's ``MaxAliasesLimiter`` expands every
fragment spread again, so fragments that spread each other twice cost 2**n. Both
rules measure each fragment once per document.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from graphql.validation import ASTValidationRule

MAX_DEPTH = 20
MAX_ALIASES = 30
MAX_TOKENS = 10_000
# Documents longer than this are parsed and validated every time instead of cached:
# every cache is bounded in entries, but an entry holds the whole text (up to 1 MiB).
MAX_CACHED_QUERY = 16 * 1024


def selection_depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    limit: int,
    visiting: frozenset[str] = frozenset(),
    memo: dict[tuple[str, int], int] | None = None,
) -> int:
    """Depth of the deepest field below ``selection_set``; stops counting past ``limit``.
    ``memo`` keeps each fragment's depth per remaining limit, so a fragment spread many
    times is measured once."""
    if selection_set is None:
        return 0
    if memo is None:
        memo = {}
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            depth = 1
            if selection.selection_set is not None and limit > 0:
                depth += selection_depth(
                    selection.selection_set, fragments, limit - 1, visiting, memo
                )
        elif isinstance(selection, InlineFragmentNode):
            depth = selection_depth(selection.selection_set, fragments, limit, visiting, memo)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:  # other rules report these
                continue
            if (name, limit) not in memo:
                memo[(name, limit)] = selection_depth(
                    fragment.selection_set, fragments, limit, visiting | {name}, memo
                )
            depth = memo[(name, limit)]
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
    return deepest


def count_aliases(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    memo: dict[str, int],
    visiting: frozenset[str] = frozenset(),
) -> int:
    """Aliased fields below ``selection_set``, a fragment counted at each of its spreads
    (as strawberry counts them) but measured once (``memo``: fragment -> count)."""
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += selection.alias is not None
            total += count_aliases(selection.selection_set, fragments, memo, visiting)
        elif isinstance(selection, InlineFragmentNode):
            total += count_aliases(selection.selection_set, fragments, memo, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:
                continue
            if name not in memo:
                memo[name] = count_aliases(
                    fragment.selection_set, fragments, memo, visiting | {name}
                )
            total += memo[name]
    return total


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    class MaxAliasesRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            fragments = {
                d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
            }
            memo: dict[str, int] = {}
            total = sum(
                count_aliases(d.selection_set, fragments, memo)
                for d in node.definitions
                if isinstance(d, OperationDefinitionNode)
            )
            if total > max_aliases:
                self.report_error(GraphQLError(f"{total} aliases found. Allowed: {max_aliases}"))

    return MaxAliasesRule


def depth_rule(max_depth: int) -> type[ValidationRule]:
    class MaxDepthRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            if selection_depth(node.selection_set, fragments, max_depth) > max_depth:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", node)
                )

    return MaxDepthRule


# Built once: a limit rule made per request would defeat the validation cache
# (strawberry issue #4635), since the cache key includes the rule classes.
LIMIT_RULES: list[type[ASTValidationRule]] = [depth_rule(MAX_DEPTH), alias_rule(MAX_ALIASES)]
