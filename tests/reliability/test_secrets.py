"""Secrets never leak: a full scenario per signing scheme, at DEBUG log level.

For each of the four signing schemes a CLI-started server (``--log-level debug``, an
admin token, tokens from a config file) goes through a scenario: runtime tokens,
subscriptions with custom headers and a query-string credential in the URL, updates,
pauses, deletes, deliveries that succeed, fail with retries, are refused and are
redelivered, every kind of refusal, and every read. Then everything a user can see is
scanned for every token and secret (and the secrets' key material):

- stdout and stderr (DEBUG), also for signature values, header values and the URL's
  query credential, none of which may reach a log line;
- the request journal, the delivery journal (list and each entry), every error
  response, every list/get result, and what the receivers got.

Zero hits. ``GET /__mock/state`` is the one place secrets and tokens appear: the test
asserts they do appear there, which proves the scan can find them.
"""

from __future__ import annotations

import secrets
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_semble.delivery.signing import verify
from mock_semble.testing.receiver import WebhookReceiver

from .helpers import (
    ALL_PERMISSIONS,
    CREATE,
    DELETE,
    GET,
    LIST,
    UPDATE,
    CliServer,
    Figures,
    write_config,
)

SCHEMES = ["semble", "standard", "hmac-sha256-hex", "hmac-sha256-base64"]
PA, PB = "000000000000000000000aaa", "000000000000000000000bbb"
SIGNATURE_HEADERS = ("x-webhook-signature", "webhook-signature")


def hits(needles: Iterable[str], haystacks: dict[str, str]) -> list[str]:
    return [
        f"{needle[:12]}… in {where}"
        for needle in needles
        for where, text in haystacks.items()
        if needle and needle in text
    ]


def signature_parts(value: str) -> list[str]:
    """The MAC inside a signature header value (hex or base64), for the log scan."""
    parts = []
    for piece in value.replace(",", " ").replace("=", " ", 1).split():
        if len(piece) >= 20:
            parts.append(piece.removeprefix("v1=").removeprefix("sha256="))
    return parts


class Scenario:
    def __init__(self, server: CliServer, admin: str) -> None:
        self.server = server
        self.http = server.client()
        self.admin = {"x-mock-admin-token": admin}
        self.seen: dict[str, str] = {}  # what a user saw, to scan: name -> text
        self.secrets: list[str] = []
        self.tokens: list[str] = []

    def note(self, name: str, response: httpx.Response) -> httpx.Response:
        self.seen[f"{name} #{len(self.seen)}"] = response.text
        return response

    def gql(
        self, token: str | None, query: str, variables: dict[str, Any], name: str
    ) -> dict[str, Any]:
        headers = {} if token is None else {"x-token": token}
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        if name in ("create", "update") and response.status_code == 200:
            # these two payloads carry the secret by design; everything else is scanned
            payload = next(iter(response.json()["data"].values()))
            if payload and payload["data"]:
                self.secrets.append(payload["data"]["secret"])
                return payload  # type: ignore[no-any-return]
        self.note(name, response)
        body: dict[str, Any] = response.json()
        return body

    def control(self, method: str, path: str, name: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.admin, **kwargs.pop("headers", {})}
        return self.note(name, self.http.request(method, path, headers=headers, **kwargs))


