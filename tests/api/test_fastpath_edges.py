"""Fast-path guards the differential test rarely reaches: the token limit on its own
parser, the operation a document names, and long lists answered a chunk at a time."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

from graphql import specified_scalar_types
from hypothesis import given
from hypothesis import strategies as st
from loop_turns import LoopTurns

from mock_semble.api.fastpath import _leaf
from mock_semble.api.http import GraphQLApi, execute
from mock_semble.api.response import ResponseBudget, encode_content
from mock_semble.api.schema import build_schema
from mock_semble.app import create_runtime
from mock_semble.core.context import RequestContext
from mock_semble.core.settings import Settings
from mock_semble.domains import DOMAINS
from mock_semble.webhooks import subscriptions_of
from mock_semble.webhooks.models import Subscription

SCHEMA = build_schema(DOMAINS, "strings")


def fresh_api() -> GraphQLApi:
    """A fast path with an empty plan cache: a plan compiled before a test (or before
    mutation testing switched a mutant on) must not answer for the code under test."""
    return GraphQLApi(SCHEMA)


def _context(operation_name: str | None = None, subscriptions: int = 0) -> RequestContext:
    runtime = create_runtime(Settings(event_types="strings"))
    token = runtime.tenancy.token("test-token")
    assert token is not None
    store = subscriptions_of(runtime)
    now = runtime.clock.now()
    for n in range(subscriptions):
        store.insert_loaded(
            Subscription(
                id=f"{n:024x}",
                practice_id=token.practice_id,
                signing_secret="whsec_" + "A" * 32,
                url=f"https://example.com/{n}",
                label=f"hook {n}",
                event_types=("patient.created",),
                headers=None,
                created_at=now,
                updated_at=now,
            )
        )
    ctx = RequestContext(runtime, token, runtime.tenancy.practices[token.practice_id])
    return dataclasses.replace(ctx, operation_name=operation_name)


def test_the_fast_path_parser_stops_at_10000_tokens_too() -> None:
    """SPEC §7: a document of more than 10 000 tokens is refused. The fast path parses
    before the full path does, so its own parser must stop there as well (the cache's
    length bound is a separate guard: the plan is built by the uncached compiler)."""
    fast = fresh_api().fast_path

    def document(strings: int) -> str:  # 23 tokens around the list
        return (
            'mutation { createWebhook(input: {url: "https://a.example.com/h", eventTypes: ['
            + '"p" ' * strings
            + '], label: "l"}) { error } }'
        )

    assert fast._compile_uncached(document(10_000 - 23), None) is not None
    assert fast._compile_uncached(document(10_001 - 23), None) is None


def test_an_operation_name_the_document_lacks_is_refused_on_both_paths() -> None:
    query = "query Mine { webhooks { id } }"
    for name, expected in (
        ("Other", {"data": None, "errors": ['Unknown operation named "Other".']}),
        ("Mine", {"data": {"webhooks": []}, "errors": []}),
        (None, {"data": {"webhooks": []}, "errors": []}),
    ):
        for fast_path in (True, False):
            ctx = _context(name)
            answering = execute(fresh_api(), query, None, ctx, fast_path=fast_path)
            _, answer = asyncio.run(answering)
            errors = [e["message"] for e in answer.get("errors", [])]
            assert {"data": answer["data"], "errors": errors} == expected, (name, fast_path)
    assert fresh_api().fast_path.compile(query, "Other") is None


def test_a_long_list_is_answered_a_chunk_at_a_time() -> None:
    """SPEC §7: no request holds the loop for long. 1 000 records are projected and
    encoded 256 at a time, with a turn for other requests between chunks; the answer
    is the one a single pass would give."""
    count = 1_000
    ctx = _context(subscriptions=count)
    query = "{ webhooks { id label } }"
    api = fresh_api()
    assert api.fast_path.compile(query, None) is not None

    async def answered() -> tuple[int, bytes]:
        budget = ResponseBudget()
        async with LoopTurns() as turns:
            _, content = await execute(api, query, None, ctx, fast_path=True, budget=budget)
        return turns.count, b"".join(await encode_content(content, budget))

    turns, body = asyncio.run(answered())
    assert turns >= 3  # between the 4 chunks, while the records were projected and encoded
    answer: dict[str, Any] = json.loads(body)
    webhooks = answer["data"]["webhooks"]
    assert [w["label"] for w in webhooks] == [f"hook {n}" for n in range(count)]


def test_apollo_style_typename_everywhere_stays_on_the_fast_path() -> None:
    """Apollo Client adds ``__typename`` to every selection set: such documents must not
    fall back to the slow full pipeline, and answer the type's name."""
    query = "{ __typename webhooks { __typename id label } }"
    compiled = fresh_api().fast_path.compile(query, None)
    assert compiled is not None
    answer = asyncio.run(compiled.run(None, _context(subscriptions=1)))
    assert answer == {
        "data": {
            "__typename": "Query",
            "webhooks": [{"__typename": "WebhookSubscription", "id": "0" * 24, "label": "hook 0"}],
        }
    }


def test_the_plan_cache_is_bounded() -> None:
    """512 plans at most (memory is bounded); documents over 16 KiB are never cached."""
    fast = fresh_api().fast_path
    for n in range(600):
        assert fast.compile(f"query Q{n} {{ webhooks {{ id }} }}", None) is not None
    assert fast._compile.cache_info().currsize == 512
    padding = "query Long { webhooks { id } } #"
    at_limit = padding + "x" * (16 * 1024 - len(padding))
    assert len(at_limit) == 16 * 1024
    assert fast.compile(at_limit, None) is not None
    assert fast.compile(at_limit + "x", None) is None


SCALARS = {
    "String": st.text(),
    "ID": st.text() | st.integers(),
    "Boolean": st.booleans() | st.integers(0, 1),
    "Int": st.integers(-(2**31), 2**31 - 1) | st.booleans(),
    "Float": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53),
}


@given(st.sampled_from(sorted(SCALARS)).flatmap(lambda name: st.tuples(st.just(name),
       SCALARS[name] | st.none())))  # fmt: skip
def test_a_leaf_is_what_its_scalar_serializes(case: tuple[str, Any]) -> None:
    """The fast path's leaves answer what the schema's own scalar would (it only skips
    the call for values already in their JSON form), for any value the scalar takes."""
    name, value = case
    scalar = specified_scalar_types[name]
    expected = None if value is None else scalar.serialize(value)
    projected = _leaf(scalar)(value)
    assert (type(projected), projected) == (type(expected), expected)
