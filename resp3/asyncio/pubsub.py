"""asyncio pub/sub: an async iterator of messages on a dedicated connection.

The connection's every reply and push lands in a queue (``push_queue``); messages are
the same dicts as the sync client's (shared ``to_message``). When the connection
breaks, the next ``get_message`` reconnects with backoff and subscribes again to every
channel, pattern and shard channel.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from .._reader import pack_commands
from ..errors import ConnectionError, RedisError
from ..pubsub import _KINDS, to_message
from .client import _timeout
from .connection import AsyncConnection

if TYPE_CHECKING:
    from .client import Redis

__all__ = ["PubSub"]

Handler = Callable[[dict[str, Any]], Any]


class PubSub:
    """``async with r.pubsub() as p: await p.subscribe("ch"); async for m in p.listen(): ...``"""

    def __init__(self, client: Redis, ignore_subscribe_messages: bool = False) -> None:
        self.client = client
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.channels: dict[bytes, Handler | None] = {}
        self.patterns: dict[bytes, Handler | None] = {}
        self.shard_channels: dict[bytes, Handler | None] = {}
        self.connection: AsyncConnection | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._encoding = client.config.encoding

    async def __aenter__(self) -> PubSub:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        conn, self.connection = self.connection, None
        if conn is not None:
            conn.close()
        self.channels.clear()
        self.patterns.clear()
        self.shard_channels.clear()

    reset = close = aclose

    @property
    def subscribed(self) -> bool:
        return bool(self.channels or self.patterns or self.shard_channels)

    def _key(self, name: Any) -> bytes:
        if isinstance(name, bytes):
            return name
        if isinstance(name, str):
            return name.encode(self._encoding)
        raise TypeError(f"channel names must be bytes or str, got {type(name).__name__}")

    async def _connect(self) -> AsyncConnection:
        conn = self.connection
        if conn is not None and conn.is_connected:
            return conn
        retry = self.client.retry
        failures = 0
        while True:
            conn = AsyncConnection(self.client.config)
            try:
                await conn.connect()
                break
            except ConnectionError:
                failures += 1
                if failures > max(retry.retries, 1):
                    raise
                await asyncio.sleep(retry.backoff.compute(failures))
        self._queue = asyncio.Queue()
        conn.push_queue = self._queue
        self.connection = conn
        cmds: list[tuple[Any, ...]] = []
        for command, table in (
            (b"SUBSCRIBE", self.channels),
            (b"PSUBSCRIBE", self.patterns),
            (b"SSUBSCRIBE", self.shard_channels),
        ):
            if table:
                cmds.append((command, *table))
        if cmds:
            conn.send_raw(pack_commands(cmds))
        return conn

    async def _subscribe(
        self,
        command: bytes,
        table: dict[bytes, Handler | None],
        args: tuple[Any, ...],
        kwargs: dict[str, Handler],
    ) -> None:
        new: dict[bytes, Handler | None] = {self._key(a): None for a in args}
        new.update({self._key(k): v for k, v in kwargs.items()})
        if not new:
            raise RedisError(f"{command.decode()} needs at least one channel")
        conn = await self._connect()
        table.update(new)
        conn.send_raw(pack_commands([(command, *new)]))

    async def subscribe(self, *args: Any, **kwargs: Handler) -> None:
        await self._subscribe(b"SUBSCRIBE", self.channels, args, kwargs)

    async def psubscribe(self, *args: Any, **kwargs: Handler) -> None:
        await self._subscribe(b"PSUBSCRIBE", self.patterns, args, kwargs)

    async def ssubscribe(self, *args: Any, **kwargs: Handler) -> None:
        await self._subscribe(b"SSUBSCRIBE", self.shard_channels, args, kwargs)

    async def _unsubscribe(
        self, command: bytes, table: dict[bytes, Handler | None], args: tuple[Any, ...]
    ) -> None:
        names = [self._key(a) for a in args]
        for name in names or list(table):
            table.pop(name, None)
        if self.connection is not None and self.connection.is_connected:
            self.connection.send_raw(pack_commands([(command, *names)]))

    async def unsubscribe(self, *args: Any) -> None:
        await self._unsubscribe(b"UNSUBSCRIBE", self.channels, args)

    async def punsubscribe(self, *args: Any) -> None:
        await self._unsubscribe(b"PUNSUBSCRIBE", self.patterns, args)

    async def sunsubscribe(self, *args: Any) -> None:
        await self._unsubscribe(b"SUNSUBSCRIBE", self.shard_channels, args)

    async def get_message(
        self, ignore_subscribe_messages: bool = False, timeout: float | None = 0.0
    ) -> dict[str, Any] | None:
        """The next message, or None after ``timeout`` seconds (None: wait forever)."""
        if self.connection is None and not self.subscribed:
            return None
        await self._connect()
        ignore = ignore_subscribe_messages or self.ignore_subscribe_messages
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            queue = self._queue
            if not queue.empty():
                # Fast path: messages already read need no timer and no task.
                reply = queue.get_nowait()
            elif deadline is None:
                reply = await queue.get()
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                try:
                    async with _timeout(remaining):
                        reply = await queue.get()
                except (asyncio.TimeoutError, TimeoutError):
                    return None
            if isinstance(reply, ConnectionError):
                self.connection = None
                await self._connect()
                return None
            message = to_message(reply)
            if message is None:
                continue
            if message["type"] in _KINDS:
                if ignore:
                    continue
                return message
            handler = self._handler_for(message)
            if handler is None:
                return message
            result = handler(message)
            if inspect.isawaitable(result):
                await result

    def _handler_for(self, message: dict[str, Any]) -> Handler | None:
        kind = message["type"]
        if kind == "pmessage":
            return self.patterns.get(self._key(message["pattern"]))
        table = self.channels if kind == "message" else self.shard_channels
        return table.get(self._key(message["channel"])) if kind in ("message", "smessage") else None

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        while self.subscribed:
            message = await self.get_message(timeout=None)
            if message is not None:
                yield message

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self.listen()
