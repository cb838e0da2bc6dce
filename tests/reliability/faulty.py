"""Misbehaving webhook receivers on raw sockets (127.0.0.1 only).

Each one records whether every request it got arrived whole (headers and the full
Content-Length body), then misbehaves as told: hangs, resets the connection, answers
garbage or a truncated response, accepts late, or answers slowly.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass
from types import TracebackType

MODES = ("ok", "slow", "hang", "reset", "garbage", "truncated", "status-500", "late-accept")
HOLD_LIMIT = 60.0  # a hanging receiver lets go after this long, whatever happens
READ_TIMEOUT = 10.0


@dataclass
class Got:
    complete: bool
    head: bytes
    body: bytes


def read_request(conn: socket.socket) -> Got | None:
    """One HTTP/1.1 request; None when the peer sent nothing at all."""
    conn.settimeout(READ_TIMEOUT)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return Got(False, data, b"") if data else None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return Got(False, head, body)
            body += chunk
        return Got(len(body) == length, head, body)
    except (OSError, ValueError):
        return Got(False, data, b"")


class FaultyReceiver:
    """``with FaultyReceiver("hang") as r:`` … ``r.url``, ``r.got``."""

    def __init__(self, mode: str, *, delay: float = 1.0, keep: bool = True) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.keep = keep  # False: count requests, keep only the incomplete ones (a soak)
        self.count = 0
        self.delay = delay  # "slow": before answering; "late-accept": before accepting
        self.got: list[Got] = []
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._fillers: list[socket.socket] = []
        self._open: set[socket.socket] = set()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(0 if mode == "late-accept" else 64)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultyReceiver:
        if self.mode == "late-accept":
            # fill the accept queue, so that new connections wait in SYN retransmission
            for _ in range(3):
                filler = socket.socket()
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    filler.connect_ex(("127.0.0.1", self.port))
                self._fillers.append(filler)
        thread = threading.Thread(target=self._accept_loop, daemon=True, name=f"faulty-{self.mode}")
        thread.start()
        self._threads.append(thread)
        return self

    def _accept_loop(self) -> None:
        started = time.monotonic()
        if self.mode == "late-accept" and self.stop_event.wait(self.delay):
            return
        while not self.stop_event.is_set() and time.monotonic() - started < HOLD_LIMIT * 2:
            ready, _, _ = select.select([self._sock], [], [], 0.05)
            if not ready:
                continue
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.add(conn)
        with conn:
            while not self.stop_event.is_set():
                got = read_request(conn)
                if got is None:
                    return
                with self._lock:
                    self.count += 1
                    if self.keep or not got.complete:
                        self.got.append(got)
                if not got.complete:
                    return
                if not self._answer(conn):
                    return

    def _answer(self, conn: socket.socket) -> bool:
        """Misbehave; True when the connection may carry another request."""
        ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        try:
            if self.mode in ("ok", "late-accept"):
                conn.sendall(ok)
                return True
            if self.mode == "slow":
                self.stop_event.wait(self.delay)
                conn.sendall(ok)
                return True
            if self.mode == "status-500":
                conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nnope")
                return True
            if self.mode == "hang":
                self.stop_event.wait(HOLD_LIMIT)
                return False
            if self.mode == "reset":  # SO_LINGER 0: close() sends RST, not FIN
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return False
            if self.mode == "garbage":
                conn.sendall(b"\x16\x03\x01\x00\xffNOT HTTP AT ALL\r\n\x00\x01\x02\r\n\r\n")
                return False
            if self.mode == "truncated":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part")
                return False
        except OSError:
            return False
        raise AssertionError(self.mode)

    def stop(self) -> None:
        self.stop_event.set()
        for filler in self._fillers:
            filler.close()
        self._sock.close()
        with self._lock:
            still_open = list(self._open)
        for conn in still_open:  # wake threads blocked reading an idle keep-alive connection
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def incomplete(self) -> list[Got]:
        with self._lock:
            return [g for g in self.got if not g.complete]

    def __enter__(self) -> FaultyReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
