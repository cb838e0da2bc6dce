"""The inspector (SPEC §4.2): a page at ``GET /__mock/ui`` and the data it reads.

- ``GET /__mock/ui`` and ``GET /__mock/ui/{asset}``: the page and its files from
  ``static/inspector/``. Never guarded: with ``--admin-token`` the page asks for the
  token and sends it on every data call.
- ``GET /__mock/stream`` (guarded): server-sent events. ``hello`` (catalogue, settings)
  first, then ``world`` (practices, subscriptions, patients, clock) and ``requests``
  whenever they change (checked every second), ``delivery`` for every change of a
  journal entry (checked four times a second; see :mod:`.delivery_watch`) and
  ``removed`` for entries gone. Needs ``Accept: text/event-stream``; the page reads it
  with ``fetch`` so it can send the header. ``?topics=world,requests,deliveries``
  (default all), ``?replay=N`` (the newest N deliveries first; default 0).
- ``GET /__mock/view`` (guarded): the same, once, as JSON.
- ``GET /__mock/view/subscriptions/{id}/secret`` (guarded): the page's "reveal" click.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from ..core.runtime import Runtime
from ..delivery.engine import engine_of
from .base import BadRequest, error, guarded, only_params, runtime_of
from .delivery_watch import REMOVED, Change, DeliveryWatch
from .inspector_view import delivery_view, hello_view, requests_view, secret_view, world_view

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "inspector"
PAGE = "index.html"
_JS = "text/javascript; charset=utf-8"
ASSETS = {  # the only files served: no path from the URL reaches the file system
    "inspector.js": _JS,
    "render.js": _JS,
    "stream.js": _JS,
    "fire-form.js": _JS,
    "inspector.css": "text/css; charset=utf-8",
}
TOKEN_MARK = "{{ADMIN_TOKEN}}"
# Only this origin, no inline code: the page can reach nothing but the mock itself.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

TOPICS = ("world", "requests", "deliveries")
MAX_REPLAY = 500
DEFAULT_VIEW_DELIVERIES = 100
TICK_S = 0.25  # deliveries
SLOW_TICK_S = 1.0  # world and requests: rebuilt and compared once a second
KEEPALIVE_S = 15.0
EVENT_STREAM = "text/event-stream"
STOPPED = "inspector_streams_stopped"  # app.state flag set by stop_streams()


# -- the page ------------------------------------------------------------------------


@functools.cache
def _page_template() -> str:
    return (STATIC_DIR / PAGE).read_text(encoding="utf-8")


async def page(request: Request) -> Response:
    required = runtime_of(request).settings.admin_token is not None
    html = _page_template().replace(TOKEN_MARK, "required" if required else "none")
    return HTMLResponse(html, headers=PAGE_HEADERS)


async def asset(request: Request) -> Response:
    name = str(request.path_params["name"])
    media_type = ASSETS.get(name)
    if media_type is None:
        return error(f"unknown inspector asset: {name[:100]}", 404)
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers=PAGE_HEADERS)


# -- data ------------------------------------------------------------------------------


def _has_faults(app: Starlette) -> bool:
    """Whether ``/__mock/faults`` is served (the page shows that panel only then)."""
    return any(getattr(route, "path", None) == "/__mock/faults" for route in app.routes)


def _count(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > high:
        raise BadRequest(f"'{name}' must be an integer from 0 to {high}")
    return int(raw)


def _topics(request: Request) -> tuple[str, ...]:
    raw = request.query_params.get("topics")
    if raw is None:
        return TOPICS
    chosen = tuple(t.strip() for t in raw.split(",") if t.strip())
    unknown = sorted(set(chosen) - set(TOPICS))
    if unknown or not chosen:
        raise BadRequest(f"'topics' must list some of {', '.join(TOPICS)}")
    return chosen


async def view(request: Request) -> Response:
    only_params(request, ("limit",))
    limit = _count(request, "limit", DEFAULT_VIEW_DELIVERIES, MAX_REPLAY)
    runtime = runtime_of(request)
    journal = engine_of(runtime).journal
    newest = journal.added_after(0, limit) if limit else []
    return JSONResponse(
        {
            **hello_view(runtime, faults=_has_faults(request.app)),
            "world": world_view(runtime),
            "requests": requests_view(runtime),
            "deliveries": [delivery_view(d, runtime) for d in newest],
        }
    )


async def reveal_secret(request: Request) -> Response:
    only_params(request, ())
    subscription_id = str(request.path_params["subscription_id"])
    shown = secret_view(runtime_of(request), subscription_id)
    if shown is None:
        raise BadRequest(f"unknown subscription {subscription_id[:64]!r}", 404)
    return JSONResponse(shown, headers={"Cache-Control": "no-store"})


# -- the stream ----------------------------------------------------------------------------


def frame(event: str, data: Any) -> str:
    """One server-sent event (JSON on one ``data`` line: json.dumps escapes newlines)."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def stop_streams(app: Starlette) -> None:
    """End every open stream of ``app`` within a tick (any thread may call it): for a
    server whose shutdown does not close the delivery engine before draining requests
    (the in-process test server), an open stream would otherwise hold it."""
    setattr(app.state, STOPPED, True)


