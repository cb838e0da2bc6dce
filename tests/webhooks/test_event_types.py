"""The two API versions, ``--event-types enum|strings`` (SPEC §1.5): how each is chosen,
its schema, the event-type rules in both modes, state documents, the events endpoint,
seeds and resets. Expected values are written from SPEC, never taken from the code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LIST, UPDATE, gql
from graphql import build_schema as build_sdl_schema

from mock_semble.api.schema import build_schema, sdl
from mock_semble.app import create_app
from mock_semble.cli import build_parser, main, settings_from
from mock_semble.core.errors import ConfigError
from mock_semble.core.settings import Settings
from mock_semble.domains import DOMAINS
from mock_semble.testing import MockSembleServer
from mock_semble.testing.receiver import WebhookReceiver
from webhooks.test_api_webhooks import create, created, listed, payload_errors

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
HEX24 = re.compile(r"[0-9a-f]{24}")
MODES = ("enum", "strings")
# Each mode's spelling of Semble's three patient events (SPEC §1.1, §1.5).
SPELLING = {
    "enum": {
        "created": "PATIENT_CREATED",
        "updated": "PATIENT_UPDATED",
        "deleted": "PATIENT_DELETED",
    },
    "strings": {
        "created": "patient.created",
        "updated": "patient.updated",
        "deleted": "patient.deleted",
    },
}
DOTTED = SPELLING["strings"]
# Eleven distinct types of semble-events.tsv: one over the limit of 10.
ELEVEN = [
    "patient.created", "patient.updated", "patient.deleted", "patient.archived",
    "patient.unarchived", "patient.merged", "booking.created", "booking.updated",
    "booking.deleted", "invoice.created", "invoice.updated",
]  # fmt: skip
MSG_COUNT = "eventTypes must contain between 1 and 10 event types"
MSG_DUPLICATES = "eventTypes must not contain duplicates"


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(mode: str) -> Settings:
    """conftest's ``client`` serves these (record mode: deliveries are journaled only)."""
    return Settings(event_types=mode, delivery_mode="record")


def names(mode: str, *keys: str) -> list[str]:
    return [SPELLING[mode][k] for k in keys]


