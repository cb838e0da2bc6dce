"""The state machine of test_stateful.py against a ``--event-types strings`` server.

The machine and its reference model keep speaking enum names; this edge turns every
``eventTypes`` list into the dotted strings the strings mode takes on the way out, and
back on the way in, so each rule runs through the strings schema unchanged."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from test_stateful import P1, P2, TOKENS, WebhookMachine

from mock_semble.core.settings import Settings
from mock_semble.core.tenancy import ALL_PERMISSIONS, PracticeSeed, TokenSeed
from mock_semble.testing import MockSembleServer

DOTTED = {
    "PATIENT_CREATED": "patient.created",
    "PATIENT_UPDATED": "patient.updated",
    "PATIENT_DELETED": "patient.deleted",
}
ENUM_NAMES = {dotted: name for name, dotted in DOTTED.items()}


def renamed(value: Any, names: Mapping[str, str]) -> Any:
    """``value`` with each ``eventTypes`` list's items renamed (anything else unchanged)."""
    if isinstance(value, dict):
        return {
            k: [names[e] for e in v]
            if k == "eventTypes" and isinstance(v, list)
            else renamed(v, names)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [renamed(item, names) for item in value]
    return value


class StringsMachine(WebhookMachine):
    def call(self, practice: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = super().call(practice, query, renamed(variables, DOTTED))
        return renamed(body, ENUM_NAMES)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def strings_server() -> Iterator[MockSembleServer]:
    config = Settings(
        event_types="strings",
        practices=(PracticeSeed("One", P1), PracticeSeed("Two", P2)),
        tokens=tuple(TokenSeed(TOKENS[p], p, ALL_PERMISSIONS) for p in (P1, P2)),
    )
    with MockSembleServer(config) as running:
        yield running


def test_strings_api_against_reference_model(strings_server: MockSembleServer) -> None:
    StringsMachine.server = strings_server
    run = StringsMachine.TestCase
    run.settings = settings(
        max_examples=int(os.environ.get("MOCK_SEMBLE_STATEFUL_EXAMPLES", "40")),
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    run().runTest()
