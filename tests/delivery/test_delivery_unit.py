"""Pure pieces of the delivery engine: forwarding, Retry-After, the wait bound, and the
journal's bound (which must never drop a delivery that is still in progress)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_semble import verify
from mock_semble.app import create_runtime
from mock_semble.core.events import Event
from mock_semble.core.settings import Settings
from mock_semble.delivery.engine import engine_of, wait_bound
from mock_semble.delivery.journal import FAILED, PENDING, SUCCEEDED, Delivery, Journal
from mock_semble.delivery.sender import forward_target, retry_after
from mock_semble.delivery.signing import SIGNING_SCHEMES
from mock_semble.webhooks import subscriptions_of

FORWARDS = (
    ("https://app.example.com", "http://127.0.0.1:9000"),
    ("http://other.example.com:8080", "http://127.0.0.1:9001/base"),
)


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("https://app.example.com/hooks?a=1&b=2", "http://127.0.0.1:9000/hooks?a=1&b=2"),
        ("https://APP.example.com:443/x", "http://127.0.0.1:9000/x"),  # default port, case
        ("https://app.example.com", "http://127.0.0.1:9000"),
        ("http://other.example.com:8080/in", "http://127.0.0.1:9001/base/in"),
        ("https://app.example.com:8443/x", "https://app.example.com:8443/x"),  # other port
        ("http://app.example.com/x", "http://app.example.com/x"),  # other scheme
        ("https://sub.app.example.com/x", "https://sub.app.example.com/x"),  # other host
    ],
)
def test_forward_target(url: str, target: str) -> None:
    assert forward_target(url, FORWARDS) == target


def test_first_matching_forward_wins() -> None:
    forwards = (("https://a.example.com", "http://one"), ("https://a.example.com", "http://two"))
    assert forward_target("https://a.example.com/p", forwards) == "http://one/p"


@pytest.mark.parametrize(
    ("status", "header", "expected"),
    [
        (503, "2", 2.0),
        (429, "0", 0.0),
        (429, "59", 59.0),
        (429, "60", None),
        (503, "-1", None),
        (503, "1.5", None),
        (503, "Wed, 21 Oct 2099 07:28:00 GMT", None),
        (500, "2", None),
        (503, None, None),
    ],
)
def test_retry_after(status: int, header: str | None, expected: float | None) -> None:
    headers = {} if header is None else {"retry-after": header}
    assert retry_after(status, headers) == expected


def test_wait_bound_covers_the_longest_possible_series() -> None:
    # Each gap may be stretched to just under 60 s by Retry-After; one timeout per attempt.
    assert wait_bound((1.0, 5.0, 25.0), 10.0) == 3 * 60 + 4 * 10 + 5
    assert wait_bound((120.0,), 2.0) == 120 + 2 * 2 + 5
    assert wait_bound((), 10.0) == 10 + 5


def entry(n: int, status: str = SUCCEEDED) -> Delivery:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    return Delivery(
        f"{n:024x}", "e", "patient.created", "s", "p", "u", "u", "{}", now, status=status
    )


def test_journal_keeps_deliveries_in_progress_and_drops_the_longest_finished() -> None:
    journal = Journal(2)
    busy = [entry(1, PENDING), entry(2, PENDING)]
    for d in busy:
        journal.add(d)
    journal.add(entry(3, PENDING))
    assert len(journal) == 3  # nothing is final yet: nothing may go
    busy[1].status = FAILED
    journal.finished(busy[1])
    assert [d.id for d in journal.select()] == [entry(1).id, entry(3).id]
    journal.add(entry(4))
    assert [d.id for d in journal.select()] == [entry(1).id, entry(3).id]  # 4 was final


@settings(max_examples=60, deadline=None)
@given(
    identifiers=st.dictionaries(st.text(min_size=1), st.text(), max_size=4),
    scheme=st.sampled_from(SIGNING_SCHEMES),
)
def test_any_identifiers_give_a_compact_body_that_verifies(
    identifiers: dict[str, str], scheme: str
) -> None:
    runtime = create_runtime(Settings(delivery_mode="record", signing_scheme=scheme, seed=1))
    sub = subscriptions_of(runtime).create(
        runtime.default_practice_id or "",
        url="https://hooks.example.com/in",
        event_types=("patient.updated",),
        label="t",
        headers=None,
        now=runtime.clock.now(),
    )
    assert engine_of(runtime) is not None
    [delivery] = engine_of(runtime).fire(Event(sub.practice_id, "patient.updated", identifiers))
    assert json.loads(delivery.body) == {
        "subscriptionId": sub.id,
        "eventId": delivery.event_id,
        "eventType": "patient.updated",
        "identifiers": identifiers,
    }
    assert delivery.body == json.dumps(
        json.loads(delivery.body), separators=(",", ":"), ensure_ascii=False
    )
    [attempt] = delivery.attempts
    stamp = runtime.clock.timestamp()
    verify(
        delivery.body.encode(),
        attempt.request_headers,
        sub.signing_secret,
        scheme=scheme,
        now=stamp,
    )
