"""What the inspector shows (SPEC §4.2), as JSON: the catalogue, practices with their
subscriptions and patients, the request journal, and deliveries whose attempts carry a
signature check.

Every view is bounded (a capped number of practices, subscriptions, patients and
requests), so building one stays cheap at 10⁵ records. No view holds a webhook secret:
signatures are verified here, server-side, and only :func:`secret_view` (the page's
"reveal" click) returns one.
"""

from __future__ import annotations

from typing import Any

from ..core.clock import format_datetime
from ..core.events import CATALOGUE
from ..core.runtime import Runtime
from ..core.version import __version__
from ..delivery.journal import Attempt, Delivery
from ..delivery.signing import (
    InvalidSignature,
    MissingSignature,
    StaleTimestamp,
    verify,
)
from ..patients import DOMAIN as PATIENTS
from ..patients import PatientStore
from ..webhooks import subscriptions_of
from ..webhooks.models import Subscription

MAX_PRACTICES = 100
MAX_SUBSCRIPTIONS = 200  # per practice, the newest
MAX_PATIENTS = 50  # per practice, the newest
MAX_REQUESTS = 100  # the newest

# Results of an attempt's signature check.
VALID = "valid"
INVALID = "invalid"
MISSING = "missing"
STALE = "stale"
NOT_SENT = "not sent"
UNCHECKED = "unchecked"


def catalogue_view() -> list[dict[str, Any]]:
    """Every event type with what the fire form needs to suggest identifiers."""
    return [
        {
            "type": spec.type,
            "group": spec.group,
            "system": spec.is_system,
            "required": list(spec.required),
            "optional": list(spec.optional),
            "alternatives": [list(pair) for pair in spec.alternatives],
            "metadata": [
                {"key": f.key, "type": f.type, "optional": f.optional} for f in spec.metadata
            ],
        }
        for spec in CATALOGUE.values()
    ]


def hello_view(runtime: Runtime, *, faults: bool) -> dict[str, Any]:
    """What does not change while the server runs: the first event of a stream."""
    settings = runtime.settings
    return {
        "version": __version__,
        "eventTypes": catalogue_view(),
        "apiVersion": settings.event_types,
        "signingScheme": settings.signing_scheme,
        "deliveryMode": settings.delivery_mode,
        "faults": faults,
    }


def subscription_view(sub: Subscription) -> dict[str, Any]:
    """A subscription without its secret; custom headers by name only (values can be
    credentials)."""
    return {
        "id": sub.id,
        "label": sub.label,
        "url": sub.url,
        "eventTypes": list(sub.event_types),
        "headerNames": [header.key for header in sub.headers or ()],
        "paused": sub.delivery_paused,
        "deleted": sub.deleted,
        "createdAt": format_datetime(sub.created_at),
        "updatedAt": format_datetime(sub.updated_at),
    }


def _patients_of(runtime: Runtime) -> PatientStore | None:
    store = runtime.stores.get(PATIENTS.name)
    return store if isinstance(store, PatientStore) else None


def _patients_view(store: PatientStore | None, practice_id: str) -> dict[str, Any]:
    if store is None:
        return {"count": 0, "newest": []}
    patients = store.practice_patients(practice_id)
    return {
        "count": len(patients),
        "newest": [
            {
                "id": p.id,
                "firstName": p.first_name,
                "lastName": p.last_name,
                "status": p.status,
                "createdAt": format_datetime(p.created_at),
                "updatedAt": format_datetime(p.updated_at),
            }
            for p in reversed(patients[-MAX_PATIENTS:])
        ],
    }


def clock_view(runtime: Runtime) -> dict[str, Any]:
    """The clock without a ticking ``now`` (a live view resends only what changed)."""
    described = runtime.clock.describe()
    return {
        "frozen": described["frozen"],
        "frozenAt": described["now"] if described["frozen"] else None,
        "offsetSeconds": described["offsetSeconds"],
    }


def world_view(runtime: Runtime) -> dict[str, Any]:
    """Practices with their subscriptions and newest patients, and the clock."""
    subscriptions = subscriptions_of(runtime)
    patients = _patients_of(runtime)
    with runtime.lock:
        practices = list(runtime.tenancy.practices.values())
        shown = []
        for practice in practices[:MAX_PRACTICES]:
            subs = subscriptions.list(practice.id, include_deleted=True)
            shown.append(
                {
                    "id": practice.id,
                    "name": practice.name,
                    "webhooksEnabled": practice.webhooks_enabled,
                    "subscriptionCount": len(subs),
                    "subscriptions": [subscription_view(s) for s in subs[-MAX_SUBSCRIPTIONS:]],
                    "patients": _patients_view(patients, practice.id),
                }
            )
    return {
        "practices": shown,
        "practiceCount": len(practices),
        "defaultPracticeId": runtime.default_practice_id,
        "clock": clock_view(runtime),
    }


def requests_view(runtime: Runtime) -> dict[str, Any]:
    """The newest GraphQL requests, newest first."""
    entries = runtime.requests.entries()
    return {"requests": entries[-MAX_REQUESTS:][::-1], "count": len(entries)}


def signature_check(
    delivery: Delivery, attempt: Attempt, sub: Subscription | None, scheme: str
) -> dict[str, Any]:
    """Does the attempt's signature verify with the subscription's secret? Checked at
    the attempt's own time, so a timestamp signed in the past shows as ``stale``."""
    if not attempt.request_headers:
        return {"result": NOT_SENT, "detail": "this attempt was never sent"}
    if sub is None:
        return {"result": UNCHECKED, "detail": "the subscription no longer exists"}
    try:
        verify(
            delivery.body.encode(),
            attempt.request_headers,
            sub.signing_secret,
            scheme=scheme,
            now=int(attempt.at.timestamp()),
        )
    except StaleTimestamp as exc:
        return {"result": STALE, "detail": str(exc)}
    except MissingSignature as exc:
        return {"result": MISSING, "detail": str(exc)}
    except InvalidSignature as exc:
        return {"result": INVALID, "detail": str(exc)}
    except ValueError as exc:  # a secret this scheme cannot use (no secret in the text)
        return {"result": UNCHECKED, "detail": f"cannot verify: {type(exc).__name__}"}
    return {"result": VALID, "detail": f"verifies with the subscription's secret ({scheme})"}


def delivery_view(delivery: Delivery, runtime: Runtime) -> dict[str, Any]:
    """A journal entry as ``/__mock/deliveries`` shows it, each attempt with its
    ``signatureCheck``."""
    data = delivery.to_json()
    sub = subscriptions_of(runtime).find(delivery.subscription_id)
    scheme = runtime.settings.signing_scheme
    for shown, attempt in zip(data["attempts"], delivery.attempts, strict=True):
        shown["signatureCheck"] = signature_check(delivery, attempt, sub, scheme)
    return data


def secret_view(runtime: Runtime, subscription_id: str) -> dict[str, str] | None:
    """The "reveal" click: one subscription's secret (None for an unknown id)."""
    sub = subscriptions_of(runtime).find(subscription_id)
    if sub is None:
        return None
    return {"subscriptionId": sub.id, "secret": sub.signing_secret}
