"""The whole API against the reference model, at scale: the one state machine
(tests/stateful/machine.py) with three practices of different rights, in both API
versions, many examples of long step sequences.

- practice 1: one token with all eight permissions;
- practice 2: a token without ``deleteWebhooks`` / ``deletePatients`` and a read-only
  token (``seeWebhooks``, ``seePatients``);
- practice 3: webhooks disabled (its token holds every permission: webhook operations
  are refused anyway, patient operations are not).

After every step the store (``GET /__mock/state``) holds exactly the model; every event a
mutation fired is in the delivery journal (``record`` mode) and nothing else is. The run
must reach every class of outcome, so the checks were exercised against each.
"""

from __future__ import annotations

import pytest
from stateful.machine import SCALED, run_machine, server_settings

from mock_semble.testing import MockSembleServer

from .helpers import Figures

REACHED = (
    "createWebhook: ok",
    "createWebhook: CONFLICT",
    "createWebhook: FORBIDDEN",
    "updateWebhook: ok",
    "updateWebhook: NOT_FOUND",
    "updateWebhook: CONFLICT",
    "deleteWebhook: ok",
    "deleteWebhook: FORBIDDEN",
    "webhook: found",
    "webhook: null",
    "fire: ok",
    "fire: disabled",
    "createPatient: ok",
    "createPatient: INVALID_PATIENT",
    "createPatient: FORBIDDEN",
    "updatePatient: ok",
    "updatePatient: unchanged",
    "updatePatient: NOT_FOUND",
    "deletePatient: ok",
    "deletePatient: FORBIDDEN",
    "archivePatient: ok",
    "archivePatient: INVALID_STATE",
    "unarchivePatient: ok",
    "patient: found",
    "patient: null",
    "patients: listed",
    "events: delivered",
)


@pytest.mark.parametrize("mode", ["enum", "strings"])
def test_three_practices_against_the_model_at_scale(figures: Figures, mode: str) -> None:
    with MockSembleServer(server_settings(SCALED, mode)) as server:
        outcomes = run_machine(server, SCALED, mode)
    figures.record(
        f"stateful_scale_{mode}",
        max_examples=SCALED.examples,
        step_count=SCALED.steps,
        examples_run=outcomes.examples,
        rule_steps=outcomes.steps,
        http_calls=outcomes.calls,
        outcomes=dict(sorted(outcomes.seen.items())),
    )
    assert outcomes.examples >= SCALED.examples
    missing = [name for name in REACHED if not outcomes.seen[name]]
    assert not missing, (missing, outcomes)
