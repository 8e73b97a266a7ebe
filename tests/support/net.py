"""Network stand-ins on 127.0.0.1: a misbehaving TCP relay and a port nothing listens on."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any


class TcpProxy:
    """A TCP relay on 127.0.0.1 in front of ``target``, misbehaving on cue.

    ``delay``: seconds each server-to-client chunk is held back (a slow database).
    ``drop_first``: the first N connections are accepted and closed at once (a server that is
    restarting). ``target=None``: connections are accepted and never answered.
    """

    def __init__(
        self, target: tuple[str, int] | None, *, delay: float = 0.0, drop_first: int = 0
    ) -> None:
        self.target = target
        self.delay = delay
        self.drop_first = drop_first
        self.accepted = 0
        self.dropped = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> TcpProxy:
        self._spawn(self._accept_loop)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        with self._lock:
            sockets = [*self._sockets]
        for sock in sockets:
            _shutdown(sock)
            sock.close()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.dropped < self.drop_first:
                self.dropped += 1
                client.close()
                continue
            self._keep(client)
            if self.target is None:
                continue  # a black hole: the connection stays open and silent
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                continue
            upstream.settimeout(None)
            self._keep(upstream)
            self._spawn(self._pump, client, upstream, 0.0)
            self._spawn(self._pump, upstream, client, self.delay)

    def _pump(self, source: socket.socket, sink: socket.socket, delay: float) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if delay:
                    time.sleep(delay)
                sink.sendall(data)
        except OSError:
            pass  # the other side went away: stop relaying
        finally:
            _shutdown(source)
            _shutdown(sink)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
