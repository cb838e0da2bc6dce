"""Issue 13, items 7 and 8, measured as the issue measured them: the resident memory of a
``mock-semble serve`` process (VmRSS) under requests that once took it past a gigabyte.

Each bound is stated with the arithmetic behind it; the figures go to the reliability
figures file (docs/reliability.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .helpers import CREATE, CliServer, Figures, graphql

TOKEN = "test-token"
KiB = 1024
MiB = 1024 * KiB
HEADERS = [{"key": f"X-H{n}", "value": "v" * 4096} for n in range(20)]


def _nested_variables(size: int) -> dict[str, Any]:
    """About ``size`` bytes of JSON that decode to many small lists (~23x the bytes)."""
    return {"v": [[[]] for _ in range(size // 6)]}


def test_request_journal_memory_is_bounded_without_a_token(
    cli_server: Callable[..., CliServer], figures: Figures
) -> None:
    """1,000 token-less requests with 64 KB of nested-array variables, then 300 with a
    near-1 MiB operationName: before the fix RSS went from 41 MB to 1.55 GB (decoded
    variables were kept whole) and +300 MB (names kept whole). The journal keeps at most
    1,000 entries of a 4 KiB rendering and a 256-character name: ~5 MB."""
    server = cli_server("--log-level", "warning", name="request-journal")
    body = {"query": "{ webhooks { id } }", "variables": _nested_variables(64 * KiB)}
    encoded = json.dumps(body).encode()
    assert 60 * KiB < len(encoded) < 1 * MiB
    with server.client(headers={"content-type": "application/json"}) as http:
        for _ in range(20):  # warm-up: first requests, allocator arenas
            http.post("/graphql", content=encoded)
        before = server.rss_kib()
        for _ in range(1_000):
            assert http.post("/graphql", content=encoded).status_code == 401
        after_variables = server.rss_kib()
        name = "N" * (1 * MiB - 200)
        named = json.dumps({"query": "{ webhooks { id } }", "operationName": name}).encode()
        for _ in range(300):
            assert http.post("/graphql", content=named).status_code == 401
        after_names = server.rss_kib()
        journal = http.get("/__mock/requests", params={"limit": 1000}).json()["requests"]
    bound_kib = 48 * 1024  # the journal's ~5 MB, plus allocator slack
    figures.record(
        "hardening_request_journal",
        rss_kib={"before": before, "after_variables": after_variables, "after_names": after_names},
        bound_kib=bound_kib,
    )
    assert len(journal) == 1000
    assert all(len(entry["operationName"] or "") <= 256 for entry in journal)
    assert all(len(json.dumps(entry["variables"])) <= 4200 for entry in journal)
    assert after_names - before <= bound_kib, (before, after_variables, after_names)


def test_delivery_memory_is_bounded_with_maximal_headers_and_identifiers(
    cli_server: Callable[..., CliServer], figures: Figures
) -> None:
    """100 subscriptions with 20 headers of 4 KiB, 100 fires each (10,000 deliveries),
    and identifiers of 900 KB (once fanned out to 2 GB): the journal holds at most
    64 MiB of estimated entries and identifiers over 256 characters are refused."""
    server = cli_server("--delivery-mode", "record", "--log-level", "warning", name="deliveries")
    with server.client(timeout=120) as http:
        for n in range(100):
            variables = {
                "input": {
                    "url": f"https://mem.example.com/{n}",
                    "label": "mem",
                    "eventTypes": ["PATIENT_CREATED"],
                    "headers": HEADERS,
                }
            }
            assert graphql(http, TOKEN, CREATE, variables)["data"]["createWebhook"]["error"] is None
        http.post("/__mock/events", json={"eventType": "PATIENT_CREATED"})  # warm-up
        before = server.rss_kib()
        huge = {"eventType": "PATIENT_CREATED", "identifiers": {"patientId": "a" * 900_000}}
        refused = http.post("/__mock/events", json=huge)
        for _ in range(100):
            assert (
                http.post("/__mock/events", json={"eventType": "PATIENT_CREATED"}).status_code
                == 200
            )
        after = server.rss_kib()
        page = http.get("/__mock/deliveries", params={"limit": 1000})
        evicted = page.json()["evicted"]
    bound_kib = 160 * 1024  # 64 MiB of entries (estimated as JSON text) plus slack
    figures.record(
        "hardening_delivery_memory",
        deliveries=10_100,
        evicted=evicted,
        rss_kib={"before": before, "after": after},
        page_bytes=len(page.content),
        bound_kib=bound_kib,
    )
    assert refused.status_code == 400
    assert evicted > 0
    assert len(page.content) <= 9 * MiB
    assert after - before <= bound_kib, (before, after)


def test_pages_of_deliveries_are_answered_quickly_enough_to_read(
    cli_server: Callable[..., CliServer],
) -> None:
    """Every page of the journal can be read, page after page, to the end."""
    server = cli_server("--delivery-mode", "record", "--log-level", "warning", name="pages")
    with server.client(timeout=60) as http:
        for n in range(3):
            graphql(
                http,
                TOKEN,
                CREATE,
                {
                    "input": {
                        "url": f"https://p.example.com/{n}",
                        "label": "p",
                        "eventTypes": ["PATIENT_CREATED"],
                    }
                },
            )
        for _ in range(50):
            http.post("/__mock/events", json={"eventType": "PATIENT_CREATED"})
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(100):
            params: dict[str, Any] = {"limit": 40}
            if cursor is not None:
                params["after"] = cursor
            page = http.get("/__mock/deliveries", params=params).json()
            seen += [d["id"] for d in page["deliveries"]]
            cursor = page["next"]
            if cursor is None:
                break
        everything = http.get("/__mock/deliveries", params={"limit": 1000}).json()["deliveries"]
    assert seen == [d["id"] for d in everything] and len(seen) == 150
