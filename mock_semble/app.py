"""The ASGI application: routes, lifespan, and JSON answers for every failure."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import control
from .config import Settings
from .graphql_http import graphql_endpoint
from .logs import AccessLog
from .runtime import Runtime

log = logging.getLogger("mock_semble.app")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "Internal server error."}, status_code=500)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """Build the app for ``settings`` (or around an existing ``runtime``)."""
    if runtime is None:
        runtime = Runtime(settings or Settings())
    from .graphiql import asset_routes

    deliveries = runtime.deliveries

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await deliveries.start()
        try:
            yield
        finally:
            await deliveries.stop()  # in-flight deliveries finish or are marked failed

    app = Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            *asset_routes(),
            *control.routes(deliveries.routes()),
        ],
        middleware=[Middleware(AccessLog)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
