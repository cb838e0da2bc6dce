"""Blank names are what JavaScript's trim() empties (Semble's backend), as for labels."""

from __future__ import annotations

import pytest

from mock_semble.core.errors import RuleError
from mock_semble.patients import rules


@pytest.mark.parametrize("name", ["\ufeff", " \u3000\t", "\u2028\u00a0"])
def test_a_name_javascript_trims_to_nothing_is_blank(name: str) -> None:
    with pytest.raises(RuleError) as err:
        rules.check_name(name)
    assert err.value.message == "first and last names are required"


@pytest.mark.parametrize("name", ["\x1c", "\x85", "\u200b"])
def test_a_name_python_would_strip_but_javascript_keeps_is_not_blank(name: str) -> None:
    assert rules.check_name(name) == name
