"""Schema fuzzing with an independent tool: schemathesis (GraphQL mode) generates
operations from the introspected schema and sends them to a real server over a socket.

With a valid token: no 5xx, every answer is GraphQL JSON that conforms to the schema,
positive cases are served without errors and negative (invalid) ones are refused with
GraphQL errors. With no token and with random tokens: every answer is the 401 of
SPEC §1.3. The number of operations sent is counted by the client *and* read back from
the server's request journal.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
)
from schemathesis.core.transport import Response

from mock_semble.testing import MockSembleServer

from .helpers import Figures, env_number

TOKEN = "test-token"
# Per operation (the schema has five: webhooks, webhook, create/update/deleteWebhook).
POSITIVE = int(env_number("MOCK_SEMBLE_FUZZ_POSITIVE", 45))  # per operation (31 of them)
NEGATIVE = int(env_number("MOCK_SEMBLE_FUZZ_NEGATIVE", 25))
UNAUTHENTICATED = int(env_number("MOCK_SEMBLE_FUZZ_UNAUTHENTICATED", 50))
MIN_AUTHENTICATED = 2000
MISSING = {"errors": [{"message": "Missing token.", "extensions": {"code": "UNAUTHENTICATED"}}]}
INVALID = {"errors": [{"message": "Invalid token.", "extensions": {"code": "UNAUTHENTICATED"}}]}
# Random tokens: printable, never a configured one (the prefix), sometimes with "Bearer ".
random_tokens = st.builds(
    lambda bearer, text: ("Bearer " if bearer else "") + "rnd-" + text,
    st.booleans(),
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=64),
)


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.generate],  # failures are collected, not raised: nothing to shrink
        suppress_health_check=list(HealthCheck),
    )


def shape_problems(response: Response) -> list[str]:
    """What makes an answer something other than a GraphQL JSON response."""
    problems: list[str] = []
    if response.status_code >= 500:
        problems.append(f"HTTP {response.status_code}")
    content_type = ",".join(response.headers.get("content-type", []))
    if not content_type.startswith("application/json"):
        problems.append(f"content-type {content_type!r}")
    try:
        body = json.loads(response.content)
    except ValueError:
        return [*problems, "body is not JSON"]
    if not isinstance(body, dict) or not ({"data", "errors"} & set(body)):
        return [*problems, "no data and no errors"]
    if set(body) - {"data", "errors", "extensions"}:
        problems.append(f"unexpected keys {sorted(body)}")
    errors = body.get("errors", [])
    if not isinstance(errors, list) or ("errors" in body and not errors):
        problems.append("errors is not a non-empty list")
        errors = []
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        if not isinstance(error.get("message"), str) or not isinstance(code, str):
            problems.append(f"error without message or code: {error}")
        elif code == "INTERNAL_SERVER_ERROR":
            problems.append(f"internal error: {error}")
    return problems


@pytest.fixture(scope="module")
def server() -> Iterator[MockSembleServer]:
    # A journal large enough to hold every fuzzed request, so the server can count them.
    with MockSembleServer(request_journal_size=20_000) as running:
        yield running


@pytest.fixture(scope="module")
def schema(server: MockSembleServer) -> Any:
    return schemathesis.graphql.from_url(server.graphql_url, headers={"x-token": TOKEN})


class Run:
    """One fuzzing campaign: sends cases, counts them, collects every failure."""

    def __init__(self, server: MockSembleServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.sent: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.codes: Counter[str] = Counter()
        self.failures: list[str] = []

    def send(self, case: Any, headers: dict[str, str], label: str) -> Response:
        response = case.call(base_url=self.server.url, session=self.session, headers=headers)
        self.sent[label] += 1
        self.statuses[response.status_code] += 1
        with_body = response.content[:300].decode(errors="replace")
        for problem in shape_problems(response):
            self.failures.append(f"{label}: {problem}\n{case.body}\n-> {with_body}")
        try:
            for error in json.loads(response.content).get("errors", []):
                self.codes[str((error.get("extensions") or {}).get("code"))] += 1
        except (ValueError, AttributeError):
            pass
        return response

    def check(self, case: Any, response: Response, checks: list[Any], label: str) -> None:
        try:
            case.validate_response(response, checks=checks)
        except BaseException as exc:  # schemathesis raises a FailureGroup
            if not isinstance(exc, Exception):
                raise
            self.failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:500]}")

    def campaign(
        self,
        operations: list[Any],
        mode: GenerationMode,
        examples: int,
        headers: Callable[[Any], dict[str, str]],
        judge: Callable[[Any, Response, str], None],
        name: str,
        tokens: st.SearchStrategy[str] | None = None,
    ) -> None:
        for operation in operations:
            label = f"{name}/{mode.value}/{operation.label}"
            strategy = operation.as_strategy(generation_mode=mode)
            token_strategy = st.just("") if tokens is None else tokens
            self.fuzz(strategy, token_strategy, examples, headers, judge, label)

    def fuzz(
        self,
        cases: st.SearchStrategy[Any],
        tokens: st.SearchStrategy[str],
        examples: int,
        headers: Callable[[Any], dict[str, str]],
        judge: Callable[[Any, Response, str], None],
        label: str,
    ) -> None:
        @fuzz_settings(examples)
        @given(case=cases, token=tokens)
        def one(case: Any, token: str) -> None:
            response = self.send(case, headers(token), label)
            judge(case, response, label)

        one()


def documented_input_refusal(response: Response) -> bool:
    """Schema-valid input that SPEC §3 refuses as BAD_USER_INPUT (a page below 1, a
    pageSize over 100, a Date that is not a date): Semble's rules beyond the schema."""
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return False
    return bool(errors) and all(
        (e.get("extensions") or {}).get("code") == "BAD_USER_INPUT" for e in errors
    )


