"""Every event type of semble-events.tsv can be subscribed (strings mode), fired and
delivered to a real receiver with exactly its identifiers (SPEC §1.5, §2.5).

Expectations come from the TSV read here with a reading of its own (never from the
catalogue module), and from SPEC §2.5's sample values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery.test_system_events import eventually
from mock_semble.testing import MockSembleServer
from mock_semble.testing.receiver import WebhookReceiver

TSV = Path(__file__).resolve().parents[2] / "mock_semble" / "core" / "semble-events.tsv"
HEX24 = re.compile(r"[0-9a-f]{24}")
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
REPORT_TYPES = ("InitialReport", "RFATReport", "DischargeReport")
SAMPLE_METADATA = {  # SPEC §2.5: what a hand-fired system event without metadata carries
    "webhook.subscription.updated": {"deliveryPaused": False},
    "webhook.event.deliveryFailed": {"failedEventType": "patient.created"},
}


@dataclass(frozen=True)
class Row:
    event_type: str
    keys: tuple[str, ...]  # every identifier key, in TSV order
    required: frozenset[str]
    optional: tuple[str, ...]
    alternatives: tuple[tuple[str, str], ...]

    def expected_keys(self, given: set[str]) -> list[str]:
        """Keys a delivery carries when ``given`` were given: required ones, the given
        ones, and the first of each alternative pair none of whose keys was given."""
        chosen = self.required | given
        chosen |= {a for a, b in self.alternatives if a not in given and b not in given}
        return [k for k in self.keys if k in chosen]


def read_rows() -> list[Row]:
    lines = [x for x in TSV.read_text(encoding="utf-8").splitlines() if x and x[0] != "#"]
    rows = []
    for line in lines[1:]:
        event_type, cell = line.split("\t")[:2]
        keys, required, optional, pairs = [], set(), [], []
        for token in cell.split(","):
            if "|" in token:
                first, second = token.split("|")
                pairs.append((first, second))
                keys += [first, second]
            elif token.endswith("?"):
                optional.append(token[:-1])
                keys.append(token[:-1])
            else:
                required.add(token)
                keys.append(token)
        rows.append(
            Row(event_type, tuple(keys), frozenset(required), tuple(optional), tuple(pairs))
        )
    return rows


ROWS = read_rows()


def check_value(key: str, value: str, practice_id: str) -> None:
    if key == "practiceId":
        assert value == practice_id
    elif key == "submittedAt":
        assert ISO_MS.fullmatch(value), value
    elif key == "reportType":
        assert value == REPORT_TYPES[0]
    else:
        assert key.endswith("Id") or key == "submittedBy", key
        assert HEX24.fullmatch(value), (key, value)


def test_the_catalogue_has_100_types() -> None:
    assert len(ROWS) == 100 and len({r.event_type for r in ROWS}) == 100


@pytest.mark.mock_semble(event_types="strings")
def test_every_type_is_delivered_with_exactly_its_required_identifiers(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver
) -> None:
    for n in range(0, len(ROWS), 10):  # at most 10 types per subscription
        types = [r.event_type for r in ROWS[n : n + 10]]
        sub = mock_semble.create_webhook(webhook_receiver.url_for(f"/{n}"), types)
        assert sub["eventTypes"] == types
    for row in ROWS:  # not waiting for each: deliveries run concurrently
        (delivery,) = mock_semble.fire(row.event_type, wait=False)
        assert delivery["eventType"] == row.event_type
    requests = webhook_receiver.wait_for(len(ROWS))
    sent_by_type = {r.json["eventType"]: r.json for r in requests}
    assert sorted(sent_by_type) == sorted(r.event_type for r in ROWS)
    for row in ROWS:
        sent = sent_by_type[row.event_type]
        assert list(sent["identifiers"]) == row.expected_keys(set()), row.event_type
        for key, value in sent["identifiers"].items():
            check_value(key, value, mock_semble.practice_id or "")
        if row.event_type in SAMPLE_METADATA:
            assert sent["metadata"] == SAMPLE_METADATA[row.event_type]
        else:
            assert "metadata" not in sent
    eventually(lambda: {d["status"] for d in mock_semble.deliveries()} == {"succeeded"})


# -- a property: any allowed choice of given identifiers arrives exactly as given -----------


@pytest.fixture(scope="module")
def server() -> Iterator[MockSembleServer]:
    with MockSembleServer(event_types="strings") as running:
        yield running


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


hex_ids = st.from_regex(r"[0-9a-f]{24}", fullmatch=True)


@st.composite
def fired_events(draw: st.DrawFn, practice_id: str) -> tuple[Row, dict[str, str]]:
    """A catalogue row and identifiers a caller may give for it: any optional keys, at
    most one key of each alternative, any required ones."""
    row = draw(st.sampled_from(ROWS))
    keys = set(draw(st.sets(st.sampled_from(sorted(row.required) + list(row.optional) or [""]))))
    for pair in row.alternatives:
        choice = draw(st.sampled_from([None, *pair]))
        if choice is not None:
            keys.add(choice)
    keys.discard("")
    values: dict[str, str] = {}
    for key in sorted(keys):
        if key == "practiceId":
            values[key] = practice_id
        elif key == "submittedAt":
            values[key] = "2026-06-08T09:30:00.000Z"
        elif key == "reportType":
            values[key] = draw(st.sampled_from(REPORT_TYPES))
        else:
            values[key] = draw(hex_ids)
    return row, values


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_given_identifiers_arrive_exactly_and_nothing_else(
    server: MockSembleServer, receiver: WebhookReceiver, data: st.DataObject
) -> None:
    server.reset()
    receiver.clear()
    row, identifiers = data.draw(fired_events(server.practice_id or ""))
    server.create_webhook(receiver.url_for("/h"), [row.event_type])
    body: dict[str, Any] = {"eventType": row.event_type, "identifiers": identifiers, "wait": True}
    (delivery,) = server.control("POST", "events", json=body)["deliveries"]
    assert delivery["status"] == "succeeded"
    (request,) = receiver.wait_for(1)
    sent = request.json["identifiers"]
    assert list(sent) == row.expected_keys(set(identifiers))
    assert {k: sent[k] for k in identifiers} == identifiers
    for key in set(sent) - set(identifiers):
        check_value(key, sent[key], server.practice_id or "")
