"""Thread-safe, fork-safe connection pools.

* Thread-safe: idle connections sit in a list guarded by a lock; a connection is used
  by one thread at a time. Connecting happens outside the lock.
* Fork-safe: the pool remembers its PID. In a child process it forgets every
  connection inherited from the parent (without shutting their sockets down, which
  would break the parent's) and opens its own.
* A connection that failed mid-reply is closed by ``Connection`` itself; ``release``
  then drops it instead of returning it to the idle list.
* ``get_connection`` checks that an idle connection is still open (one non-blocking
  poll) before handing it out, so a server restart or ``CLIENT KILL`` is noticed before
  a command is written, not after.

``ConnectionPool`` raises ``PoolExhaustedError`` (a ``ConnectionError``) at
``max_connections``; ``BlockingConnectionPool`` waits up to ``timeout`` seconds for a
free one instead, then raises it. The client does not retry it: a retry would only
wait for the same busy connections again (``timeout`` times the number of tries).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from .config import ConnectionConfig, FromURL
from .connection import Connection
from .errors import ConnectionError

__all__ = ["BlockingConnectionPool", "ConnectionPool", "PoolExhaustedError"]


class _Process:
    """The current PID, refreshed in a forked child: cheaper than ``os.getpid()`` per call."""

    pid = os.getpid()

    @classmethod
    def refresh(cls) -> None:
        cls.pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_Process.refresh)


class PoolExhaustedError(ConnectionError):
    """Every connection allowed by ``max_connections`` is in use (nothing was sent)."""


class ConnectionPool(FromURL):
    """Creates connections on demand, up to ``max_connections`` (None: unbounded)."""

    def __init__(
        self,
        connection_class: type[Connection] = Connection,
        max_connections: int | None = None,
        config: ConnectionConfig | None = None,
        **connection_kwargs: Any,
    ) -> None:
        if max_connections is not None and max_connections < 1:
            raise ValueError(f"max_connections must be >= 1 or None, got {max_connections!r}")
        self.connection_class = connection_class
        self.max_connections = max_connections
        self.config = config if config is not None else ConnectionConfig(**connection_kwargs)
        self.connection_kwargs = connection_kwargs
        self._lock = threading.Lock()
        self._fork_lock = threading.Lock()
        self._reset()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.config.address} created={self._created}>"

    def _reset(self) -> None:
        self.pid = os.getpid()
        self._idle: list[Connection] = []
        self._in_use: set[Connection] = set()
        self._created = 0

    def _check_pid(self) -> None:
        if self.pid != _Process.pid:
            with self._fork_lock:
                if self.pid != _Process.pid:
                    # Inherited sockets belong to the parent: drop them, never use them.
                    self._reset()

    def make_connection(self) -> Connection:
        return self.connection_class(self.config)

    def _take_slot(self) -> Connection | None:
        """Pop an idle connection, or reserve a slot for a new one (None)."""
        with self._lock:
            if self._idle:
                conn = self._idle.pop()
                self._in_use.add(conn)
                return conn
            if self.max_connections is not None and self._created >= self.max_connections:
                raise PoolExhaustedError(
                    f"too many connections (max_connections={self.max_connections})"
                )
            self._created += 1
            return None

    def get_connection(
        self, command_name: str | None = None, *keys: Any, **options: Any
    ) -> Connection:
        """A connected connection for this thread's exclusive use; ``release`` it after."""
        self._check_pid()
        conn = self._take_slot()
        if conn is not None:
            if conn.is_alive():
                return conn
            conn.disconnect()
        else:
            conn = self.make_connection()
            with self._lock:
                self._in_use.add(conn)
        try:
            conn.connect()
        except BaseException:
            self._discard(conn)
            raise
        return conn

    def _discard(self, conn: Connection) -> None:
        conn.disconnect()
        with self._lock:
            if conn in self._in_use:
                self._in_use.discard(conn)
                self._created -= 1

    def release(self, conn: Connection) -> None:
        """Return a connection; a broken one is dropped (its slot is freed)."""
        pid = _Process.pid
        if conn.pid != pid or self.pid != pid:
            return
        if not conn.is_connected:
            self._discard(conn)
            return
        with self._lock:
            if conn in self._in_use:
                self._in_use.discard(conn)
                self._idle.append(conn)

    def disconnect(self, inuse_connections: bool = True) -> None:
        """Close idle connections (and, by default, those in use)."""
        self._check_pid()
        with self._lock:
            idle, self._idle = self._idle, []
            busy = list(self._in_use) if inuse_connections else []
            self._created -= len(idle)
        for conn in idle + busy:
            conn.disconnect()

    def close(self) -> None:
        self.disconnect()

    def reset(self) -> None:
        self.disconnect()
        with self._lock:
            self._reset()


class BlockingConnectionPool(ConnectionPool):
    """Like ConnectionPool, but waits up to ``timeout`` s (None: forever) at the limit."""

    def __init__(
        self,
        connection_class: type[Connection] = Connection,
        max_connections: int = 50,
        timeout: float | None = 20.0,
        config: ConnectionConfig | None = None,
        **connection_kwargs: Any,
    ) -> None:
        super().__init__(connection_class, max_connections, config, **connection_kwargs)
        self.timeout = timeout
        self._available = threading.Condition(self._lock)

    def _take_slot(self) -> Connection | None:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        with self._available:
            while True:
                if self._idle:
                    conn = self._idle.pop()
                    self._in_use.add(conn)
                    return conn
                if self.max_connections is None or self._created < self.max_connections:
                    self._created += 1
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise PoolExhaustedError(
                        f"no connection available within {self.timeout}s "
                        f"(max_connections={self.max_connections})"
                    )
                self._available.wait(remaining)

    def release(self, conn: Connection) -> None:
        super().release(conn)
        with self._available:
            self._available.notify()

    def _discard(self, conn: Connection) -> None:
        super()._discard(conn)
        with self._available:
            self._available.notify()
