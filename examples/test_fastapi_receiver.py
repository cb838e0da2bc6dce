"""Signed deliveries into YOUR FastAPI app, with no server of your own — copy this file.

``app_receiver(app)`` (a fixture of the mock-semble pytest plugin) serves the app on a
free local port for the length of the test and returns its base URL; subscribe that URL
and every event the mock fires arrives as a real, signed HTTP POST.

``verify_semble_signature`` is plain standard library: paste it into your production
code (README, "Verifying signatures without mock-semble").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping

from fastapi import FastAPI, HTTPException, Request, Response

# --- your production code ----------------------------------------------------------------


def verify_semble_signature(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> None:
    """Raise ValueError unless ``X-Webhook-Signature: t=<unix s>,v1=<hex>`` is the
    HMAC-SHA256 of ``"<t>.<body>"`` under ``secret`` and ``t`` is within ``tolerance``
    seconds of ``now`` (a replayed or delayed request fails)."""
    fields = dict(
        part.strip().split("=", 1)
        for part in headers.get("x-webhook-signature", "").split(",")
        if "=" in part
    )
    try:
        timestamp, signature = int(fields["t"]), fields["v1"]
    except (KeyError, ValueError):
        raise ValueError("missing or malformed X-Webhook-Signature") from None
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise ValueError("timestamp outside the tolerance")
    signed = str(timestamp).encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise ValueError("signature does not match")


def create_app() -> FastAPI:
    app = FastAPI()
    app.state.webhook_secret = os.environ.get("SEMBLE_WEBHOOK_SECRET", "")
    app.state.events = []

    @app.post("/semble/webhooks")
    async def semble_webhook(request: Request) -> Response:
        body = await request.body()  # the exact bytes that were signed: verify first
        try:
            verify_semble_signature(body, request.headers, request.app.state.webhook_secret)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        request.app.state.events.append(json.loads(body))
        return Response(status_code=204)

    return app


# --- the tests ---------------------------------------------------------------------------


def test_signed_delivery_reaches_my_fastapi_app(mock_semble, app_receiver) -> None:
    app = create_app()
    url = app_receiver(app)  # http://127.0.0.1:PORT, served until the test ends
    subscription = mock_semble.create_webhook(url + "/semble/webhooks")
    app.state.webhook_secret = subscription["secret"]  # what your settings would hold

    [delivery] = mock_semble.fire("PATIENT_CREATED")

    assert delivery["status"] == "succeeded"
    assert delivery["attempts"][-1]["responseStatus"] == 204
    [event] = app.state.events
    assert event["eventType"] == "patient.created"
    assert event["subscriptionId"] == subscription["id"]


def test_my_app_refuses_a_stale_delivery(mock_semble, app_receiver) -> None:
    # The mock signs with its own clock: an hour in the past is outside the tolerance.
    mock_semble.freeze_clock(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600)))
    app = create_app()
    subscription = mock_semble.create_webhook(app_receiver(app) + "/semble/webhooks")
    app.state.webhook_secret = subscription["secret"]

    [delivery] = mock_semble.fire("PATIENT_CREATED")

    assert delivery["status"] == "failed"
    assert {a["responseStatus"] for a in delivery["attempts"]} == {400}
    assert app.state.events == []