def _stopped(app: Starlette) -> bool:
    return bool(getattr(app.state, STOPPED, False))


async def stream(request: Request) -> Response:
    only_params(request, ("topics", "replay"))
    if EVENT_STREAM not in request.headers.get("accept", ""):
        raise BadRequest(f"this is an event stream: send 'Accept: {EVENT_STREAM}'", 406)
    topics = _topics(request)
    replay = _count(request, "replay", 0, MAX_REPLAY)
    events = _events(request.app, runtime_of(request), topics, replay)
    return StreamingResponse(
        events,
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _delivery_frames(runtime: Runtime, changes: list[Change]) -> list[str]:
    frames: list[str] = []
    removed = [c.delivery_id for c in changes if c.phase == REMOVED]
    if removed:
        frames.append(frame("removed", {"ids": removed}))
    for change in changes:
        if change.delivery is not None:
            data = {
                "phase": change.phase,
                "attempt": change.attempt,
                "delivery": delivery_view(change.delivery, runtime),
            }
            frames.append(frame("delivery", data))
    return frames


async def _events(
    app: Starlette, runtime: Runtime, topics: tuple[str, ...], replay: int
) -> AsyncIterator[str]:
    watch = DeliveryWatch(engine_of(runtime).journal) if "deliveries" in topics else None
    yield frame("hello", hello_view(runtime, faults=_has_faults(app)))
    if watch is not None:
        for chunk in _delivery_frames(runtime, watch.replay(replay)):
            yield chunk
    last: dict[str, str] = {}
    next_slow = 0.0
    last_sent = time.monotonic()
    # A stream ends when the server starts shutting down: the delivery engine closes
    # first (before uvicorn drains open requests), or a connected page would hold it.
    engine = engine_of(runtime)
    while not (engine.closing or _stopped(app)):
        frames: list[str] = []
        now = time.monotonic()
        if now >= next_slow:
            next_slow = now + SLOW_TICK_S
            views = {"world": world_view, "requests": requests_view}
            for topic, build in views.items():
                if topic in topics:
                    text = frame(topic, build(runtime))
                    if last.get(topic) != text:
                        last[topic] = text
                        frames.append(text)
        if watch is not None:
            try:
                changes = watch.poll()
            except RuntimeError:  # the journal changed size under us (a reset from
                changes = []  # another thread): look again at the next tick
            frames.extend(_delivery_frames(runtime, changes))
        if frames:
            last_sent = now
            yield "".join(frames)
        elif now - last_sent >= KEEPALIVE_S:
            last_sent = now
            yield ": keepalive\n\n"
        await asyncio.sleep(TICK_S)


def routes() -> list[Route]:
    """The inspector's routes; the page and its assets are not guarded (SPEC §4)."""
    return [
        Route("/__mock/ui", page, methods=["GET"]),
        Route("/__mock/ui/{name}", asset, methods=["GET"]),
        Route("/__mock/stream", guarded(stream), methods=["GET"]),
        Route("/__mock/view", guarded(view), methods=["GET"]),
        Route(
            "/__mock/view/subscriptions/{subscription_id}/secret",
            guarded(reveal_secret),
            methods=["GET"],
        ),
    ]
