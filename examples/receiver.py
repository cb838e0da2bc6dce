"""A minimal webhook receiver that verifies mock-semble's signatures.

    python examples/receiver.py --port 8001 --secret 'whsec_…' [--scheme semble]

Point a subscription at ``http://127.0.0.1:8001/webhooks`` (start the mock with
``--allow-http-localhost``), fire an event, and each verified delivery is printed as
one line. A request with a missing, wrong or stale signature gets a 400.
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mock_semble import SIGNING_SCHEMES, SignatureError, verify


def build_app(secret: str, scheme: str = "semble") -> Starlette:
    seen: set[str] = set()  # eventIds already handled: retries and redeliveries reuse them

    async def receive(request: Request) -> Response:
        body = await request.body()  # verify the exact bytes, before any JSON parsing
        try:
            verify(body, request.headers, secret, scheme=scheme)
        except SignatureError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        event = json.loads(body)
        duplicate = " (duplicate)" if event["eventId"] in seen else ""
        seen.add(event["eventId"])
        print(
            f"verified {event['eventType']} eventId={event['eventId']} "
            f"subscriptionId={event['subscriptionId']} "
            f"identifiers={json.dumps(event['identifiers'])}{duplicate}",
            flush=True,
        )
        return Response(status_code=204)

    return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--secret", required=True, help="the subscription's secret (whsec_…)")
    parser.add_argument("--scheme", default="semble", choices=SIGNING_SCHEMES)
    args = parser.parse_args()
    app = build_app(args.secret, args.scheme)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
