"""HTTPS receivers: the system trust store plus ``--ca-bundle`` (SPEC §2.4)."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from driver import Driver

from mock_semble import verify
from mock_semble.testing import MockSembleServer, WebhookReceiver

LiveServer = Callable[..., MockSembleServer]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_receiver(ca: trustme.CA) -> Iterator[WebhookReceiver]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)  # valid for the name only, not the IP
    with WebhookReceiver(tls=context) as receiver:
        yield receiver


@pytest.fixture
def bundle(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def fire_at(server: MockSembleServer, url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with Driver(server) as mock:
        sub = mock.subscribe(url)
        [delivery] = mock.fire(wait=True)
    return sub, delivery


def test_ca_bundle_makes_a_private_ca_trusted(
    live_server: LiveServer, https_receiver: WebhookReceiver, bundle: Path
) -> None:
    server = live_server(ca_bundle=bundle, retry_schedule=())
    sub, delivery = fire_at(server, f"https://localhost:{https_receiver.port}/hook")
    assert delivery["status"] == "succeeded"
    [request] = https_receiver.wait_for(1)
    verify(request.body, request.headers, sub["secret"])


def test_untrusted_certificate_fails_with_a_tls_error(
    live_server: LiveServer, https_receiver: WebhookReceiver
) -> None:
    server = live_server(retry_schedule=())
    _, delivery = fire_at(server, f"https://localhost:{https_receiver.port}/hook")
    assert delivery["status"] == "failed"
    [attempt] = delivery["attempts"]
    assert attempt["responseStatus"] is None
    assert attempt["error"].startswith("TLS error: certificate verify failed")
    assert https_receiver.requests == []


def test_the_certificate_must_name_the_host(
    live_server: LiveServer, https_receiver: WebhookReceiver, bundle: Path
) -> None:
    server = live_server(ca_bundle=bundle, retry_schedule=())
    _, delivery = fire_at(server, f"https://127.0.0.1:{https_receiver.port}/hook")
    [attempt] = delivery["attempts"]
    assert delivery["status"] == "failed"
    assert "mismatch" in attempt["error"] and attempt["error"].startswith("TLS error")
