"""The webhook receiver of the delivery benchmark, in its own process.

The package's own :class:`~mock_semble.testing.WebhookReceiver`, keeping no request
(``keep=0``) and answering every delivery ``200`` at once. It counts deliveries and how
many carried a signature header; the harness reads the counts with ``GET /__count`` and
zeroes them with ``POST /__zero`` (neither counted).

Run as ``python -m benchmarks.receiver [--port P]``; prints ``receiver ready: URL``.
"""

from __future__ import annotations

import argparse
import contextlib
import threading

from mock_semble.testing.receiver import ReceivedRequest, Reply, WebhookReceiver

SIGNATURE_HEADERS = ("x-webhook-signature", "webhook-signature")


class Counts:
    """Deliveries received and signed; a responder runs in the receiver's handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received = 0
        self.signed = 0

    def answer(self, request: ReceivedRequest) -> Reply:
        if request.method == "GET" and request.path == "/__count":
            with self.lock:
                return Reply(200, {"received": self.received, "signed": self.signed})
        with self.lock:
            if request.method == "POST" and request.path == "/__zero":
                self.received = self.signed = 0
            else:
                self.received += 1
                self.signed += any(h in request.headers for h in SIGNATURE_HEADERS)
        return Reply(200)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    counts = Counts()
    receiver = WebhookReceiver(args.host, port=args.port, keep=0)
    receiver.respond_with(counts.answer)
    with receiver, contextlib.suppress(KeyboardInterrupt):
        print(f"receiver ready: {receiver.url}/", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
