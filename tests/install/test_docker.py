"""The container image (Dockerfile) end to end: health check, GraphQL, webhook delivery, user,
GraphiQL's assets, and deliveries to the host through host.docker.internal.

Needs a Docker daemon (``scripts/docker_ci_setup.sh`` starts one and makes a local base
image). The test builds its own image from this checkout with a unique tag
(``scripts/docker_build.sh``) and removes the tag afterwards, so it never tests an image that
an earlier run — or another checkout sharing the daemon — left behind. Without a daemon the
tests skip, unless ``MOCK_SEMBLE_REQUIRE_DOCKER=1`` (set by CI), in which case they fail.

The container runs with ``--network host`` on a free, non-default port given only through
``MOCK_SEMBLE_PORT``, so a ``healthy`` status proves that the image's HEALTHCHECK follows the
configured port rather than a hard-wired 8000.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from mock_semble.testing import WebhookReceiver

REPO = Path(__file__).resolve().parents[2]
REQUIRE_DOCKER = os.environ.get("MOCK_SEMBLE_REQUIRE_DOCKER") == "1"
TOKEN = "test-token"
START_TIMEOUT = 60.0  # seconds for the server to answer and the health check to pass


def _unavailable(reason: str) -> None:
    if REQUIRE_DOCKER:
        pytest.fail(f"{reason} (MOCK_SEMBLE_REQUIRE_DOCKER=1)", pytrace=False)
    pytest.skip(reason)


def _docker(*args: str, timeout: float = 60.0, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


@pytest.fixture(scope="module")
def docker_image() -> Iterator[str]:
    """An image built from this checkout for this run only."""
    if shutil.which("docker") is None:
        _unavailable("no docker client on PATH")
    try:
        info = _docker("info", "--format", "{{.ServerVersion}}", timeout=30, check=False)
    except subprocess.TimeoutExpired:
        _unavailable("'docker info' timed out: no Docker daemon answers")
    if info.returncode != 0:
        _unavailable(f"no Docker daemon answers 'docker info': {info.stderr.strip()[:200]}")
    tag = f"mock-semble-test:{uuid.uuid4().hex[:12]}"
    build = subprocess.run(
        [str(REPO / "scripts" / "docker_build.sh"), tag],
        capture_output=True,
        text=True,
        timeout=1800,
        stdin=subprocess.DEVNULL,
    )
    assert build.returncode == 0, f"docker build failed:\n{build.stdout}\n{build.stderr}"
    try:
        yield tag
    finally:  # only the tag: its layers stay, as the next build's cache
        _docker("image", "rm", "--no-prune", tag, check=False, timeout=120)


def _free_port() -> int:
    # --network host: the container binds the host's 0.0.0.0, so probe the same address.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


def _http(
    method: str,
    url: str,
    body: object | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


@dataclass
class Container:
    name: str
    port: int
    base: str

    def logs(self) -> str:
        proc = _docker("logs", "--tail", "200", self.name, check=False, timeout=30)
        return f"--- docker logs {self.name} ---\n{proc.stdout}{proc.stderr}"

    def state(self) -> dict:
        proc = _docker("inspect", "--format", "{{json .State}}", self.name, check=False)
        return json.loads(proc.stdout) if proc.returncode == 0 else {}

    def graphql(self, query: str) -> dict:
        status, body = _http("POST", f"{self.base}/graphql", {"query": query}, {"x-token": TOKEN})
        assert status == 200, f"POST /graphql answered {status}: {body}\n{self.logs()}"
        assert isinstance(body, dict) and not body.get("errors"), f"{body}\n{self.logs()}"
        return body["data"]


@contextmanager
def running(image: str, *options: str) -> Iterator[Container]:
    """A container of ``image`` on the host's network and a free, non-default port."""
    port = _free_port()
    assert port != 8000
    name = f"mock-semble-test-{uuid.uuid4().hex[:10]}"
    box = Container(name=name, port=port, base=f"http://127.0.0.1:{port}")
    try:
        _docker(
            "run",
            "--detach",
            "--name",
            name,
            "--network",
            "host",
            "--env",
            f"MOCK_SEMBLE_PORT={port}",
            "--health-interval=1s",
            "--health-timeout=5s",
            "--health-retries=3",
            *options,
            image,
        )
        _wait_until_serving(box)
        yield box
    finally:
        _docker("rm", "--force", "--volumes", name, check=False, timeout=60)


@pytest.fixture(scope="module")
def container(docker_image: str) -> Iterator[Container]:
    with running(docker_image, "--env", "MOCK_SEMBLE_ALLOW_HTTP_LOCALHOST=1") as box:
        yield box


def _wait_until_serving(box: Container) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last: object = None
    while time.monotonic() < deadline:
        state = box.state()
        if state and not state.get("Running", False):
            pytest.fail(f"container exited early: {state}\n{box.logs()}", pytrace=False)
        try:
            status, last = _http("GET", f"{box.base}/__mock/health", timeout=2)
            if status == 200:
                return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    pytest.fail(f"/__mock/health never answered 200 (last: {last!r})\n{box.logs()}", pytrace=False)


