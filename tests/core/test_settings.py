"""Settings check themselves (issue 10): options as Python values or strings, None meaning
"the default", and one-line refusals instead of tracebacks."""

from __future__ import annotations

import pytest

from mock_semble.core.errors import ConfigError
from mock_semble.core.settings import Settings, normalise_options
from mock_semble.testing import MockSembleServer


def test_none_for_forwards_and_retry_schedule_means_none() -> None:
    options = normalise_options({"forwards": None, "retry_schedule": None})
    assert options == {"forwards": (), "retry_schedule": ()}
    settings = Settings.from_options({"forwards": None, "retry_schedule": None})
    assert settings.forwards == () and settings.retry_schedule == ()


def test_string_forms_are_parsed() -> None:
    settings = Settings.from_options(
        {"retry_schedule": "0.1,0.5", "seed": "7", "allow_http_localhost": "yes"}
    )
    assert settings.retry_schedule == (0.1, 0.5)
    assert settings.seed == 7 and settings.allow_http_localhost is True


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"signing_scheme": "md5"}, "signing_scheme must be one of"),
        ({"event_types": "dotted"}, "event_types must be one of"),
        ({"seed": "x"}, "seed must be a int"),
        ({"nope": 1}, "unknown mock-semble option(s) ['nope']"),
        ({"delivery_concurrency": 0}, "delivery_concurrency must be >= 1"),
        ({"admin_token": ""}, "admin_token must not be empty"),
    ],
)
def test_bad_options_are_one_line_config_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_options(options)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_server_takes_none_options() -> None:
    with MockSembleServer(forwards=None, retry_schedule=None) as server:
        assert server.settings.forwards == () and server.settings.retry_schedule == ()
        assert server.health()["status"] == "ok"
