"""Shared tools for the server tests of the sync client's machinery.

Plain functions and classes only (no fixtures): each test module declares the few
fixtures it needs, so pytest's fixture lookup stays local and obvious.

* ``private_server`` starts a function-owned server that a test may kill, restart or
  pause without disturbing the session server of ``conftest.py``.
* ``RecordingConnection`` wraps its socket in ``CountingSocket``, so a test can count
  what really went through ``sendall``/``recv_into`` (one write per pipeline, one
  round trip per handshake, nothing written after a DataError).
* ``BlindConnection`` always claims to be alive, so a connection killed while idle is
  only noticed *after* the next command was written: the retry policy's hard case.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import resp3
from resp3.config import ConnectionConfig
from resp3.connection import Connection
from resp3.pool import ConnectionPool
from resp3.testing import RedisServer

__all__ = [
    "BlindConnection",
    "CountingSocket",
    "RecordingConnection",
    "client_for",
    "client_info",
    "private_server",
    "wait_until",
]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Poll ``predicate`` every 5 ms; AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.005)


@contextmanager
def private_server(*extra_args: str) -> Iterator[RedisServer]:
    """A server owned by one test (or module): free port, own Unix socket, killed after."""
    with RedisServer(extra_args=extra_args) as srv:
        yield srv


class CountingSocket:
    """A socket proxy that logs ``("send", data)`` and ``("recv", nbytes)`` events.

    Everything else (fileno, settimeout, shutdown, close...) goes to the real socket,
    so ``select``/``poll`` keep working on it.
    """

    def __init__(self, sock: socket.socket, events: list[tuple[str, Any]]) -> None:
        self._sock = sock
        self.events = events

    def sendall(self, data: Any) -> None:
        self.events.append(("send", bytes(data)))
        self._sock.sendall(data)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        n = self._sock.recv_into(buffer, nbytes, flags)
        self.events.append(("recv", n))
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class RecordingConnection(Connection):
    """A Connection whose socket traffic is logged in ``events`` (shared per class).

    ``connects`` counts socket opens (successful or not). Class-level logs keep the
    record across the pool's reconnects; use ``fresh()`` for a class with its own log,
    and ``reset_log()`` to clear it between the phases of a test.
    """

    events: list[tuple[str, Any]] = []
    connects = 0
    lock = threading.Lock()

    @classmethod
    def fresh(cls) -> type[RecordingConnection]:
        """A subclass with its own empty log, so one test never reads another's events."""
        return type("RecordingConnection", (cls,), {"events": [], "connects": 0})

    @classmethod
    def reset_log(cls) -> None:
        with cls.lock:
            cls.events.clear()
            cls.connects = 0

    @classmethod
    def sends(cls) -> list[bytes]:
        return [data for kind, data in cls.events if kind == "send"]

    def _open_socket(self) -> socket.socket:
        with self.lock:
            type(self).connects += 1
        sock = super()._open_socket()
        proxy: Any = CountingSocket(sock, type(self).events)
        return proxy  # type: ignore[no-any-return]


class BlindConnection(Connection):
    """Never notices at checkout that the server closed it (a half-open connection)."""

    def is_alive(self) -> bool:
        return self.is_connected


def client_for(
    server: RedisServer,
    connection_class: type[Connection] = Connection,
    *,
    max_connections: int | None = None,
    **config: Any,
) -> resp3.Redis:
    """A client on ``server`` whose pool builds ``connection_class`` connections."""
    cfg = ConnectionConfig(host=server.host, port=server.port, **config)
    pool = ConnectionPool(
        connection_class=connection_class, max_connections=max_connections, config=cfg
    )
    return resp3.Redis(connection_pool=pool)


def client_info(client: resp3.Redis) -> dict[str, str]:
    """``CLIENT INFO`` of the connection that runs it, as a dict of its fields."""
    raw = client.execute_command("CLIENT", "INFO")
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return dict(field.split("=", 1) for field in text.split())
