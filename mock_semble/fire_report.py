"""What ``mock-semble fire`` tells its user: one line per delivery, why nothing was sent
when nothing was, and — with ``--wait`` — a progress line while retries run.

Standard library only: ``fire`` talks to a running server and loads no server code.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

WEBHOOKS_DISABLED = "Webhooks are not enabled for this practice."
POLL_S = 1.0  # how often the progress watcher reads the journal
QUIET_S = 10.0  # with nothing new for this long, say that it still waits


def delivery_line(delivery: Mapping[str, Any]) -> str:
    line = f"{delivery['id']} {delivery['status']} {delivery['eventType']} -> "
    line += str(delivery["targetUrl"])
    attempts = delivery["attempts"]
    if attempts:
        last = attempts[-1]
        outcome = last["error"] or f"HTTP {last['responseStatus']}"
        if last["responseStatus"] is None and last["error"] is None:
            outcome = "signed, not sent"
        count = len(attempts)
        line += f" ({count} attempt{'s' if count > 1 else ''}, last: {outcome})"
    return line


def nothing_sent(event_type: str, deliveries: list[dict[str, Any]]) -> str | None:
    """Why no delivery was sent, or None when one was (or will be)."""
    if not deliveries:
        return (
            f"no subscription of the practice lists {event_type}, so nothing was sent "
            "(create one with createWebhook, or check the event type and --practice)"
        )
    if all(d["status"] == "skipped_paused" for d in deliveries):
        return (
            f"every subscription that lists {event_type} is paused (deliveryPaused), "
            "so nothing was sent"
        )
    return None


def refusal(status: int, reason: str) -> str:
    """The server's refusal of a fire, in words that say what to change."""
    if status == 409 and reason == WEBHOOKS_DISABLED:
        return "the practice has webhooks disabled (webhooksEnabled: false), so nothing was sent"
    return f"fire failed ({status}): {reason}"


def _retrying(
    base: str, headers: Mapping[str, str], event_type: str, practice_id: str | None
) -> list[dict[str, Any]]:
    query = {"eventType": event_type, "status": "retrying", "limit": "100"}
    if practice_id:
        query["practiceId"] = practice_id
    url = f"{base}/__mock/deliveries?{urllib.parse.urlencode(query)}"
    request = urllib.request.Request(url, headers=dict(headers))
    with urllib.request.urlopen(request, timeout=5) as response:
        page = json.loads(response.read())
    return list(page.get("deliveries", []))


def watch_progress(
    base: str,
    headers: Mapping[str, str],
    event_type: str,
    practice_id: str | None,
    done: threading.Event,
    say: Callable[[str], None],
) -> None:
    """Until ``done``: a line for every failed attempt that will be retried, and one
    every :data:`QUIET_S` seconds of silence. Best effort: a failed poll says nothing."""
    started = last_said = time.monotonic()
    seen: set[tuple[str, int]] = set()
    while not done.wait(POLL_S):
        try:
            retrying = _retrying(base, headers, event_type, practice_id)
        except (OSError, ValueError):
            retrying = []
        for delivery in retrying:
            attempts = delivery.get("attempts") or []
            key = (str(delivery.get("id")), len(attempts))
            if key in seen or not attempts:
                continue
            seen.add(key)
            last = attempts[-1]
            outcome = last.get("error") or f"HTTP {last.get('responseStatus')}"
            say(
                f"retrying {delivery.get('id')} -> {delivery.get('targetUrl')}: attempt "
                f"{len(attempts)} failed ({outcome}); the next one follows the retry schedule"
            )
            last_said = time.monotonic()
        now = time.monotonic()
        if not done.is_set() and now - last_said >= QUIET_S:
            say(f"still waiting for deliveries to finish ({now - started:.0f} s)")
            last_said = now
