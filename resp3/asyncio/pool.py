"""Dedicated asyncio connections, for what must not share the multiplexed one.

Blocking commands (BLPOP, XREAD BLOCK, WAIT...), WATCH transactions and pub/sub hold
a connection for themselves; they borrow it from this pool so they never stall the
shared connection that carries everybody else's commands. ``max_connections`` bounds
the pool; at the limit ``acquire`` waits up to ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from ..config import ConnectionConfig
from ..errors import ConnectionError
from .connection import AsyncConnection

__all__ = ["AsyncConnectionPool"]


class AsyncConnectionPool:
    def __init__(
        self,
        config: ConnectionConfig,
        max_connections: int | None = None,
        timeout: float | None = 20.0,
    ) -> None:
        self.config = config
        self.max_connections = max_connections
        self.timeout = timeout
        self._idle: list[AsyncConnection] = []
        self._in_use: set[AsyncConnection] = set()
        self._created = 0
        self._cond: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    async def acquire(self) -> AsyncConnection:
        cond = self._condition()
        async with cond:
            while True:
                while self._idle:
                    conn = self._idle.pop()
                    if conn.is_connected:
                        self._in_use.add(conn)
                        return conn
                    self._created -= 1
                if self.max_connections is None or self._created < self.max_connections:
                    self._created += 1
                    break
                try:
                    await asyncio.wait_for(cond.wait(), self.timeout)
                except asyncio.TimeoutError:
                    raise ConnectionError(
                        f"no connection available within {self.timeout}s "
                        f"(max_connections={self.max_connections})"
                    ) from None
        conn = AsyncConnection(self.config)
        self._in_use.add(conn)  # from now on, so that aclose() can abort the handshake
        try:
            await conn.connect()
        except BaseException:
            self._in_use.discard(conn)
            await self._forget()
            raise
        return conn

    async def _forget(self) -> None:
        async with self._condition():
            self._created -= 1
            self._condition().notify()

    async def release(self, conn: AsyncConnection) -> None:
        """Return a connection; one that is broken or still owes replies is closed."""
        self._in_use.discard(conn)
        if not conn.is_connected or conn.in_flight or conn.push_queue is not None:
            conn.close()
            await self._forget()
            return
        async with self._condition():
            self._idle.append(conn)
            self._condition().notify()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        conn = await self.acquire()
        try:
            yield conn
        finally:
            await self.release(conn)

    async def aclose(self) -> None:
        """Close idle connections and borrowed ones (their waiters get ConnectionError)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        self._created -= len(idle)
        for conn in list(self._in_use):
            conn.close()  # its borrower's release() sees it closed and forgets it