def run_scenario(
    scheme: str, tmp_path: Path, cli_server: Callable[..., CliServer]
) -> dict[str, Any]:
    admin = "adm-" + secrets.token_hex(16)
    token_a, token_b, token_ro = (f"tok-{n}-" + secrets.token_hex(16) for n in "abr")
    wrong_token, wrong_admin = "wrong-" + secrets.token_hex(16), "wrongadm-" + secrets.token_hex(8)
    query_credential = "qcred" + secrets.token_hex(12)
    header_value = "hdrval" + secrets.token_hex(12)
    config = write_config(
        tmp_path / f"config-{scheme}.toml",
        [
            {"id": PA, "name": "A", "webhooksEnabled": True},
            {"id": PB, "name": "B", "webhooksEnabled": True},
        ],
        [
            {"token": token_a, "practiceId": PA, "permissions": list(ALL_PERMISSIONS)},
            {"token": token_b, "practiceId": PB, "permissions": list(ALL_PERMISSIONS)},
            {"token": token_ro, "practiceId": PA, "permissions": ["seeWebhooks"]},
        ],
    )
    server = cli_server(
        *("--log-level", "debug", "--signing-scheme", scheme, "--admin-token", admin),
        *("--config", str(config), "--allow-http-localhost"),
        *("--retry-schedule", "0.05,0.05", "--delivery-timeout", "2"),
        name=f"secrets-{scheme}",
    )
    s = Scenario(server, admin)
    s.tokens += [token_a, token_b, token_ro]
    with WebhookReceiver() as ok, WebhookReceiver() as failing:
        failing.respond_with(500)
        # runtime tokens: one generated, one chosen (their creation answer shows them)
        for body in (
            {"practiceId": PB, "permissions": ["seeWebhooks"]},
            {
                "practiceId": PA,
                "permissions": list(ALL_PERMISSIONS),
                "token": "rt-" + secrets.token_hex(16),
            },
        ):
            created = s.http.post("/__mock/tokens", json=body, headers=s.admin)
            assert created.status_code == 201, created.text
            s.tokens.append(created.json()["token"])
        runtime_token = s.tokens[-1]

        headers = [{"key": "Authorization", "value": f"Bearer {header_value}"}]
        url_ok = ok.url_for(f"/hooks?key={query_credential}")
        subs = {
            "a-ok": s.gql(
                token_a,
                CREATE,
                {
                    "input": {
                        "url": url_ok,
                        "label": "ok",
                        "eventTypes": ["PATIENT_CREATED", "PATIENT_UPDATED"],
                        "headers": headers,
                    }
                },
                "create",
            ),
            "a-failing": s.gql(
                runtime_token,
                CREATE,
                {
                    "input": {
                        "url": failing.url_for("/f"),
                        "label": "failing",
                        "eventTypes": ["PATIENT_CREATED"],
                    }
                },
                "create",
            ),
            "b-ok": s.gql(
                token_b,
                CREATE,
                {
                    "input": {
                        "url": ok.url_for("/b"),
                        "label": "b",
                        "eventTypes": ["PATIENT_CREATED"],
                    }
                },
                "create",
            ),
            "a-refused": s.gql(
                token_a,
                CREATE,
                {
                    "input": {
                        "url": "http://127.0.0.1:9/refused",
                        "label": "refused",
                        "eventTypes": ["PATIENT_DELETED"],
                    }
                },
                "create",
            ),
        }
        ids = {name: sub["data"]["id"] for name, sub in subs.items()}
        s.gql(token_a, UPDATE, {"id": ids["a-ok"], "input": {"label": "renamed"}}, "update")
        s.gql(token_a, UPDATE, {"id": ids["a-ok"], "input": {"deliveryPaused": True}}, "update")
        s.control(
            "POST",
            "/__mock/events",
            "fire paused",
            json={"eventType": "PATIENT_UPDATED", "practiceId": PA, "wait": True},
        )
        s.gql(token_a, UPDATE, {"id": ids["a-ok"], "input": {"deliveryPaused": False}}, "update")

        # deliveries: success, failure after retries, refused connection, redelivery
        for practice in (PA, PB):
            for event in ("PATIENT_CREATED", "patient.updated", "PATIENT_DELETED"):
                fired = s.control(
                    "POST",
                    "/__mock/events",
                    "fire",
                    json={"eventType": event, "practiceId": practice, "wait": True},
                )
                assert fired.status_code == 200, fired.text
        first = s.control("GET", "/__mock/deliveries", "deliveries").json()["deliveries"][0]
        s.control(
            "POST", f"/__mock/deliveries/{first['id']}/redeliver", "redeliver", json={"wait": True}
        )

        # every kind of refusal
        s.gql(None, LIST, {}, "missing token")
        s.gql(wrong_token, LIST, {}, "invalid token")
        s.gql(f"Bearer {wrong_token}", LIST, {}, "invalid bearer")
        s.gql(
            token_ro,
            CREATE,
            {"input": {"url": url_ok, "label": "x", "eventTypes": ["PATIENT_CREATED"]}},
            "forbidden create",
        )
        s.gql(
            token_a,
            CREATE,
            {"input": {"url": url_ok, "label": "dup", "eventTypes": ["PATIENT_CREATED"]}},
            "conflict",
        )
        s.gql(token_b, UPDATE, {"id": ids["a-ok"], "input": {"label": "x"}}, "foreign update")
        s.gql(token_a, DELETE, {"id": ids["a-refused"]}, "delete")
        s.gql(token_a, DELETE, {"id": ids["a-refused"]}, "delete again")
        s.gql(token_a, "{ nope", {}, "syntax")
        s.note(
            "bad json",
            s.http.post(
                "/graphql",
                content=b"{",
                headers={"x-token": token_a, "content-type": "application/json"},
            ),
        )
        s.note("no admin", s.http.get("/__mock/requests"))
        s.note(
            "wrong admin", s.http.get("/__mock/state", headers={"x-mock-admin-token": wrong_admin})
        )
        s.control(
            "POST",
            "/__mock/tokens",
            "duplicate token",
            json={"practiceId": PA, "permissions": [], "token": token_a},
        )
        s.control("POST", "/__mock/events", "bad event", json={"eventType": "NOT_AN_EVENT"})
        s.control("GET", "/__mock/deliveries/unknown", "unknown delivery")

        # every read
        for token in (token_a, token_b, token_ro, runtime_token):
            s.gql(token, LIST, {"all": True}, "list")
            for sub_id in ids.values():
                s.gql(token, GET, {"id": sub_id}, "get")
        journal = s.control("GET", "/__mock/deliveries", "deliveries").json()["deliveries"]
        for delivery in journal:
            s.control("GET", f"/__mock/deliveries/{delivery['id']}", "delivery")
        for path in ("/__mock/requests", "/__mock/practices", "/__mock/clock", "/__mock/health"):
            s.control("GET", path, path)

        received = ok.requests + failing.requests
        statuses = sorted(d["status"] for d in journal)
        # deliveries really happened, signed in this scheme with the subscriptions' secrets
        by_path = {"/hooks": subs["a-ok"], "/b": subs["b-ok"], "/f": subs["a-failing"]}
        for request in received:
            sub = by_path[request.path.split("?")[0]]
            verify(request.body, request.headers, sub["data"]["secret"], scheme=scheme)
        assert {"succeeded", "failed", "skipped_paused"} <= set(statuses), statuses
        assert any(a["error"] == "connection refused" for d in journal for a in d["attempts"])
        for request in received:
            s.seen[f"received {request.path}"] = f"{request.headers!r} {request.text}"

        state = s.control("GET", "/__mock/state", "state").text
        del s.seen[next(k for k in s.seen if k.startswith("state"))]  # the one allowed place

    signatures = [
        part
        for request in received
        for name in SIGNATURE_HEADERS
        if (value := request.headers.get(name))
        for part in signature_parts(value)
    ]
    key_material = [secret.removeprefix("whsec_") for secret in s.secrets]
    needles = [*s.tokens, admin, wrong_token, wrong_admin, *s.secrets, *key_material]
    s.http.close()
    exit_code = server.terminate()
    logs = server.logs()
    log_needles = [*needles, *signatures, query_credential, header_value]

    assert exit_code in (0, -signal.SIGTERM)  # the exit code itself: test_delivery_faults
    assert " DEBUG mock_semble.delivery: " in logs  # DEBUG really was on
    assert not hits(needles, s.seen)
    assert not hits(log_needles, {"logs": logs})
    # the scan can find them: state export holds every secret and every token
    assert not [n for n in [*s.secrets, *s.tokens] if n not in state]
    return {
        "deliveries": len(journal),
        "statuses": {status: statuses.count(status) for status in sorted(set(statuses))},
        "requests_received": len(received),
        "needles": len(set(log_needles)),
        "texts_scanned": len(s.seen) + 1,
        "bytes_scanned": sum(len(t) for t in s.seen.values()) + len(logs),
        "log_lines": logs.count("\n"),
        "found_in_state_export": len(set(s.secrets + s.tokens)),
    }


@pytest.mark.parametrize("scheme", SCHEMES)
def test_no_token_or_secret_leaks_in_any_scheme(
    scheme: str, tmp_path: Path, cli_server: Callable[..., CliServer], figures: Figures
) -> None:
    result = run_scenario(scheme, tmp_path, cli_server)
    figures.record("secrets", **{scheme: {**result, "hits": 0}})
