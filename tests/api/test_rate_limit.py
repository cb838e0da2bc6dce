"""``--rate-limit N`` (SPEC §4.1): per token, a rolling 60 s window of real time; over N
the rate-limit answer; refused requests do not count; reset clears the counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_semble.api.ratelimit import RateLimiter
from mock_semble.cli import build_parser, main, settings_from
from mock_semble.core.errors import ConfigError
from mock_semble.core.settings import Settings
from mock_semble.testing import MockSembleServer

TOKEN = "test-token"
LIMIT = 3
MESSAGE = "You are making requests too often. Please try again later."
LIST_HOOKS = "query ListHooks { webhooks { id } }"


@pytest.fixture(scope="module")
def server() -> Iterator[MockSembleServer]:
    with MockSembleServer(rate_limit=LIMIT) as started:
        yield started


@pytest.fixture(autouse=True)
def fresh(server: MockSembleServer) -> None:
    server.reset()


def post(server: MockSembleServer, token: str | None = TOKEN) -> httpx.Response:
    headers = {} if token is None else {"x-token": token}
    return server.http.post("/graphql", json={"query": LIST_HOOKS}, headers=headers)


def limited(response: httpx.Response) -> bool:
    errors = response.json().get("errors") or [{}]
    return errors[0].get("extensions", {}).get("code") == "RATE_LIMITED"


def test_requests_over_the_limit_get_the_rate_limit_answer(server: MockSembleServer) -> None:
    answers = [post(server) for _ in range(LIMIT + 2)]
    assert [limited(a) for a in answers] == [False] * LIMIT + [True, True]
    refused = answers[-1]
    assert refused.status_code == 200
    assert refused.json() == {
        "errors": [{"message": MESSAGE, "extensions": {"code": "RATE_LIMITED"}}],
        "data": None,
    }
    journal = server.requests()
    assert [e["errorCodes"] for e in journal] == [[]] * LIMIT + [["RATE_LIMITED"]] * 2
    assert all("fault" not in e for e in journal)  # the limit is no fault rule


def test_the_limit_is_per_token(server: MockSembleServer) -> None:
    other = server.new_practice("Other")
    for _ in range(LIMIT):
        post(server)
    assert limited(post(server))
    assert not limited(post(server, other.token))


def test_unauthenticated_requests_do_not_count(server: MockSembleServer) -> None:
    for _ in range(LIMIT * 2):
        assert post(server, None).status_code == 401
        assert post(server, "no-such-token").status_code == 401
    assert [limited(post(server)) for _ in range(LIMIT + 1)] == [False] * LIMIT + [True]


def test_reset_clears_the_counts(server: MockSembleServer) -> None:
    for _ in range(LIMIT):
        post(server)
    assert limited(post(server))
    server.reset()
    assert not limited(post(server))


def test_practice_reset_clears_that_practices_tokens_only(server: MockSembleServer) -> None:
    other = server.new_practice("Other")
    for token in (TOKEN, other.token):
        for _ in range(LIMIT):
            post(server, token)
    other.reset()
    assert not limited(post(server, other.token))
    assert limited(post(server))


def test_rate_limit_comes_before_fault_rules(server: MockSembleServer) -> None:
    rule = server.inject_fault("graphql_error", message="injected", code="X", times=None)
    answers = [post(server).json()["errors"][0]["message"] for _ in range(LIMIT + 1)]
    assert answers == ["injected"] * LIMIT + [MESSAGE]
    assert rule.hits == LIMIT  # the refused request never reached the rule


def test_a_client_retry_loop_gets_through_after_rate_limited_answers(
    server: MockSembleServer,
) -> None:
    # README "Testing error paths": the rate_limited preset, twice, then normal answers.
    server.inject_fault("rate_limited", times=2)
    attempts = 0
    while True:
        attempts += 1
        body = post(server).json()
        if not any(e["extensions"]["code"] == "RATE_LIMITED" for e in body.get("errors", [])):
            break
        assert attempts < 5
    assert attempts == 3
    assert body == {"data": {"webhooks": []}}


# -- the window --------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_refused_requests_do_not_count_against_the_window() -> None:
    clock = FakeTime()
    limiter = RateLimiter(2, now=clock)
    outcomes = []
    for at in (0, 1, 2, 30, 59.9, 60, 60.5, 61, 61.5):
        clock.now = 1000.0 + at
        outcomes.append(limiter.admit("t", "p"))
    # admitted at 0 and 1; refused until 60 s after the first; refusals at 2, 30, 59.9
    # leave no trace, so at 60 (first left) and 61 (second left) one slot frees each
    assert outcomes == [True, True, False, False, False, True, False, True, False]


@given(st.lists(st.floats(min_value=0, max_value=300, allow_nan=False), max_size=60))
def test_window_matches_a_reference_model(offsets: list[float]) -> None:
    clock = FakeTime()
    limiter = RateLimiter(LIMIT, now=clock)
    admitted: list[float] = []
    for at in sorted(offsets):
        now = clock.now = 1000.0 + at
        expected = len([t for t in admitted if t > now - 60]) < LIMIT
        assert limiter.admit("token", "practice") is expected
        if expected:
            admitted.append(now)


# -- configuration ----------------------------------------------------------------------------


def serve_settings(argv: list[str]) -> Settings:
    return settings_from(build_parser().parse_args(["serve", *argv]))


def test_flag_env_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().rate_limit is None  # off by default
    assert serve_settings([]).rate_limit is None
    assert serve_settings(["--rate-limit", "240"]).rate_limit == 240
    monkeypatch.setenv("MOCK_SEMBLE_RATE_LIMIT", "7")
    assert serve_settings([]).rate_limit == 7
    assert Settings.from_options({"rate_limit": "5"}).rate_limit == 5


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_bad_values_are_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--rate-limit", value, "--port", "0"]) == 2
    assert "--rate-limit" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        Settings.from_options({"rate_limit": value})


def test_settings_refuse_zero() -> None:
    kwargs: dict[str, Any] = {"rate_limit": 0}
    with pytest.raises(ConfigError):
        Settings(**kwargs)
