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
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .._reader import pack_commands
from .._subscriptions import Handler, Subscriptions, to_message
from ..errors import ConnectionError
from .client import _timeout
from .connection import AsyncConnection

if TYPE_CHECKING:
    from .client import Redis

__all__ = ["PubSub"]


class PubSub(Subscriptions):
    """``async with r.pubsub() as p: await p.subscribe("ch"); async for m in p.listen(): ...``"""

    def __init__(self, client: Redis, ignore_subscribe_messages: bool = False) -> None:
        self.client = client
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self._init_subscriptions(client.config.encoding)
        self.connection: AsyncConnection | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    async def __aenter__(self) -> PubSub:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        conn, self.connection = self.connection, None
        if conn is not None:
            conn.close()
        self._clear_subscriptions()

    reset = close = aclose

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
        cmds = self._resubscribe_commands()
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
        new = self._new_names(args, kwargs, command.decode())
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
        names = self._forget(table, args)
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
            handler = self._handler(message, ignore)
            if handler is None:
                return message
            result = handler(message)
            if inspect.isawaitable(result):
                await result

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        while self.subscribed:
            message = await self.get_message(timeout=None)
            if message is not None:
                yield message

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self.listen()
