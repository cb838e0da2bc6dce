"""A fast local webhook receiver for the delivery benchmark (its own process).

Raw asyncio: HTTP/1.1 keep-alive, bodies by Content-Length, every POST answered
``200`` with an empty body at once, so the receiver is never what limits the rate.
It counts deliveries and how many carried a signature header; the harness reads the
counts with ``GET /__count`` and zeroes them with ``POST /__zero`` (neither counted).

Run as ``python -m benchmarks.receiver [--port P]``; prints ``receiver ready: URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
SIGNATURE_HEADERS = (b"\r\nx-webhook-signature:", b"\r\nwebhook-signature:")


class Counts:
    received = 0
    signed = 0


class Receiver(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out: list[bytes] = []
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buffer[:end].lower()
            length = 0
            marker = head.find(b"\r\ncontent-length:")
            if marker >= 0:
                line_end = head.find(b"\r\n", marker + 2)
                stop = line_end if line_end >= 0 else len(head)
                length = int(head[marker + 17 : stop])
            total = end + 4 + length
            if len(self.buffer) < total:
                break
            self.buffer = self.buffer[total:]
            out.append(self.answer(head))
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    @staticmethod
    def answer(head: bytes) -> bytes:
        if head.startswith(b"get /__count"):
            body = json.dumps({"received": Counts.received, "signed": Counts.signed}).encode()
            return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        if head.startswith(b"post /__zero"):
            Counts.received = Counts.signed = 0
            return OK
        Counts.received += 1
        if any(h in head for h in SIGNATURE_HEADERS):
            Counts.signed += 1
        return OK


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Receiver, host, port, backlog=1024)
    bound = server.sockets[0].getsockname()
    print(f"receiver ready: http://{bound[0]}:{bound[1]}/", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
