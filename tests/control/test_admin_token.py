"""``--admin-token``: every control-plane route but health needs ``x-mock-admin-token``;
the contract API (and GraphiQL) never does. Routes are enumerated from the app itself, so
a route added later is covered without touching this file."""

from __future__ import annotations

import re

import httpx
import pytest
from core.test_seed import cli_server
from starlette.routing import Route

from mock_semble.testing import MockSembleClient, MockSembleError, MockSembleServer

ADMIN = "adm-" + "9f8e7d" * 4
pytestmark = pytest.mark.mock_semble(admin_token=ADMIN)
LIST = "{ webhooks { id } }"
DENIED = {"error": "missing or invalid x-mock-admin-token"}


def control_calls(server: MockSembleServer) -> list[tuple[str, str]]:
    """(method, concrete path) for every /__mock route of the app except health."""
    calls = []
    for route in server.app.routes:
        if not isinstance(route, Route) or not route.path.startswith("/__mock/"):
            continue
        if route.path == "/__mock/health" or route.path.startswith("/__mock/ui"):
            continue  # SPEC §4: health, the inspector page and its assets need no token
        path = re.sub(r"\{rest:path\}", "no/such/route", route.path)
        path = re.sub(r"\{[a-z_]+\}", "0" * 24, path)
        calls.extend((method, path) for method in sorted(route.methods or ()) if method != "HEAD")
    return calls


def test_every_control_route_is_enumerated(mock_semble: MockSembleServer) -> None:
    paths = {path for _, path in control_calls(mock_semble)}
    expected = {
        "reset",
        "practices",
        "tokens",
        "clock",
        "requests",
        "state",
        "events",
        "deliveries",
    }
    assert {f"/__mock/{name}" for name in expected} <= paths
    assert "/__mock/no/such/route" in paths  # the catch-all is guarded too


@pytest.mark.parametrize("given", [None, "", "wrong", ADMIN.upper(), ADMIN + "0", ADMIN[:-1]])
def test_control_plane_refuses_without_the_admin_token(
    mock_semble: MockSembleServer, given: str | None
) -> None:
    mock_semble.create_webhook("https://hooks.example/admin")
    before = mock_semble.state()
    headers = {} if given is None else {"x-mock-admin-token": given}
    with httpx.Client(base_url=mock_semble.url, headers=headers) as raw:
        for method, path in control_calls(mock_semble):
            response = raw.request(method, path, json={"eventType": "PATIENT_CREATED"})
            assert (response.status_code, response.json()) == (401, DENIED), (method, path)
            assert ADMIN not in response.text
    assert mock_semble.state() == before  # nothing ran


def test_control_plane_answers_with_the_admin_token(mock_semble: MockSembleServer) -> None:
    with httpx.Client(base_url=mock_semble.url, headers={"x-mock-admin-token": ADMIN}) as raw:
        for method, path in control_calls(mock_semble):
            response = raw.request(method, path)
            assert response.status_code != 401, (method, path, response.text)
    # the fixture's handle sends it for every helper
    practice = mock_semble.new_practice()
    assert mock_semble.state()["practices"][-1]["id"] == practice.id
    assert mock_semble.fire("PATIENT_CREATED") == []


def test_health_and_the_contract_api_need_no_admin_token(mock_semble: MockSembleServer) -> None:
    health = httpx.get(mock_semble.url + "/__mock/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    headers = {"x-token": mock_semble.token or ""}
    created = httpx.post(
        mock_semble.graphql_url,
        json={
            "query": "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { error } }",
            "variables": {
                "i": {"url": "https://a.example/", "eventTypes": ["PATIENT_CREATED"], "label": "a"}
            },
        },
        headers=headers,
    )
    assert created.json() == {"data": {"createWebhook": {"error": None}}}
    page = httpx.get(mock_semble.graphql_url, headers={"accept": "text/html"})
    assert page.status_code == 200 and "<html" in page.text.lower()
    # an admin token is no API token
    refused = httpx.post(mock_semble.graphql_url, json={"query": LIST}, headers={"x-token": ADMIN})
    assert refused.status_code == 401


@pytest.mark.mock_semble(admin_token=None)
def test_without_the_option_the_control_plane_is_open(mock_semble: MockSembleServer) -> None:
    assert httpx.get(mock_semble.url + "/__mock/state").status_code == 200
    # a stray header is harmless
    wrong = httpx.get(mock_semble.url + "/__mock/state", headers={"x-mock-admin-token": "x"})
    assert wrong.status_code == 200


def test_cli_flag_and_environment(mock_semble: MockSembleServer) -> None:
    with cli_server(admin_token="from-flag") as mock:
        assert mock.state()["version"] == 2
        with pytest.raises(MockSembleError) as info:
            MockSembleClient(mock.url).state()
        assert info.value.status == 401
        assert httpx.get(mock.url + "/__mock/health").status_code == 200
    with cli_server(env={"MOCK_SEMBLE_ADMIN_TOKEN": "from-env"}) as mock:
        assert httpx.get(mock.url + "/__mock/state").status_code == 401
        ok = httpx.get(mock.url + "/__mock/state", headers={"x-mock-admin-token": "from-env"})
        assert ok.status_code == 200
