"""Query limits (SPEC §7): depth 20, aliases 30, tokens 10 000.

The depth rule is our own because strawberry's ``QueryDepthLimiter`` skips
introspection fields, so a deeply nested ``__schema { types { ofType … } }``
escaped it, and it fails on a spread of an unknown fragment. Introspection counts
here like any field; GraphiQL's own introspection query is 15 deep and passes.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule

MAX_DEPTH = 20
MAX_ALIASES = 30
MAX_TOKENS = 10_000


def selection_depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    limit: int,
    visiting: frozenset[str] = frozenset(),
) -> int:
    """Depth of the deepest field below ``selection_set``; stops counting past ``limit``."""
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            depth = 1
            if selection.selection_set is not None and limit > 0:
                depth += selection_depth(selection.selection_set, fragments, limit - 1, visiting)
        elif isinstance(selection, InlineFragmentNode):
            depth = selection_depth(selection.selection_set, fragments, limit, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:  # other rules report these
                continue
            depth = selection_depth(fragment.selection_set, fragments, limit, visiting | {name})
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
    return deepest


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
LIMIT_RULES: list[type[ValidationRule]] = [depth_rule(MAX_DEPTH), alias_rule(MAX_ALIASES)]
