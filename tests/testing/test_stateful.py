"""The whole API (webhooks and patients) from two practices against the reference model,
in both API versions: a quick run of the one state machine (tests/stateful/machine.py);
tests/reliability/test_stateful_scale.py runs it at scale."""

from __future__ import annotations

import pytest
from stateful.machine import QUICK, run_machine, server_settings

from mock_semble.testing import MockSembleServer


@pytest.mark.parametrize("mode", ["enum", "strings"])
def test_the_api_against_the_model(mode: str) -> None:
    with MockSembleServer(server_settings(QUICK, mode)) as server:
        outcomes = run_machine(server, QUICK, mode)
    assert outcomes.examples >= QUICK.examples
