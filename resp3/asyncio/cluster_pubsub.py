"""asyncio cluster pub/sub: the sync ``ClusterPubSub``'s routing, on asyncio connections.

Classic channels and patterns use one connection to the default node; each shard
channel is subscribed on the primary serving its slot. Every connection's replies and
pushes land, tagged with the connection they came from, in one queue that
``get_message`` reads. A broken connection or a slot that moved (an unrequested
``sunsubscribe``, a MOVED reply) makes the affected channels be subscribed again where
they live now, retried every ``REROUTE_INTERVAL`` seconds until that works. See
``resp3.cluster.pubsub`` for the rules, which are the same.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from .._reader import pack_commands
from ..cluster.attempt import NOW
from ..cluster.nodes import ClusterNode
from ..cluster.pubsub import REROUTE_INTERVAL, channel_key, per_slot
from ..cluster.slots import key_slot
from ..errors import ConnectionError, MovedError, RedisError, ResponseError, TimeoutError
from ..pubsub import _KINDS, to_message
from .connection import AsyncConnection

if TYPE_CHECKING:
    from .cluster import RedisCluster

__all__ = ["ClusterPubSub"]

Handler = Callable[[dict[str, Any]], Any]
_MAIN = ""


class _TaggedQueue(asyncio.Queue[Any]):
    """What one connection puts in its ``push_queue`` goes to the shared queue, tagged."""

    def __init__(
        self, key: str, conn: AsyncConnection, target: asyncio.Queue[tuple[str, Any, Any]]
    ) -> None:
        super().__init__()
        self.key = key
        self.conn = conn
        self.target = target

    def put_nowait(self, item: Any) -> None:
        self.target.put_nowait((self.key, self.conn, item))


class ClusterPubSub:
    """``async with rc.pubsub() as p: await p.ssubscribe("ch"); async for m in p.listen()``"""

    def __init__(self, client: RedisCluster, ignore_subscribe_messages: bool = False) -> None:
        self.client = client
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.channels: dict[bytes, Handler | None] = {}
        self.patterns: dict[bytes, Handler | None] = {}
        self.shard_channels: dict[bytes, Handler | None] = {}
        self._owner: dict[bytes, str] = {}
        self._conns: dict[str, tuple[ClusterNode, AsyncConnection]] = {}
        self._queue: asyncio.Queue[tuple[str, Any, Any]] = asyncio.Queue()
        self._main_lost = False
        self._retry_at = 0.0
        self._encoding = client.config.encoding

    async def __aenter__(self) -> ClusterPubSub:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        conns, self._conns = list(self._conns.values()), {}
        for _, conn in conns:
            conn.close()
        self.channels.clear()
        self.patterns.clear()
        self.shard_channels.clear()
        self._owner.clear()
        self._main_lost = False

    reset = close = aclose

    @property
    def subscribed(self) -> bool:
        return bool(self.channels or self.patterns or self.shard_channels)

    def _key(self, name: Any) -> bytes:
        return channel_key(name, self._encoding)

    # -- connections ---------------------------------------------------------------------

    async def _open(self, key: str, node: ClusterNode) -> AsyncConnection:
        entry = self._conns.get(key)
        if entry is not None and entry[0] == node and entry[1].is_connected:
            return entry[1]
        self._drop(key)
        conn = AsyncConnection(self.client.config.replace(host=node.host, port=node.port))
        await conn.connect()
        conn.push_queue = _TaggedQueue(key, conn, self._queue)
        self._conns[key] = (node, conn)
        return conn

    def _drop(self, key: str) -> None:
        entry = self._conns.pop(key, None)
        if entry is not None:
            entry[1].push_queue = None
            entry[1].close()

    async def _main(self) -> AsyncConnection:
        entry = self._conns.get(_MAIN)
        if entry is not None and entry[1].is_connected:
            return entry[1]
        await self.client.initialize()
        conn = await self._open(_MAIN, self.client.topology.get_default_node())
        commands: list[tuple[Any, ...]] = []
        if self.channels:
            commands.append((b"SUBSCRIBE", *self.channels))
        if self.patterns:
            commands.append((b"PSUBSCRIBE", *self.patterns))
        if commands:
            conn.send_raw(pack_commands(commands))
        self._main_lost = False
        return conn

    async def _lost(self, key: str) -> None:
        entry = self._conns.get(key)
        if entry is not None:
            self.client.topology.mark_failed(entry[0])
        self._drop(key)
        if key == _MAIN:
            self._main_lost = True
        else:
            for channel, owner in self._owner.items():
                if owner == key:
                    self._owner[channel] = ""
        self._retry_at = 0.0
        await self.client._refresh_after(NOW)

    async def _reroute(self) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            return
        self._retry_at = now + REROUTE_INTERVAL
        try:
            if self._main_lost and (self.channels or self.patterns):
                await self._main()
            await self._route_shards([c for c, owner in self._owner.items() if not owner])
        except (ConnectionError, TimeoutError):  # the default node is down: next pass
            self.client.topology.mark_failed(self.client.topology.get_default_node())
            await self.client._refresh_after(NOW)

    async def _route_shards(self, channels: list[bytes]) -> None:
        if not channels:
            return
        await self.client.initialize()
        groups: dict[str, tuple[ClusterNode, list[bytes]]] = {}
        for channel in channels:
            node = self.client.topology.primary_for(key_slot(channel))
            if node is None:
                self._owner[channel] = ""
                continue
            groups.setdefault(node.name, (node, []))[1].append(channel)
        for name, (node, names) in groups.items():
            try:
                conn = await self._open(name, node)
                conn.send_raw(per_slot(b"SSUBSCRIBE", names))
            except (ConnectionError, TimeoutError):
                await self._lost(name)
                for channel in names:
                    self._owner[channel] = ""
                continue
            for channel in names:
                self._owner[channel] = name

    # -- subscribe / unsubscribe ---------------------------------------------------------

    def _table(
        self, args: tuple[Any, ...], kwargs: dict[str, Handler]
    ) -> dict[bytes, Handler | None]:
        new: dict[bytes, Handler | None] = {self._key(a): None for a in args}
        new.update({self._key(k): v for k, v in kwargs.items()})
        if not new:
            raise RedisError("subscribing needs at least one channel")
        return new

    async def subscribe(self, *args: Any, **kwargs: Handler) -> None:
        new = self._table(args, kwargs)
        conn = await self._main()
        self.channels.update(new)
        conn.send_raw(pack_commands([(b"SUBSCRIBE", *new)]))

    async def psubscribe(self, *args: Any, **kwargs: Handler) -> None:
        new = self._table(args, kwargs)
        conn = await self._main()
        self.patterns.update(new)
        conn.send_raw(pack_commands([(b"PSUBSCRIBE", *new)]))

    async def ssubscribe(self, *args: Any, **kwargs: Handler) -> None:
        new = self._table(args, kwargs)
        self.shard_channels.update(new)
        await self._route_shards(list(new))

    async def _unsubscribe(
        self, command: bytes, table: dict[bytes, Handler | None], args: Any
    ) -> None:
        names = [self._key(a) for a in args]
        for name in names or list(table):
            table.pop(name, None)
        entry = self._conns.get(_MAIN)
        if entry is not None and entry[1].is_connected:
            entry[1].send_raw(pack_commands([(command, *names)]))

    async def unsubscribe(self, *args: Any) -> None:
        await self._unsubscribe(b"UNSUBSCRIBE", self.channels, args)

    async def punsubscribe(self, *args: Any) -> None:
        await self._unsubscribe(b"PUNSUBSCRIBE", self.patterns, args)

    async def sunsubscribe(self, *args: Any) -> None:
        names = [self._key(a) for a in args] or list(self.shard_channels)
        by_node: dict[str, list[bytes]] = {}
        for name in names:
            self.shard_channels.pop(name, None)
            owner = self._owner.pop(name, "")
            if owner:
                by_node.setdefault(owner, []).append(name)
        for owner, channels in by_node.items():
            entry = self._conns.get(owner)
            if entry is not None and entry[1].is_connected:
                entry[1].send_raw(per_slot(b"SUNSUBSCRIBE", channels))

    # -- receiving -------------------------------------------------------------------------

    async def get_message(
        self, ignore_subscribe_messages: bool = False, timeout: float | None = 0.0
    ) -> dict[str, Any] | None:
        """The next message from any node, or None after ``timeout`` s (None: forever)."""
        ignore = ignore_subscribe_messages or self.ignore_subscribe_messages
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            await self._reroute()
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            wait = remaining
            if self._main_lost or any(not owner for owner in self._owner.values()):
                wait = REROUTE_INTERVAL if wait is None else min(wait, REROUTE_INTERVAL)
            try:
                if wait == 0.0:
                    key, conn, reply = self._queue.get_nowait()
                else:
                    key, conn, reply = await asyncio.wait_for(self._queue.get(), wait)
            except (asyncio.QueueEmpty, asyncio.TimeoutError):
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            entry = self._conns.get(key)
            if entry is None or entry[1] is not conn:
                continue  # from a connection dropped meanwhile
            message = await self._handle(key, reply, ignore)
            if message is not None:
                return message

    async def _handle(self, key: str, reply: Any, ignore: bool) -> dict[str, Any] | None:
        if isinstance(reply, ConnectionError):
            await self._lost(key)
            return None
        if isinstance(reply, ResponseError):
            if key != _MAIN and isinstance(
                reply, MovedError
            ):  # MOVED to an SSUBSCRIBE: route those channels again
                for channel, owner in self._owner.items():
                    if owner == key:
                        self._owner[channel] = ""
                await self.client._refresh_after(NOW)
            return None
        message = to_message(reply)
        if message is None:
            return None
        kind = message["type"]
        if kind == "sunsubscribe":
            channel = self._key(message["channel"])
            if channel in self.shard_channels:  # not asked for: the slot moved away
                self._owner[channel] = ""
                await self.client._refresh_after(NOW)
                return None
        if kind in _KINDS:
            return None if ignore else message
        handler = self._handler_for(message)
        if handler is None:
            return message
        result = handler(message)
        if inspect.isawaitable(result):
            await result
        return None

    def _handler_for(self, message: dict[str, Any]) -> Handler | None:
        kind = message["type"]
        if kind == "pmessage":
            return self.patterns.get(self._key(message["pattern"]))
        if kind == "message":
            return self.channels.get(self._key(message["channel"]))
        if kind == "smessage":
            return self.shard_channels.get(self._key(message["channel"]))
        return None

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        while self.subscribed:
            message = await self.get_message(timeout=1.0)
            if message is not None:
                yield message

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self.listen()
