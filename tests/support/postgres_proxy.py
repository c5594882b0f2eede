"""A TCP proxy in front of PostgreSQL that cuts the connection at a chosen statement.

A command run in a child process reaches the test database through the proxy (point its
DATABASE_URL at ``proxy.database_url(...)``). The proxy passes bytes both ways unchanged until
the client has sent ``trigger`` (a piece of SQL, as it travels in the wire protocol) for the
``occurrence``-th time; then it closes both sides at once, as a server killed mid-query or a
network cut would. PostgreSQL rolls back whatever the connection had not committed.

``sslmode=disable`` keeps the statements readable on the wire.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class DroppingProxy:
    def __init__(
        self,
        *,
        trigger: bytes,
        occurrence: int = 1,
        upstream: tuple[str, int] = ("127.0.0.1", 5432),
    ) -> None:
        self.trigger = trigger
        self.occurrence = occurrence
        self.upstream = upstream
        self.dropped = threading.Event()  # set once a connection was cut
        self._seen = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []

    def database_url(self, *, user: str, name: str) -> str:
        return f"postgres://{user}@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def __enter__(self) -> DroppingProxy:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc) -> None:
        self._listener.close()
        for sock in list(self._sockets):
            _close(sock)
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            self._spawn(self._pump, client, server, True)
            self._spawn(self._pump, server, client, False)

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        tail = b""  # the end of the previous chunk, so a trigger split across reads is found
        while True:
            try:
                chunk = source.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            if from_client and self._counts(tail + chunk):
                break
            tail = chunk[-(len(self.trigger) - 1) :] if len(self.trigger) > 1 else b""
            try:
                sink.sendall(chunk)
            except OSError:
                break
        _close(source)
        _close(sink)

    def _counts(self, data: bytes) -> bool:
        """Whether this client data reaches the trigger's ``occurrence``: then cut."""
        with self._lock:
            if self.dropped.is_set():
                return True
            self._seen += data.count(self.trigger)
            if self._seen >= self.occurrence:
                self.dropped.set()
                return True
            return False


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