def test_fuzz_with_a_valid_token(server: MockSembleServer, schema: Any, figures: Figures) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert sorted(op.label for op in operations) == sorted(
        [
            "Mutation.createWebhook",
            "Mutation.deleteWebhook",
            "Mutation.updateWebhook",
            "Query.webhook",
            "Query.webhooks",
            # SPEC §3: every query and mutation of semble-patients.graphql
            "Query.patient",
            "Query.patients",
            "Query.patientRelationships",
            *(
                f"Mutation.{name}"
                for name in [
                    "createPatient",
                    "updatePatient",
                    "deletePatient",
                    "archivePatient",
                    "unarchivePatient",
                    "addPatientLabel",
                    "removePatientLabel",
                    "addPatientPhoneNumber",
                    "updatePatientPhoneNumber",
                    "removePatientPhoneNumber",
                    "addPatientAttribute",
                    "updatePatientAttribute",
                    "removePatientAttribute",
                    "addPatientNumber",
                    "updatePatientNumber",
                    "removePatientNumber",
                    "addPatientAccessGroup",
                    "removePatientAccessGroup",
                    "addPatientMembership",
                    "removePatientMembership",
                    "addPatientRelationship",
                    "updatePatientRelationship",
                    "removePatientRelationship",
                ]
            ),
        ]
    )
    server.clear_requests()
    run = Run(server)

    def positive(case: Any, response: Response, label: str) -> None:
        if response.status_code != 200:
            run.failures.append(f"{label}: HTTP {response.status_code} for a valid operation")
        checks = [not_a_server_error, response_schema_conformance, positive_data_acceptance]
        if documented_input_refusal(response):
            checks.remove(positive_data_acceptance)
        run.check(case, response, checks, label)

    def negative(case: Any, response: Response, label: str) -> None:
        run.check(
            case,
            response,
            [not_a_server_error, response_schema_conformance, negative_data_rejection],
            label,
        )

    def with_token(_: str) -> dict[str, str]:
        return {"x-token": TOKEN}

    run.campaign(operations, GenerationMode.POSITIVE, POSITIVE, with_token, positive, "token")
    run.campaign(operations, GenerationMode.NEGATIVE, NEGATIVE, with_token, negative, "token")

    total = sum(run.sent.values())
    journaled = len(server.requests())
    figures.record(
        "schemathesis_valid_token",
        operations_sent=total,
        operations_journaled=journaled,
        per_operation=dict(run.sent),
        http_statuses={str(k): v for k, v in run.statuses.items()},
        graphql_error_codes=dict(run.codes),
        failures=len(run.failures),
    )
    assert not run.failures, f"{len(run.failures)} failures:\n" + "\n\n".join(run.failures[:10])
    assert total >= MIN_AUTHENTICATED, run.sent
    assert journaled == total  # the server saw exactly what the client sent
    assert set(run.statuses) == {200}
    assert server.health()["status"] == "ok"


@pytest.mark.parametrize("kind", ["no token", "random token"])
def test_fuzz_without_a_valid_token_is_always_401(
    server: MockSembleServer, schema: Any, figures: Figures, kind: str
) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    before = len(server.state()["subscriptions"])
    run = Run(server)
    expected = MISSING if kind == "no token" else INVALID

    def headers(token: str) -> dict[str, str]:
        return {} if kind == "no token" else {"x-token": token}

    def judge(case: Any, response: Response, label: str) -> None:
        if response.status_code != 401 or json.loads(response.content) != expected:
            run.failures.append(f"{label}: {response.status_code} {response.content[:200]!r}")
        run.check(case, response, [not_a_server_error, response_schema_conformance], label)

    tokens = random_tokens if kind == "random token" else None
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        run.campaign(operations, mode, UNAUTHENTICATED, headers, judge, kind, tokens)

    total = sum(run.sent.values())
    figures.record(
        f"schemathesis_{kind.replace(' ', '_')}",
        operations_sent=total,
        http_statuses={str(k): v for k, v in run.statuses.items()},
        failures=len(run.failures),
    )
    assert not run.failures, f"{len(run.failures)} failures:\n" + "\n\n".join(run.failures[:10])
    assert total >= len(operations) * UNAUTHENTICATED
    assert set(run.statuses) == {401}
    assert len(server.state()["subscriptions"]) == before  # nothing was changed
