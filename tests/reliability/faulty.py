"""Misbehaving webhook receivers for the reliability suite, by name.

Each is a :class:`~mock_semble.testing.WebhookReceiver` on 127.0.0.1 scripted to
misbehave on every request; its ``incomplete`` lists requests that did not arrive whole.
"""

from __future__ import annotations

from mock_semble.testing import WebhookReceiver

MODES = ("ok", "slow", "hang", "reset", "garbage", "truncated", "status-500", "late-accept")


def faulty_receiver(mode: str, *, delay: float = 1.0) -> WebhookReceiver:
    """A started receiver that misbehaves as ``mode`` says on every request: ``slow``
    answers after ``delay`` s, ``late-accept`` accepts connections only after ``delay`` s,
    ``hang`` never answers, ``reset`` resets the connection, ``garbage`` answers bytes that
    are not HTTP, ``truncated`` a response shorter than its Content-Length."""
    assert mode in MODES, mode
    receiver = WebhookReceiver(accept_delay=delay if mode == "late-accept" else 0.0)
    if mode == "slow":
        receiver.respond_with(200, b"ok", delay=delay)
    elif mode == "status-500":
        receiver.respond_with(500, b"nope")
    elif mode in ("hang", "reset", "garbage", "truncated"):
        receiver.respond_with(fault=mode)
    return receiver.start()
