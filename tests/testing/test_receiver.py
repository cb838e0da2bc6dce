"""WebhookReceiver's delivery-testing features, driven by plain sockets and httpx: exact
header order, incomplete requests, held and dripped answers, transport faults, TLS, late
accept and a bounded memory of requests."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import trustme

from mock_semble.testing import WebhookReceiver
from mock_semble.testing.receiver import Reply


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as started:
        yield started


def connect(receiver: WebhookReceiver) -> socket.socket:
    return socket.create_connection(("127.0.0.1", receiver.port), timeout=10)


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_headers_are_kept_in_order_with_case_and_repeats(receiver: WebhookReceiver) -> None:
    with connect(receiver) as sock:
        sock.sendall(
            b"POST /in HTTP/1.1\r\nHost: x\r\nX-B: 1\r\nx-a: 2\r\nX-B: 3\r\n"
            b"Content-Length: 2\r\nConnection: close\r\n\r\nhi"
        )
        assert read_all(sock).startswith(b"HTTP/1.1 200 ")
    [request] = receiver.wait_for(1)
    assert request.raw_headers == (
        ("Host", "x"),
        ("X-B", "1"),
        ("x-a", "2"),
        ("X-B", "3"),
        ("Content-Length", "2"),
        ("Connection", "close"),
    )
    assert request.headers["X-A"] == "2" and request.body == b"hi" and request.complete


@pytest.mark.parametrize(
    "sent",
    [
        b"POST /in HTTP/1.1\r\nContent-Length: 10\r\n\r\nonly5",  # body cut short
        b"POST /in HTTP/1.1\r\nContent-Length: 10\r\nX-Cut: ",  # header block cut short
        b"POST /in HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",  # no last chunk
    ],
)
def test_a_request_cut_short_is_recorded_as_incomplete(
    receiver: WebhookReceiver, sent: bytes
) -> None:
    with connect(receiver) as sock:
        sock.sendall(sent)
        sock.shutdown(socket.SHUT_WR)
        assert read_all(sock) == b""  # nothing is answered to half a request
    [request] = receiver.wait_for(1)
    assert request.complete is False
    assert receiver.incomplete == [request]


def test_a_held_answer_waits_for_release(receiver: WebhookReceiver) -> None:
    hold = threading.Event()
    receiver.respond_with(202, b"late", hold=hold)
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(httpx.post(receiver.url, content=b"x")))
    thread.start()
    receiver.wait_for(1)
    thread.join(timeout=0.2)
    assert thread.is_alive() and answers == []  # arrived, not answered
    receiver.release()
    thread.join(timeout=10)
    assert [(a.status_code, a.content) for a in answers] == [(202, b"late")]
    assert hold.is_set()


def test_stop_lets_held_answers_go() -> None:
    hold = threading.Event()
    receiver = WebhookReceiver().start()
    receiver.respond_with(200, hold=hold)
    errors: list[BaseException] = []

    def post() -> None:
        try:
            httpx.post(receiver.url, content=b"x", timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=post)
    thread.start()
    receiver.wait_for(1)
    receiver.stop()
    thread.join(timeout=10)
    assert not thread.is_alive() and hold.is_set()


def test_a_dripped_body_arrives_in_pieces(receiver: WebhookReceiver) -> None:
    receiver.respond_with(200, b"0123456789" * 3, drip=0.05)
    pieces: list[bytes] = []
    with httpx.stream("POST", receiver.url, content=b"x") as response:
        assert response.headers["content-length"] == "30"
        pieces.extend(response.iter_raw(1))
    assert b"".join(pieces) == b"0123456789" * 3


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("reset", httpx.ReadError),
        ("garbage", httpx.RemoteProtocolError),
        ("truncated", httpx.RemoteProtocolError),
    ],
)
def test_faults_break_the_answer(
    receiver: WebhookReceiver, fault: str, error: type[Exception]
) -> None:
    receiver.respond_with(fault=fault)
    with pytest.raises(error):
        httpx.post(receiver.url, content=b"x", timeout=10)
    assert receiver.count == 1


def test_a_reset_is_a_tcp_reset(receiver: WebhookReceiver) -> None:
    receiver.respond_with(fault="reset")
    with connect(receiver) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            read_all(sock)


def test_a_hanging_receiver_never_answers(receiver: WebhookReceiver) -> None:
    receiver.respond_with(fault="hang")
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(receiver.url, content=b"x", timeout=0.3)


def test_garbage_and_truncated_bytes_are_as_documented(receiver: WebhookReceiver) -> None:
    receiver.respond_with(fault="garbage", times=1).respond_with(fault="truncated", times=1)
    answers = []
    for _ in range(2):
        with connect(receiver) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            answers.append(read_all(sock))
    assert not answers[0].startswith(b"HTTP/")
    assert answers[1] == b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part"


def test_unknown_faults_and_negative_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="fault must be one of hang, reset, garbage, truncated"):
        Reply(fault="explode")
    with pytest.raises(ValueError, match="negative"):
        Reply(delay=-1)


def test_tls_receiver(tmp_path: object) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    with WebhookReceiver(tls=context) as receiver:
        assert receiver.url == f"https://127.0.0.1:{receiver.port}"
        answer = httpx.post(f"https://localhost:{receiver.port}/in", content=b"x", verify=client)
        assert answer.status_code == 200
        with pytest.raises(httpx.ConnectError):  # a failed handshake is quiet
            httpx.post(f"https://localhost:{receiver.port}/in", content=b"x")
        [request] = receiver.requests
        assert request.path == "/in" and request.body == b"x"


def test_late_accept_holds_connections_in_the_kernel_queue() -> None:
    with WebhookReceiver(accept_delay=1.0) as receiver:
        started = time.monotonic()
        answer = httpx.post(receiver.url, content=b"x", timeout=15)
        waited = time.monotonic() - started
        assert answer.status_code == 200 and receiver.count == 1
    assert waited >= 0.9  # not answered before accepting began


def test_stop_during_the_accept_delay_returns() -> None:
    receiver = WebhookReceiver(accept_delay=30.0).start()
    receiver.stop()  # must not wait for serving that never began


def test_keep_bounds_memory_and_count_counts_all() -> None:
    with WebhookReceiver(keep=2) as receiver:
        for n in range(5):
            httpx.post(receiver.url, content=str(n).encode())
        assert receiver.wait_for(5) == receiver.requests
        assert [r.body for r in receiver.requests] == [b"3", b"4"]
        assert receiver.count == 5
    with pytest.raises(ValueError, match="keep"):
        WebhookReceiver(keep=-1)


def test_a_reply_object_and_clear(receiver: WebhookReceiver) -> None:
    receiver.respond_with(Reply(201, {"a": 1}), times=1)
    first = httpx.post(receiver.url, content=b"x")
    assert (first.status_code, first.json()) == (201, {"a": 1})
    receiver.respond_with(503)
    assert httpx.post(receiver.url, content=b"x").status_code == 503
    receiver.clear()
    assert receiver.count == 0 and receiver.requests == []
    assert httpx.post(receiver.url, content=b"x").status_code == 200
