"""Patients phase (issue 11): server-side cost of a 100-item ``patients`` page and of
createPatient / updatePatient as the practice grows from 10^2 to 10^5 patients.

Server-side means the GraphQL execution in the server's own process (the same
``execute`` the ``/graphql`` endpoint calls, fast path included), without HTTP: the
budget is about the store and the projection, which HTTP would only blur.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from mock_semble.api.http import GraphQLApi, execute
from mock_semble.api.schema import build_schema
from mock_semble.app import create_runtime
from mock_semble.core.context import RequestContext
from mock_semble.core.runtime import Runtime
from mock_semble.core.settings import Settings
from mock_semble.domains import DOMAINS

from .plan import Plan
from .results import Results, fmt, ms
from .wire import median

CREATE = (
    "mutation C($d: CreatePatientDataInput) { createPatient(patientData: $d) "
    "{ data { id } error } }"
)
UPDATE = (
    "mutation U($id: ID!, $d: UpdatePatientDataInput!) { updatePatient(id: $id, patientData: $d) "
    "{ data { id updatedAt } error } }"
)
PAGE = (
    "query P($p: Pagination) { patients(pagination: $p) { data { id firstName lastName "
    "email dob status createdAt updatedAt phones { phoneId phoneNumber } } "
    "pageInfo { page pageSize hasMore } } }"
)
SAMPLES = 200


async def _run(api: GraphQLApi, runtime: Runtime, query: str, variables: dict[str, Any]) -> Any:
    token = runtime.tenancy.token("test-token")
    assert token is not None
    ctx = RequestContext(runtime, token, runtime.tenancy.practices[token.practice_id])
    status, content = await execute(api, query, variables, ctx)
    if status != 200 or "errors" in content:
        raise RuntimeError(f"patients benchmark: {content}")
    return content["data"]


def _patient(n: int) -> dict[str, Any]:
    return {
        "first": f"Ada{n}",
        "last": "Lovelace",
        "email": f"p{n}@example.com",
        "dob": "1990-01-02",
        "phoneType": "Mobile",
        "phoneNumber": f"07700 9{n:05d}",
    }


async def _level(api: GraphQLApi, size: int, samples: int) -> dict[str, float]:
    runtime = create_runtime(Settings(seed=1))
    ids = []
    for n in range(size):
        data = await _run(api, runtime, CREATE, {"d": _patient(n)})
        ids.append(data["createPatient"]["data"]["id"])
    rng = random.Random(size)
    pages = max(1, size // 100)
    timings: dict[str, list[float]] = {"page": [], "create": [], "update": []}
    for n in range(samples):
        start = time.perf_counter()
        await _run(api, runtime, PAGE, {"p": {"page": rng.randrange(pages) + 1, "pageSize": 100}})
        timings["page"].append(time.perf_counter() - start)
        start = time.perf_counter()
        await _run(api, runtime, CREATE, {"d": _patient(size + n)})
        timings["create"].append(time.perf_counter() - start)
        start = time.perf_counter()
        await _run(api, runtime, UPDATE, {"id": rng.choice(ids), "d": {"comments": f"c{n}"}})
        timings["update"].append(time.perf_counter() - start)
    return {name: median(values) for name, values in timings.items()}


def patients(plan: Plan, results: Results) -> None:
    api = GraphQLApi(build_schema(DOMAINS, "enum"))
    samples = 20 if plan.smoke else SAMPLES
    by_level = {size: asyncio.run(_level(api, size, samples)) for size in plan.scale_levels}
    for size, figures in by_level.items():
        for name, seconds in figures.items():
            label = {
                "page": "patients, 100-item page",
                "create": "createPatient",
                "update": "updatePatient",
            }[name]
            results.add(
                "patients",
                f"{label} at {size:,} patients",
                ms(seconds),
                "ms",
                note="server-side, median",
            )
    levels = sorted(by_level)
    page_level = 10_000 if 10_000 in by_level else levels[-1]
    page = by_level[page_level]["page"]
    results.budget(
        f"patients page (100) at {page_level:,} ≤ 5 ms server-side",
        "5 ms",
        f"{fmt(ms(page))} ms",
        ms(page) <= 5.0,
    )
    low, high = by_level[levels[0]], by_level[levels[-1]]
    worst = max(high[op] / low[op] for op in ("create", "update"))
    results.budget(
        f"create/update at {levels[-1]:,} within 1.2x of {levels[0]:,} patients",
        "1.2x",
        f"{worst:.2f}x (worse op)",
        worst <= 1.2,
    )
