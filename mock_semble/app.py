"""The ASGI application: wiring of runtime, domains, GraphQL wire, deliveries and the
control plane; routes, lifespan, and JSON answers for every failure."""

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

from .api.graphiql import asset_routes
from .api.http import GRAPHQL_METHODS, GraphQLApi, graphql_endpoint, root_redirect
from .api.schema import build_schema
from .control.routes import routes as control_routes
from .control.state import load_state_file
from .core.logs import AccessLog
from .core.runtime import Runtime, State
from .core.settings import Settings
from .delivery.engine import DeliveryEngine
from .domains import DOMAINS

log = logging.getLogger("mock_semble.app")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "Internal server error."}, status_code=500)


def create_runtime(settings: Settings) -> Runtime:
    """A runtime with every domain, its delivery engine, and its start-up state (the
    configured practices and tokens, or the --state-file's content)."""
    runtime = Runtime(settings, DOMAINS)
    DeliveryEngine(runtime)
    if settings.state_file is not None:
        startup = load_state_file(settings.state_file, runtime)  # ConfigError: one line
    else:
        startup = State(settings.practices, settings.tokens)
    runtime.load_startup(startup)
    return runtime


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """Build the app for ``settings`` (or around an existing ``runtime``)."""
    if runtime is None:
        runtime = create_runtime(settings or Settings())
    deliveries = runtime.extensions["delivery"]
    assert isinstance(deliveries, DeliveryEngine)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await deliveries.start()
        try:
            yield
        finally:
            await deliveries.stop()  # in-flight deliveries finish or are marked failed

    app = Starlette(
        routes=[
            Route("/", root_redirect, methods=["GET"]),
            Route("/graphql", graphql_endpoint, methods=GRAPHQL_METHODS),  # 405 but GET/POST
            *asset_routes(),
            *control_routes(),
        ],
        middleware=[Middleware(AccessLog)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.api = GraphQLApi(build_schema(DOMAINS, runtime.settings.event_types))
    return app
