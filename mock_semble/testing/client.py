"""Drive a running mock-semble from tests or scripts: :class:`MockSembleClient`.

It wraps the GraphQL API and the control plane (``/__mock``) of a server that runs
elsewhere (a container, ``mock-semble serve``); :class:`~.server.MockSembleServer` is a
client that also runs its own server.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from ..core.tenancy import ALL_PERMISSIONS
from ..readiness import DEFAULT_URL, URL_ENV, server_base
from .documents import CREATE_WEBHOOK
from .faults import InjectedFault, fault_rule
from .patients import PatientHelpers
from .transport import Transport, json_loads, query_string

ALL_PERMISSION_NAMES = tuple(sorted(p.value for p in ALL_PERMISSIONS))

_CAMEL = {
    "subscription_id": "subscriptionId",
    "event_type": "eventType",
    "practice_id": "practiceId",
}


class MockSembleError(Exception):
    """A control-plane call was refused: ``status`` and the server's ``error`` text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


@dataclass
class Practice(PatientHelpers):
    """A practice added at run time with its own token (isolation under ``-n auto``)."""

    id: str
    name: str
    webhooks_enabled: bool
    token: str
    permissions: tuple[str, ...]
    client: MockSembleClient = field(repr=False, compare=False)

    def execute(self, query: str, variables: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.execute(query, variables, token=self.token, **kw)

    def fire(self, event_type: str, **kw: Any) -> list[dict[str, Any]]:
        return self.client.fire(event_type, practice_id=self.id, **kw)

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        return self.client.deliveries(practice_id=self.id, **filters)

    def reset(self) -> None:
        self.client.reset(self.id)


class MockSembleClient(PatientHelpers):
    """Conveniences over a mock-semble server's GraphQL endpoint and control plane."""

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = "test-token",
        practice_id: str | None = "000000000000000000000001",
        admin_token: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        # The base URL or the ready line's …/graphql URL; None: $MOCK_SEMBLE_URL or the default.
        self.url = server_base(url if url is not None else os.environ.get(URL_ENV) or DEFAULT_URL)
        self.token = token
        self.practice_id = practice_id
        self.admin_token = admin_token
        self.timeout = timeout
        self._http: httpx.Client | None = None
        self._transport: Transport | None = None

    @property
    def graphql_url(self) -> str:
        return self.url + "/graphql"

    @property
    def http(self) -> httpx.Client:
        """One pooled client per handle (keeps connections open between calls)."""
        if self._http is None:
            self._http = httpx.Client(base_url=self.url, timeout=self.timeout)
        return self._http

    @property
    def transport(self) -> Transport:
        """The light connection ``execute`` and ``control`` use (a tenth of httpx's cost)."""
        if self._transport is None or self._transport.base_url != self.url:
            if self._transport is not None:
                self._transport.close()
            self._transport = Transport(self.url, self.timeout)
        return self._transport

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    # -- contract API ---------------------------------------------------------------

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        operation_name: str | None = None,
    ) -> Any:
        """POST a GraphQL operation; return the decoded JSON response, whatever its status."""
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = dict(variables)
        if operation_name is not None:
            body["operationName"] = operation_name
        headers = {"x-token": token or self.token or ""}
        return json_loads(self.transport.request("POST", "/graphql", body, headers)[1])

    def create_webhook(
        self,
        url: str,
        event_types: Iterable[str] = ("PATIENT_CREATED",),
        *,
        label: str = "test webhook",
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """``createWebhook`` through GraphQL; the new subscription (with its secret)."""
        variables: dict[str, Any] = {
            "input": {"url": url, "eventTypes": list(event_types), "label": label}
        }
        if headers is not None:
            variables["input"]["headers"] = [{"key": k, "value": v} for k, v in headers.items()]
        result = self.execute(CREATE_WEBHOOK, variables, token=token)
        payload = (result.get("data") or {}).get("createWebhook")
        if not payload or payload["error"]:
            problem = payload["error"] if payload else result.get("errors")
            raise MockSembleError(200, f"createWebhook failed: {problem}")
        return payload["data"]  # type: ignore[no-any-return]

    # -- control plane ----------------------------------------------------------------

    def control(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        """Call ``/__mock/<path>`` (with the admin token when set); raise MockSembleError."""
        headers = {"x-mock-admin-token": self.admin_token} if self.admin_token else {}
        target = "/__mock/" + path.lstrip("/")
        if params:
            target += "?" + query_string(params)
        status, payload = self.transport.request(method, target, json, headers)
        try:
            data = json_loads(payload)
        except ValueError:
            data = {"error": payload.decode("utf-8", "replace")}
        if status >= 400:
            raise MockSembleError(status, str(data.get("error", data)))
        return data

    def health(self) -> dict[str, Any]:
        return self.control("GET", "health")  # type: ignore[no-any-return]

    def reset(self, practice_id: str | None = None) -> None:
        """Back to the start-up state (or reset one practice's subscriptions)."""
        self.control("POST", "reset", params={"practiceId": practice_id} if practice_id else None)

    def new_practice(
        self,
        name: str = "Test practice",
        *,
        permissions: Iterable[str] = ALL_PERMISSION_NAMES,
        webhooks_enabled: bool = True,
    ) -> Practice:
        """A fresh practice and a token for it: tests that use their own practice never
        see each other's subscriptions or deliveries, even on a shared server."""
        practice = self.control(
            "POST", "practices", json={"name": name, "webhooksEnabled": webhooks_enabled}
        )
        token = self.control(
            "POST", "tokens", json={"practiceId": practice["id"], "permissions": list(permissions)}
        )
        return Practice(
            practice["id"],
            practice["name"],
            practice["webhooksEnabled"],
            token["token"],
            tuple(token["permissions"]),
            self,
        )

    def fire(
        self,
        event_type: str,
        *,
        practice_id: str | None = None,
        subscription_id: str | None = None,
        identifiers: Mapping[str, str] | None = None,
        wait: bool = True,
        fault: str | Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """``POST /__mock/events``; by default waits until every delivery is final.
        ``fault`` spoils its deliveries: ``"bad_signature"``, ``{"type": "delay", "ms": 50}``…"""
        body: dict[str, Any] = {"eventType": event_type, "wait": wait}
        if practice_id is not None:
            body["practiceId"] = practice_id
        if subscription_id is not None:
            body["subscriptionId"] = subscription_id
        if identifiers is not None:
            body["identifiers"] = dict(identifiers)
        if fault is not None:
            body["fault"] = fault if isinstance(fault, str) else dict(fault)
        return self.control("POST", "events", json=body)["deliveries"]  # type: ignore[no-any-return]

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """The delivery journal, oldest first; filters in snake_case or camelCase."""
        params = {_CAMEL.get(k, k): v for k, v in filters.items() if v is not None}
        return self._all_pages("deliveries", params)

    def delivery(self, delivery_id: str) -> dict[str, Any]:
        return self.control("GET", f"deliveries/{delivery_id}")  # type: ignore[no-any-return]

    def redeliver(self, delivery_id: str, *, wait: bool = True) -> dict[str, Any]:
        return self.control(  # type: ignore[no-any-return]
            "POST", f"deliveries/{delivery_id}/redeliver", json={"wait": wait}
        )

    def clear_deliveries(self) -> None:
        self.control("DELETE", "deliveries")

    def requests(self) -> list[dict[str, Any]]:
        """The GraphQL request journal, oldest first."""
        return self._all_pages("requests", {})

    def _all_pages(self, kind: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every entry of a paged journal, following ``next`` cursors."""
        entries: list[dict[str, Any]] = []
        query = {**params, "limit": 1000}
        while True:
            page = self.control("GET", kind, params=query)
            entries.extend(page[kind])
            if not page.get("next"):
                return entries
            query["after"] = page["next"]

    def clear_requests(self) -> None:
        self.control("DELETE", "requests")

    # -- fault injection (SPEC §4.1) -----------------------------------------------------

    def inject_fault(
        self,
        action: str | Mapping[str, Any],
        *,
        match: Mapping[str, str] | None = None,
        times: int | None = 1,
        probability: float | None = None,
        target: str | None = None,
        **parameters: Any,
    ) -> InjectedFault:
        """Add a fault rule: ``inject_fault("delay", ms=500, match={"field": "webhooks"})``,
        ``inject_fault("bad_signature", target="delivery")``. ``times=None`` keeps it until
        removed. Use the result as a context manager to remove the rule on exit."""
        body = fault_rule(
            action,
            match=match,
            times=times,
            probability=probability,
            target=target,
            parameters=parameters,
        )
        return InjectedFault(self, self.control("POST", "faults", json=body))

    def faults(self) -> list[dict[str, Any]]:
        """Every fault rule, with its hits."""
        return self.control("GET", "faults")["faults"]  # type: ignore[no-any-return]

    def remove_fault(self, rule_id: str) -> dict[str, Any] | None:
        """Delete one rule; returns it (with its final hits), None if it was already gone."""
        try:
            return self.control("DELETE", f"faults/{rule_id}")  # type: ignore[no-any-return]
        except MockSembleError as exc:
            if exc.status == 404:
                return None
            raise

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def state(self) -> dict[str, Any]:
        """The whole store as a versioned state document (``GET /__mock/state``)."""
        return self.control("GET", "state")  # type: ignore[no-any-return]

    def load_state(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the store with a state document; MockSembleError(400) if invalid."""
        return self.control("PUT", "state", json=dict(document))  # type: ignore[no-any-return]

    def clock(self) -> dict[str, Any]:
        return self.control("GET", "clock")  # type: ignore[no-any-return]

    def freeze_clock(self, at: datetime | str | None = None) -> dict[str, Any]:
        """Freeze the mock's clock at ``at`` (a datetime or ISO string; default: now)."""
        if at is None:
            at = self.clock()["now"]
        text = at.isoformat() if isinstance(at, datetime) else at
        return self.control("PUT", "clock", json={"frozenAt": text})  # type: ignore[no-any-return]

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self.control("PUT", "clock", json={"advanceSeconds": seconds})  # type: ignore[no-any-return]

    def unfreeze_clock(self) -> dict[str, Any]:
        return self.control("DELETE", "clock")  # type: ignore[no-any-return]
