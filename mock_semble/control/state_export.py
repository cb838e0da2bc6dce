"""Exporting the state document (``GET /__mock/state``) without holding the event loop.

At 10⁵ records, converting and encoding the whole document takes about a second; done in
one go, every other request would wait for it (SPEC §7 allows ~100 ms). So the route's
export works in slices and yields to the loop between them. A change made meanwhile
could make the document inconsistent (two subscriptions claiming one URL, say, which
would not import back), so each store counts its changes and the export starts again
when the count moved. After a few tries under constant change it takes one pass without
yielding, like a small export, so it always ends.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..core.runtime import Runtime
from ..core.tenancy import practice_json, user_json
from .base import encode_json

STATE_VERSION = 2
SLICE = 200  # records converted between two looks at the time
YIELD_AFTER = 0.02  # seconds of work before the loop gets a turn
TRIES = 3


def _head(runtime: Runtime) -> dict[str, Any]:
    return {
        "version": STATE_VERSION,
        "practices": [practice_json(p) for p in runtime.tenancy.practices.values()],
        "tokens": [
            {
                "token": t.token,
                "practiceId": t.practice_id,
                "permissions": sorted(p.value for p in t.permissions),
                "user": user_json(t.user),
            }
            for t in runtime.tenancy.tokens.values()
        ],
    }


def export_state(runtime: Runtime) -> dict[str, Any]:
    """Everything as a state document, in one consistent pass (insertion order)."""
    with runtime.lock:
        document = _head(runtime)
        for domain in runtime.domains:
            section = domain.state
            records = section.records(runtime.stores[domain.name])
            document[section.key] = [section.record_json(r) for r in records]
        return document


async def export_state_parts(runtime: Runtime) -> list[bytes]:
    """The state document as UTF-8 JSON, in parts to send one after the other (joining
    10⁵ records' worth would hold the loop again), yielding to the loop while it is built."""
    for _ in range(TRIES):
        parts = await _export_in_slices(runtime)
        if parts is not None:
            return parts
    return [encode_json(export_state(runtime))]


def changes(runtime: Runtime) -> int:
    """Changes made so far to practices, tokens and every store (only ever grows)."""
    return runtime.tenancy.changes + sum(store.changes for store in runtime.stores.values())


async def _export_in_slices(runtime: Runtime) -> list[bytes] | None:
    """The document's parts, or None when something changed while it was being built."""
    with runtime.lock:
        seen = changes(runtime)
        head = _head(runtime)
        listed = [(d.state, d.state.records(runtime.stores[d.name])) for d in runtime.domains]
    parts = [encode_json(head)[:-1]]  # without its closing brace
    started = time.perf_counter()
    for section, records in listed:
        parts.append(b"," + encode_json(section.key) + b":[")
        for start in range(0, len(records), SLICE):
            if time.perf_counter() - started > YIELD_AFTER:
                await asyncio.sleep(0)
                started = time.perf_counter()
            with runtime.lock:
                # Every slice so far was read with the count at ``seen``: no change
                # before this one means the whole document describes one moment.
                if changes(runtime) != seen:
                    return None
                items = [section.record_json(r) for r in records[start : start + SLICE]]
            parts.append((b"," if start else b"") + encode_json(items)[1:-1])
        parts.append(b"]")
    parts.append(b"}")
    return parts
