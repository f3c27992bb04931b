"""The connections of one cluster node for the asyncio cluster client.

Each node gets what ``resp3.asyncio.Redis`` has for its single server: one shared,
multiplexed :class:`AsyncConnection` (automatic pipelining: every task's commands for
this node issued in one loop iteration leave in one write) and a pool of dedicated
connections for blocking commands, WATCH and pub/sub. Failing to open the shared
connection raises ``NotSentError``: no command was written, so retrying is safe.
"""

from __future__ import annotations

import asyncio

from .._reader import encode_command
from ..commands._base import Command
from ..config import ConnectionConfig
from ..errors import AuthenticationError, ConnectionError, TimeoutError
from .connection import AsyncConnection, NotSentError
from .pool import AsyncConnectionPool

__all__ = ["NodeConnections", "ReadOnlyAsyncConnection"]

_READONLY = encode_command(b"READONLY")


class ReadOnlyAsyncConnection(AsyncConnection):
    """Sends READONLY after the handshake, so a replica serves reads."""

    async def connect(self) -> None:
        await super().connect()
        try:
            await self.execute(_READONLY, Command((b"READONLY",)))
        except BaseException:
            self.close()
            raise


class NodeConnections:
    """One node's shared connection and dedicated pool."""

    __slots__ = ("_lock", "config", "mux", "pool", "readonly")

    def __init__(
        self, config: ConnectionConfig, readonly: bool, max_connections: int | None
    ) -> None:
        self.config = config
        self.readonly = readonly
        self.mux: AsyncConnection | None = None
        self.pool = AsyncConnectionPool(config, max_connections=max_connections)
        self._lock: asyncio.Lock | None = None

    async def connect(self) -> AsyncConnection:
        """The shared connection, opened (once, whoever asks first) if needed."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            mux = self.mux
            if mux is not None and mux.is_connected:
                return mux
            mux = (ReadOnlyAsyncConnection if self.readonly else AsyncConnection)(self.config)
            try:
                await mux.connect()
            except AuthenticationError:
                raise
            except (ConnectionError, TimeoutError) as exc:  # no command was written
                raise NotSentError(str(exc)) from exc
            self.mux = mux
            return mux

    async def retire(self, patience: float = 10.0) -> None:
        """Close once the commands in flight on the shared connection have their replies
        (the node left the slot map; closing at once would fail them for nothing).
        Cancelled (the client is closing), it closes at once: nothing else holds these
        connections any more, so skipping that would leave their sockets to the
        garbage collector."""
        deadline = asyncio.get_running_loop().time() + patience
        mux = self.mux
        try:
            while (
                mux is not None and mux.in_flight and asyncio.get_running_loop().time() < deadline
            ):
                await asyncio.sleep(0.05)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        mux, self.mux = self.mux, None
        if mux is not None:
            mux.close()
        await self.pool.aclose()
