"""The compiled fast path answers exactly as the full strawberry pipeline would.

Two runtimes with the same seed and a frozen clock receive the same random sequence of
operations; one answers through ``execute(..., fast_path=True)``, the other through the
full pipeline. Every response must be identical, errors and ids included.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_semble.api.http import GraphQLApi, execute
from mock_semble.api.schema import build_schema
from mock_semble.app import create_runtime
from mock_semble.core.context import RequestContext
from mock_semble.core.runtime import Runtime
from mock_semble.core.settings import Settings
from mock_semble.core.tenancy import ALL_PERMISSIONS, Permission, PracticeSeed, TokenSeed
from mock_semble.domains import DOMAINS
from mock_semble.webhooks import subscriptions_of

PRACTICE = "0000000000000000000000f1"
TOKENS = {"full": ALL_PERMISSIONS, "read": frozenset({Permission.SEE_WEBHOOKS})}
SUB_FIELDS = [
    "id",
    "secret",
    "url",
    "label",
    "eventTypes",
    "version",
    "createdAt",
    "updatedAt",
    "deleted",
    "deliveryPaused",
    "__typename",
]
URLS = [
    "https://a.example.com/h",
    "HTTPS://A.example.com:443/h",
    "https://b.example.com/h",
    "http://a.example.com/h",
]
EVENTS = ["PATIENT_CREATED", "PATIENT_UPDATED", "PATIENT_DELETED"]


API = GraphQLApi(build_schema(DOMAINS, "enum"))


def compile_document(query: str, operation_name: str | None) -> Any:
    return API.fast_path.compile(query, operation_name)


def runtime() -> Runtime:
    rt = create_runtime(
        Settings(
            seed=7,
            practices=(PracticeSeed("P", PRACTICE),),
            tokens=tuple(TokenSeed(t, PRACTICE, p) for t, p in TOKENS.items()),
        )
    )
    rt.clock.freeze(datetime(2026, 11, 28, 15, 2, 26, 123000, tzinfo=UTC))
    return rt


@st.composite
def selection(draw: st.DrawFn) -> str:
    fields = draw(st.lists(st.sampled_from(SUB_FIELDS), min_size=1, max_size=6, unique=True))
    parts = []
    for n, name in enumerate(fields):
        alias = f"a{n}: " if draw(st.booleans()) and name != "__typename" else ""
        parts.append(alias + name)
    if draw(st.booleans()):
        inner = draw(
            st.lists(st.sampled_from(["key", "value", "__typename"]), min_size=1, unique=True)
        )
        parts.append("headers { " + " ".join(inner) + " }")
    return "{ " + " ".join(parts) + " }"


def webhook_input(draw: st.DrawFn, *, partial: bool) -> dict[str, Any]:
    value: dict[str, Any] = {}
    if not partial or draw(st.booleans()):
        value["url"] = draw(st.sampled_from(URLS))
    if not partial or draw(st.booleans()):
        value["eventTypes"] = draw(st.lists(st.sampled_from(EVENTS), max_size=3))
    if not partial or draw(st.booleans()):
        value["label"] = draw(st.sampled_from(["hook", " ", "x" * 257]))
    if draw(st.booleans()):
        value["headers"] = draw(
            st.sampled_from([[], [{"key": "X-A", "value": "1"}], [{"key": "Host", "value": "x"}]])
        )
    if partial and draw(st.booleans()):
        value["deliveryPaused"] = draw(st.booleans())
    return value


@st.composite
def operation(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    token = draw(st.sampled_from(list(TOKENS)))
    sel = draw(selection())
    payload = "{ data " + sel + " error" + (" __typename" if draw(st.booleans()) else "") + " }"
    sub_id = draw(st.sampled_from(["ref", "0" * 24, "nope"]))
    kind = draw(st.sampled_from(["list", "get", "create", "update", "delete"]))
    if kind == "list":
        include = draw(st.sampled_from(["", "(includeDeleted: true)", "(includeDeleted: false)"]))
        return token, f"query {{ webhooks{include} {sel} }}", {}
    if kind == "get":
        return token, f"query($id: ID!) {{ webhook(id: $id) {sel} }}", {"id": sub_id}
    if kind == "create":
        body = webhook_input(draw, partial=False)
        query = f"mutation($i: CreateWebhookInput!) {{ createWebhook(input: $i) {payload} }}"
        return token, query, {"i": body}
    if kind == "update":
        body = webhook_input(draw, partial=True)
        query = (
            "mutation($id: ID!, $i: UpdateWebhookInput!) "
            f"{{ updateWebhook(id: $id, input: $i) {payload} }}"
        )
        return token, query, {"id": sub_id, "i": body}
    return token, f"mutation($id: ID!) {{ deleteWebhook(id: $id) {payload} }}", {"id": sub_id}


async def answer(rt: Runtime, token: str, query: str, variables: dict[str, Any], fast: bool) -> Any:
    tok = rt.tenancy.token(token)
    assert tok is not None
    ctx = RequestContext(rt, tok, rt.tenancy.practices[PRACTICE])
    return await execute(API, query, variables, ctx, fast_path=fast)


@settings(max_examples=150, deadline=None)
@given(st.lists(operation(), min_size=1, max_size=10))
def test_fast_path_matches_the_full_pipeline(ops: list[tuple[str, str, dict[str, Any]]]) -> None:
    fast, full = runtime(), runtime()

    async def run() -> None:
        last_id = "0" * 24
        for token, query, variables in ops:
            if variables.get("id") == "ref":
                variables = {**variables, "id": last_id}
            a = await answer(fast, token, query, variables, True)
            b = await answer(full, token, query, variables, False)
            assert a == b, (query, variables)
            created = (a[1].get("data") or {}).get("createWebhook") or {}
            if (created.get("data") or {}).get("id"):
                last_id = created["data"]["id"]
        assert subscriptions_of(fast).list(PRACTICE, include_deleted=True) == subscriptions_of(
            full
        ).list(PRACTICE, include_deleted=True)

    asyncio.run(run())


def test_plain_documents_compile_and_others_do_not() -> None:
    assert compile_document("{ webhooks { id url } }", None) is not None
    assert compile_document("query($id: ID!) { webhook(id: $id) { id } }", None) is not None
    for query in (
        "{ webhooks { ...F } } fragment F on WebhookSubscription { id }",
        "{ webhooks { id @include(if: true) } }",
        "{ webhooks { id id } }",
        "{ __schema { types { name } } }",
        'mutation { a: deleteWebhook(id: "x") { error } b: deleteWebhook(id: "y") { error } }',
        "{ webhooks { nope } }",
        "{ webhooks { id ",
    ):
        assert compile_document(query, None) is None, query


def test_the_fast_path_really_answers_plain_operations() -> None:
    asyncio.run(_really_answers())


async def _really_answers() -> None:
    rt = runtime()
    tok = rt.tenancy.token("full")
    assert tok is not None
    ctx = RequestContext(rt, tok, rt.tenancy.practices[PRACTICE])
    create = compile_document(
        "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { data { id } error } }",
        None,
    )
    assert create is not None
    made = await create.run({"i": {"url": URLS[0], "eventTypes": EVENTS[:1], "label": "x"}}, ctx)
    assert made is not None and made["data"]["createWebhook"]["error"] is None
    listed = compile_document("{ webhooks { id } }", None)
    assert listed is not None
    assert await listed.run(None, ctx) == {
        "data": {"webhooks": [made["data"]["createWebhook"]["data"]]}
    }
    # a refused mutation answers its payload error, having changed nothing
    refused = await create.run({"i": {"url": URLS[1], "eventTypes": EVENTS[:1], "label": "x"}}, ctx)
    assert refused is not None
    assert refused["data"]["createWebhook"]["error"] == (
        "A webhook subscription with this url and an overlapping event type already exists"
    )
    assert len(subscriptions_of(rt).list(PRACTICE)) == 1
