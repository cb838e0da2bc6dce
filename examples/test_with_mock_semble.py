"""Testing a Semble webhook integration against mock-semble — copy this file.

With ``mock-semble`` installed in your test environment, the ``mock_semble`` and
``webhook_receiver`` fixtures are available without any conftest.py:

- ``mock_semble``: a real mock server for the session, reset before every test
  (``.graphql_url`` and ``.token`` are what your Semble client needs);
- ``webhook_receiver``: a local HTTP endpoint standing in for *your* webhook endpoint.

In a real suite, point your own client at ``mock_semble.graphql_url`` and your own
webhook handler at the deliveries; here a few lines stand in for both.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

import pytest

CREATE_WEBHOOK = """
mutation CreateWebhook($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    data { id secret url eventTypes }
    error
  }
}
"""
PATIENT_ID = "65f1c2a9e4b0a1b2c3d4e5f6"


def my_signature_check(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """Stand-in for YOUR endpoint's verification of the default ``semble`` scheme:
    ``X-Webhook-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">``, with ``t``
    no more than ``tolerance`` seconds from ``now`` (so a replayed request fails)."""
    fields = dict(item.split("=", 1) for item in headers["X-Webhook-Signature"].split(","))
    if abs((time.time() if now is None else now) - int(fields["t"])) > tolerance:
        return False
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def create_webhook(mock_semble, url: str, token: str | None = None) -> dict:
    """Subscribe through the GraphQL API, exactly as your code would against Semble."""
    result = mock_semble.execute(
        CREATE_WEBHOOK,
        {"input": {"url": url, "eventTypes": ["PATIENT_CREATED"], "label": "my app"}},
        token=token,
    )
    payload = result["data"]["createWebhook"]
    assert payload["error"] is None, payload["error"]
    return payload["data"]  # the secret is only returned here: keep it


def test_signed_delivery_reaches_my_endpoint(mock_semble, webhook_receiver) -> None:
    subscription = create_webhook(mock_semble, webhook_receiver.url_for("/semble/webhooks"))

    # Fire an event; fire() waits until the delivery is final.
    [delivery] = mock_semble.fire("PATIENT_CREATED", identifiers={"patientId": PATIENT_ID})
    assert delivery["status"] == "succeeded"

    [request] = webhook_receiver.wait_for(1)
    assert request.path == "/semble/webhooks"
    assert request.json == {
        "subscriptionId": subscription["id"],
        "eventId": delivery["eventId"],
        "eventType": "patient.created",
        "identifiers": {"patientId": PATIENT_ID},
    }
    # The mock's reference verify() accepts it...
    webhook_receiver.verify(subscription["secret"])
    # ...and so must your own code; a tampered body must be rejected.
    assert my_signature_check(request.body, request.headers, subscription["secret"])
    assert not my_signature_check(request.body + b" ", request.headers, subscription["secret"])


def test_a_failing_endpoint_is_retried(mock_semble, webhook_receiver) -> None:
    webhook_receiver.respond_with(503, "try again", times=2)  # then the default 200
    subscription = create_webhook(mock_semble, webhook_receiver.url)

    [delivery] = mock_semble.fire("PATIENT_CREATED")

    assert delivery["status"] == "succeeded"
    assert [a["responseStatus"] for a in delivery["attempts"]] == [503, 503, 200]
    requests = webhook_receiver.requests
    assert len({r.json["eventId"] for r in requests}) == 1  # one event, retried: dedupe on it
    webhook_receiver.verify(subscription["secret"])  # every attempt freshly signed


@pytest.mark.mock_semble(delivery_mode="record", seed=7)
def test_what_would_be_sent_without_a_receiver(mock_semble) -> None:
    # record mode signs and journals, sends nothing; seed=7 makes ids repeatable.
    mock_semble.freeze_clock("2030-01-01T00:00:00Z")
    subscription = create_webhook(mock_semble, "https://my-app.example/semble/webhooks")

    [delivery] = mock_semble.fire("PATIENT_CREATED", identifiers={"patientId": PATIENT_ID})

    assert delivery["status"] == "recorded"
    headers = delivery["attempts"][0]["requestHeaders"]
    assert headers["X-Webhook-Timestamp"] == "1893456000"  # the frozen clock
    body, secret = delivery["body"].encode(), subscription["secret"]
    assert my_signature_check(body, headers, secret, now=1893456000)
    # Checked at the real time, a timestamp from 2030 is outside the tolerance.
    assert not my_signature_check(body, headers, secret)


def test_each_test_can_have_its_own_practice(mock_semble, webhook_receiver) -> None:
    # A practice of your own keeps data apart even on a shared server (pytest -n auto).
    practice = mock_semble.new_practice("Clinic A")
    create_webhook(mock_semble, webhook_receiver.url, token=practice.token)

    assert mock_semble.execute("{ webhooks { id } }")["data"]["webhooks"] == []
    assert [d["status"] for d in practice.fire("PATIENT_CREATED")] == ["succeeded"]
    assert mock_semble.deliveries(practice_id=mock_semble.practice_id) == []