async def fire(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/__mock/events", json=body)


# -- choosing the version ---------------------------------------------------------------


CONFIG = """
[[practices]]
id = "000000000000000000000001"
name = "Mock Practice"
[[tokens]]
token = "test-token"
practiceId = "000000000000000000000001"
permissions = ["seeWebhooks"]
"""


def config_file(tmp_path: Path, mode: str) -> Path:
    path = tmp_path / "mock.toml"
    path.write_text(f'eventTypes = "{mode}"\n{CONFIG}')
    return path


def serve_settings(*argv: str) -> Settings:
    return settings_from(build_parser().parse_args(["serve", *argv]))


def test_default_is_enum_and_the_flag_picks_strings() -> None:
    assert Settings().event_types == "enum"
    assert serve_settings().event_types == "enum"
    assert serve_settings("--event-types", "strings").event_types == "strings"


def test_environment_variable_and_config_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = config_file(tmp_path, "strings")
    assert serve_settings("--config", str(config)).event_types == "strings"
    # the flag wins over the config file
    assert serve_settings("--config", str(config), "--event-types", "enum").event_types == "enum"
    monkeypatch.setenv("MOCK_SEMBLE_EVENT_TYPES", "strings")
    assert serve_settings().event_types == "strings"


@pytest.mark.parametrize("value", ["xml", "STRINGS", ""])
def test_bad_mode_is_a_one_line_error_exit_2(
    value: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["serve", "--event-types", value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mock-semble: error: ") and "--event-types" in err
    assert len(err.strip().splitlines()) == 1
    config = config_file(tmp_path, value)
    with pytest.raises(ConfigError, match="eventTypes must be one of enum, strings"):
        serve_settings("--config", str(config))
    with pytest.raises(ConfigError):
        Settings(event_types=value)


# -- the schema of each version ------------------------------------------------------------


def field_types(sdl_text: str) -> dict[str, str]:
    """``Type.field`` -> its type, for every object and input type."""
    built = build_sdl_schema(sdl_text)
    result = {}
    for name, t in built.type_map.items():
        for fname, f in getattr(t, "fields", {}).items():
            if not name.startswith("__"):
                result[f"{name}.{fname}"] = str(f.type)
    return result


def test_strings_schema_replaces_only_the_enum() -> None:
    enum_sdl = sdl(build_schema(DOMAINS, "enum"))
    strings_sdl = sdl(build_schema(DOMAINS, "strings"))
    assert "WebhookEventType" not in build_sdl_schema(strings_sdl).type_map
    expected = field_types(enum_sdl)
    expected["WebhookSubscription.eventTypes"] = "[String!]!"
    expected["CreateWebhookInput.eventTypes"] = "[String!]!"
    expected["UpdateWebhookInput.eventTypes"] = "[String!]"
    assert field_types(strings_sdl) == expected


def test_checked_in_strings_schema_is_what_the_cli_prints_and_the_server_serves() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "mock_semble", "schema", "--event-types", "strings"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (ROOT / "schema.strings.graphql").read_text() == printed
    assert printed == sdl(build_schema(DOMAINS, "strings"))


async def test_served_schema_follows_the_mode(client: httpx.AsyncClient, mode: str) -> None:
    query = (
        '{ __type(name: "CreateWebhookInput") '
        "{ inputFields { name type { ofType { ofType { ofType { name } } } } } } }"
    )
    body = await gql(client, query)
    fields = {f["name"]: f["type"] for f in body["data"]["__type"]["inputFields"]}
    item = fields["eventTypes"]["ofType"]["ofType"]["ofType"]["name"]  # [X!]!
    assert item == ("WebhookEventType" if mode == "enum" else "String")


# -- the event-type rules in both modes ----------------------------------------------------


async def test_create_and_list_speak_the_modes_form(client: httpx.AsyncClient, mode: str) -> None:
    sub = await created(client, eventTypes=names(mode, "updated", "created"))
    assert sub["eventTypes"] == names(mode, "updated", "created")
    assert [s["eventTypes"] for s in await listed(client)] == [names(mode, "updated", "created")]
    response = await fire(client, eventType="PATIENT_UPDATED")
    (delivery,) = response.json()["deliveries"]
    assert json.loads(delivery["body"])["eventType"] == "patient.updated"  # dotted in both


@pytest.mark.parametrize(
    ("event_types", "message"),
    [([], MSG_COUNT), (["created"] * 11, MSG_COUNT), (["created", "created"], MSG_DUPLICATES)],
)
async def test_count_and_duplicate_rules_in_both_modes(
    client: httpx.AsyncClient, mode: str, event_types: list[str], message: str
) -> None:
    body = await create(client, eventTypes=names(mode, *event_types))
    assert body["data"]["createWebhook"] == {"data": None, "error": message}
    assert payload_errors(body)[0]["code"] == "INVALID_EVENT_TYPES"
    sub = await created(client, eventTypes=names(mode, "created"))
    body = await gql(
        client, UPDATE, {"id": sub["id"], "input": {"eventTypes": names(mode, *event_types)}}
    )
    assert body["data"]["updateWebhook"]["error"] == message
    assert [s["eventTypes"] for s in await listed(client)] == [names(mode, "created")]


async def test_conflict_needs_an_overlapping_type_in_both_modes(
    client: httpx.AsyncClient, mode: str
) -> None:
    await created(client, eventTypes=names(mode, "created", "updated"))
    body = await create(client, eventTypes=names(mode, "updated"))
    assert payload_errors(body)[0]["code"] == "CONFLICT"
    await created(client, eventTypes=names(mode, "deleted"))
    assert len(await listed(client)) == 2


@pytest.mark.parametrize("settings", [Settings(event_types="strings")])
async def test_strings_mode_takes_the_whole_catalogue(client: httpx.AsyncClient) -> None:
    await created(client, eventTypes=ELEVEN[:10])
    body = await create(client, url="https://b.example.com/h", eventTypes=ELEVEN)
    assert body["data"]["createWebhook"]["error"] == MSG_COUNT
    system = ["webhook.subscription.updated", "webhook.event.deliveryFailed"]
    sub = await created(client, url="https://c.example.com/h", eventTypes=system)
    assert sub["eventTypes"] == system


@pytest.mark.parametrize("settings", [Settings(event_types="strings")])
@pytest.mark.parametrize(
    "value",
    ["PATIENT_CREATED", "Patient.Created", "patient.create", "patient", "", " patient.created"],
)
async def test_strings_mode_refuses_unknown_values_as_payload_errors(
    client: httpx.AsyncClient, value: str
) -> None:
    body = await create(client, eventTypes=["patient.updated", value])
    assert "errors" not in body
    assert body["data"]["createWebhook"] == {"data": None, "error": f"invalid event type: {value}"}
    assert payload_errors(body) == [
        {
            "path": ["createWebhook"],
            "status": 400,
            "code": "INVALID_EVENT_TYPES",
            "message": f"invalid event type: {value}",
        }
    ]
    sub = await created(client, eventTypes=["patient.updated"])
    body = await gql(client, UPDATE, {"id": sub["id"], "input": {"eventTypes": [value]}})
    assert body["data"]["updateWebhook"]["error"] == f"invalid event type: {value}"
    assert [s["eventTypes"] for s in await listed(client, all=True)] == [["patient.updated"]]


@pytest.mark.parametrize("settings", [Settings(event_types="enum")])
async def test_enum_mode_refuses_dotted_values_as_graphql_errors(
    client: httpx.AsyncClient,
) -> None:
    body = await create(client, eventTypes=["patient.created"])
    assert body["errors"] and body.get("data") is None
    assert await listed(client, all=True) == []


# -- the events endpoint, deliveries and their filters ------------------------------------------


@pytest.mark.parametrize("given", ["PATIENT_DELETED", "patient.deleted"])
async def test_events_and_filters_take_either_form(
    client: httpx.AsyncClient, mode: str, given: str
) -> None:
    await created(client, eventTypes=names(mode, "deleted"))
    response = await fire(client, eventType=given)
    (delivery,) = response.json()["deliveries"]
    assert delivery["eventType"] == "patient.deleted"
    for form in ("PATIENT_DELETED", "patient.deleted"):
        page = (await client.get("/__mock/deliveries", params={"eventType": form})).json()
        assert [d["id"] for d in page["deliveries"]] == [delivery["id"]]


@pytest.mark.parametrize(
    ("given", "closest"),
    [
        ("patient.craeted", "patient.created"),
        ("PATIENT_ARCHIVED", "patient.archived"),  # enum names exist for three types only
        ("Booking.Created", "booking.created"),
    ],
)
async def test_unknown_event_type_is_a_400_naming_the_closest(
    client: httpx.AsyncClient, given: str, closest: str
) -> None:
    response = await fire(client, eventType=given)
    assert response.status_code == 400
    assert closest in response.json()["error"]
    assert (await client.get("/__mock/deliveries")).json()["deliveries"] == []


@pytest.mark.parametrize("settings", [Settings(event_types="strings", delivery_mode="record")])
async def test_events_carry_generated_identifiers_and_metadata(client: httpx.AsyncClient) -> None:
    await created(client, eventTypes=["patient.merged", "webhook.subscription.updated"])
    (merged,) = (await fire(client, eventType="patient.merged")).json()["deliveries"]
    body = json.loads(merged["body"])
    assert list(body["identifiers"]) == ["sourcePatientId", "targetPatientId"]
    assert all(HEX24.fullmatch(v) for v in body["identifiers"].values())
    assert "metadata" not in body
    (updated,) = (await fire(client, eventType="webhook.subscription.updated")).json()["deliveries"]
    assert json.loads(updated["body"])["metadata"] == {"deliveryPaused": False}
    refused = await fire(client, eventType="patient.merged", identifiers={"bookingId": "a" * 24})
    assert refused.status_code == 400 and "bookingId" in refused.json()["error"]


# -- state documents -----------------------------------------------------------------------------


async def test_state_documents_store_dotted_types(client: httpx.AsyncClient, mode: str) -> None:
    await created(client, eventTypes=names(mode, "deleted", "created"))
    document = (await client.get("/__mock/state")).json()
    assert document["version"] == 2
    assert [s["eventTypes"] for s in document["subscriptions"]] == [
        ["patient.deleted", "patient.created"]
    ]
    assert (await client.put("/__mock/state", json=document)).status_code == 200
    assert (await client.get("/__mock/state")).json() == document


async def test_version_1_documents_with_enum_names_import(
    client: httpx.AsyncClient, mode: str
) -> None:
    await created(client, eventTypes=names(mode, "updated"))
    document = (await client.get("/__mock/state")).json()
    v1 = {k: document[k] for k in ("practices", "tokens", "subscriptions")}
    v1["version"] = 1
    v1["subscriptions"][0]["eventTypes"] = ["PATIENT_UPDATED", "PATIENT_DELETED"]
    assert (await client.put("/__mock/state", json=v1)).status_code == 200
    assert [s["eventTypes"] for s in await listed(client)] == [names(mode, "updated", "deleted")]
    exported = (await client.get("/__mock/state")).json()
    assert exported["subscriptions"][0]["eventTypes"] == ["patient.updated", "patient.deleted"]


async def strings_document(event_types: list[str]) -> dict[str, Any]:
    app = create_app(Settings(event_types="strings"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as other:
        await created(other, eventTypes=event_types)
        return (await other.get("/__mock/state")).json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("settings", [Settings(event_types="enum")])
async def test_enum_mode_refuses_a_document_with_types_it_cannot_show(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await created(client)
    before = (await client.get("/__mock/state")).json()
    document = await strings_document(["patient.created", "booking.created"])
    response = await client.put("/__mock/state", json=document)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "booking.created" in error and "--event-types strings" in error
    assert (await client.get("/__mock/state")).json() == before
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError, match=r"booking\.created"):
        create_app(Settings(state_file=path))
    assert create_app(Settings(state_file=path, event_types="strings")) is not None


# -- seeds and resets ---------------------------------------------------------------------------


async def seeded_run(mode: str) -> list[Any]:
    app = create_app(Settings(event_types=mode, delivery_mode="record", seed=11))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as c:
        sub = await created(c, eventTypes=names(mode, "created"))
        deliveries = (await fire(c, eventType="patient.created")).json()["deliveries"]
        return [sub["id"], sub["secret"], [d["body"] for d in deliveries]]


async def test_seeded_runs_repeat_and_the_modes_draw_the_same_ids(mode: str) -> None:
    first = await seeded_run(mode)
    assert first == await seeded_run(mode)
    other = "strings" if mode == "enum" else "enum"
    assert first == await seeded_run(other)  # the API version changes no id or secret


async def test_reset_clears_subscriptions_and_deliveries(
    client: httpx.AsyncClient, mode: str
) -> None:
    await created(client, eventTypes=names(mode, "created"))
    await fire(client, eventType="PATIENT_CREATED")
    assert (await client.post("/__mock/reset")).status_code == 200
    assert await listed(client, all=True) == []
    assert (await client.get("/__mock/deliveries")).json()["deliveries"] == []
    body = await gql(client, LIST, {"all": True})
    assert body["data"]["webhooks"] == []


# -- the pytest plugin ----------------------------------------------------------------------------

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(
    "mode", [pytest.param(m, marks=pytest.mark.mock_semble(event_types=m)) for m in MODES]
)
def test_marker_picks_the_mode_and_the_handle_works_in_both(
    mock_semble: MockSembleServer, webhook_receiver: WebhookReceiver, mode: str
) -> None:
    assert mock_semble.settings.event_types == mode
    sub = mock_semble.create_webhook(webhook_receiver.url + "/a")  # its default type
    assert sub["eventTypes"] == names(mode, "created")
    both = mock_semble.create_webhook(
        webhook_receiver.url + "/b", ["patient.updated", "PATIENT_DELETED"]
    )
    assert both["eventTypes"] == names(mode, "updated", "deleted")
    (delivery,) = mock_semble.fire("patient.created")
    assert delivery["status"] == "succeeded"
    (request,) = webhook_receiver.wait_for(1)
    assert request.json["eventType"] == "patient.created"
    assert [d["id"] for d in mock_semble.deliveries(event_type="PATIENT_CREATED")] == [
        delivery["id"]
    ]


PLUGIN_TESTS = """
import pytest

def test_ini_mode(mock_semble):
    assert mock_semble.runtime.settings.event_types == "strings"
    sub = mock_semble.create_webhook("https://a.example/", ["booking.created"])
    assert sub["eventTypes"] == ["booking.created"]
    body = mock_semble.execute('{ webhooks { eventTypes } }')
    assert body["data"]["webhooks"] == [{"eventTypes": ["booking.created"]}]

@pytest.mark.mock_semble(event_types="enum")
def test_marker_beats_ini(mock_semble):
    assert mock_semble.create_webhook("https://a.example/")["eventTypes"] == ["PATIENT_CREATED"]

@pytest.mark.mock_semble(event_types="json")
def test_bad_mode(mock_semble):
    pass
"""


def test_ini_option_picks_the_mode(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmock_semble_options =\n    event_types = strings\n")
    pytester.makepyfile(test_modes=PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*mock_semble options: event_types must be one of enum, strings*"])
