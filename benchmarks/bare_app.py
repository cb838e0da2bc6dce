"""The reference "physical limit": a bare Starlette app on the mock's own server set-up.

``POST /graphql`` reads the request body and answers a canned JSON document with
``JSONResponse`` (so it pays the same serialisation the mock pays), nothing else: no
middleware, no GraphQL, no store. ``PUT /__bare/body`` replaces the canned document, so
each measurement compares the mock against the very JSON body the mock returns for that
operation. It is served exactly as ``mock-semble serve`` serves the mock (see
``mock_semble.cli.serve``): the same listening socket (TCP_NODELAY via IPPROTO_TCP), the
same ``uvicorn.Config`` and the same ready line, so the two differ only in the app.

Run as ``python -m benchmarks.bare_app [--host H] [--port P]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_BODY: dict[str, Any] = {"data": {"webhooks": []}}


def create_app() -> Starlette:
    canned: dict[str, Any] = {"body": DEFAULT_BODY}

    async def graphql(request: Request) -> Response:
        await request.body()
        return JSONResponse(canned["body"])

    async def set_body(request: Request) -> Response:
        canned["body"] = json.loads(await request.body())
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["POST"]),
            Route("/__bare/body", set_body, methods=["PUT"]),
        ]
    )


def serve(host: str, port: int) -> None:
    """The same socket, uvicorn settings and ready line as ``mock-semble serve``."""
    app = create_app()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_host, bound_port = sock.getsockname()[:2]

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                print(f"bare ready: http://{bound_host}:{bound_port}/graphql", flush=True)

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    asyncio.run(Server(config).serve(sockets=[sock]))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.host, args.port)


if __name__ == "__main__":
    main()