# ---------------------------------------------------------------- a webhook receiver on the host


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rec:  # the container shares the host's network
        yield rec


# ------------------------------------------------------------------------------------ the tests


def test_health_check_follows_the_configured_port(container: Container) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    status = None
    while time.monotonic() < deadline:
        state = container.state()
        status = (state.get("Health") or {}).get("Status")
        if status in ("healthy", "unhealthy") or not state.get("Running", False):
            break
        time.sleep(0.5)
    assert status == "healthy", (
        f"health status {status!r} with MOCK_SEMBLE_PORT={container.port}: "
        f"{json.dumps(container.state().get('Health'), indent=1)}\n{container.logs()}"
    )


def test_runs_as_non_root(container: Container) -> None:
    uid = _docker("exec", container.name, "id", "-u").stdout.strip()
    assert uid.isdigit() and uid != "0", f"container runs as uid {uid!r}"


def test_graphql_round_trip_and_signed_delivery(
    container: Container, receiver: WebhookReceiver
) -> None:
    hook_url = f"http://127.0.0.1:{receiver.port}/hook"
    created = container.graphql(
        "mutation { createWebhook(input: {"
        f'url: "{hook_url}", eventTypes: [PATIENT_CREATED], label: "docker"'
        "}) { data { id secret } error } }"
    )["createWebhook"]
    assert created["error"] is None, created
    hook_id, secret = created["data"]["id"], created["data"]["secret"]
    assert hook_id and secret

    listed = container.graphql("{ webhooks { id } }")["webhooks"]
    assert hook_id in [w["id"] for w in listed], listed

    status, answer = _http(
        "POST",
        f"{container.base}/__mock/events",
        {"eventType": "PATIENT_CREATED", "wait": True},
    )
    assert 200 <= status < 300, (
        f"POST /__mock/events answered {status}: {answer}\n{container.logs()}"
    )

    receiver.wait_for(1, timeout=15)
    time.sleep(0.5)  # a second, unexpected delivery would have arrived by now
    got = receiver.wait_for(1, timeout=0)
    assert len(got) == 1, f"expected one delivery, got {got}\n{container.logs()}"
    delivery = got[0]
    assert delivery.method == "POST" and delivery.path == "/hook", delivery
    payload = json.loads(delivery.body)
    assert payload.get("eventType") == "patient.created", payload
    assert b'"eventType":"patient.created"' in delivery.body, delivery.body

    headers = {k.lower(): v for k, v in delivery.headers.items()}
    assert "x-webhook-signature" in headers, headers
    # default scheme "semble": X-Webhook-Signature: t=<unix s>,v1=<hex of HMAC(secret, t.body)>
    parts = dict(item.split("=", 1) for item in headers["x-webhook-signature"].split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + delivery.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts.get("v1", ""), expected), headers["x-webhook-signature"]


def test_the_image_carries_graphiqls_assets(docker_image: str, container: Container) -> None:
    check = _docker("run", "--rm", docker_image, "mock-semble", "graphiql-assets", "--check")
    assert check.stdout.startswith("GraphiQL assets OK in "), check.stdout
    request = urllib.request.Request(f"{container.base}/graphiql/assets/graphiql-3.8.3.min.js")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200 and len(response.read()) > 100_000


def test_delivers_to_the_host_through_host_docker_internal(
    docker_image: str, receiver: WebhookReceiver
) -> None:
    # The README's set-up for a receiver on the host. CI's daemon has no bridge, so the
    # container shares the host's network and host.docker.internal is mapped to 127.0.0.1;
    # with a bridge, --add-host host.docker.internal:host-gateway does the same.
    target = f"http://host.docker.internal:{receiver.port}"
    with running(
        docker_image,
        "--add-host",
        "host.docker.internal:127.0.0.1",
        "--env",
        "MOCK_SEMBLE_ALLOW_HTTP_HOSTS=host.docker.internal",
        "--env",
        f"MOCK_SEMBLE_FORWARD=https://app.example.com={target}",
    ) as box:
        create = (
            'mutation($u: String!) { createWebhook(input: {url: $u, label: "host", '
            "eventTypes: [PATIENT_CREATED]}) { data { id } error } }"
        )
        for url, error in (
            (f"{target}/direct", None),  # http:// admitted for that host name
            ("https://app.example.com/hooks", None),  # production-like, forwarded
            ("http://elsewhere.example/hooks", "url must be a valid HTTPS URL"),
        ):
            status, body = _http(
                "POST",
                f"{box.base}/graphql",
                {"query": create, "variables": {"u": url}},
                {"x-token": TOKEN},
            )
            assert status == 200, body
            assert isinstance(body, dict)
            assert body["data"]["createWebhook"]["error"] == error, (url, body)
        status, answer = _http(
            "POST", f"{box.base}/__mock/events", {"eventType": "PATIENT_CREATED", "wait": True}
        )
        assert status == 200, answer
        assert isinstance(answer, dict)
        assert sorted(d["status"] for d in answer["deliveries"]) == ["succeeded", "succeeded"]
        paths = sorted(request.path for request in receiver.wait_for(2, timeout=15))
        assert paths == ["/direct", "/hooks"], f"{paths}\n{box.logs()}"
