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
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .._reader import pack_commands
from .._subscriptions import Handler, to_message
from ..cluster.attempt import NOW
from ..cluster.nodes import ClusterNode
from ..cluster.pubsub import MAIN, REROUTE_INTERVAL, ClusterSubscriptions, per_slot
from ..errors import ConnectionError, ResponseError, TimeoutError
from .connection import AsyncConnection

if TYPE_CHECKING:
    from .cluster import RedisCluster

__all__ = ["ClusterPubSub"]


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


class ClusterPubSub(ClusterSubscriptions):
    """``async with rc.pubsub() as p: await p.ssubscribe("ch"); async for m in p.listen()``"""

    def __init__(self, client: RedisCluster, ignore_subscribe_messages: bool = False) -> None:
        self.client = client
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self._init_cluster_subscriptions(client.config.encoding)
        self._conns: dict[str, tuple[ClusterNode, AsyncConnection]] = {}
        self._queue: asyncio.Queue[tuple[str, Any, Any]] = asyncio.Queue()

    async def __aenter__(self) -> ClusterPubSub:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        conns, self._conns = list(self._conns.values()), {}
        for _, conn in conns:
            conn.close()
        self._clear_cluster_subscriptions()

    reset = close = aclose

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
        entry = self._conns.get(MAIN)
        if entry is not None and entry[1].is_connected:
            return entry[1]
        await self.client.initialize()
        conn = await self._open(MAIN, self.client.topology.get_default_node())
        commands = self._resubscribe_commands(shards=False)
        if commands:
            conn.send_raw(pack_commands(commands))
        self._main_lost = False
        return conn

    async def _lost(self, key: str) -> None:
        entry = self._conns.get(key)
        if entry is not None:
            self.client.topology.mark_failed(entry[0])
        self._drop(key)
        self._lost_key(key)
        await self.client._refresh_after(NOW)

    async def _reroute(self) -> None:
        if not self._reroute_due():
            return
        try:
            if self._main_lost and (self.channels or self.patterns):
                await self._main()
            await self._route_shards(self._unrouted())
        except (ConnectionError, TimeoutError):  # the default node is down: next pass
            self.client.topology.mark_failed(self.client.topology.get_default_node())
            await self.client._refresh_after(NOW)

    async def _route_shards(self, channels: list[bytes]) -> None:
        if not channels:
            return
        await self.client.initialize()
        groups = self._group_by_primary(channels, self.client.topology)
        for name, (node, names) in groups.items():
            try:
                conn = await self._open(name, node)
                conn.send_raw(per_slot(b"SSUBSCRIBE", names))
            except (ConnectionError, TimeoutError):
                await self._lost(name)
                self._set_owner(names, "")
                continue
            self._set_owner(names, name)

    # -- subscribe / unsubscribe ---------------------------------------------------------

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
        names = self._forget(table, args)
        entry = self._conns.get(MAIN)
        if entry is not None and entry[1].is_connected:
            entry[1].send_raw(pack_commands([(command, *names)]))

    async def unsubscribe(self, *args: Any) -> None:
        await self._unsubscribe(b"UNSUBSCRIBE", self.channels, args)

    async def punsubscribe(self, *args: Any) -> None:
        await self._unsubscribe(b"PUNSUBSCRIBE", self.patterns, args)

    async def sunsubscribe(self, *args: Any) -> None:
        for owner, channels in self._forget_shards(args).items():
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
            if self._needs_reroute():
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
        message = None if isinstance(reply, ResponseError) else to_message(reply)
        if self._moved(key, reply, message):
            await self.client._refresh_after(NOW)
            return None
        if message is None:
            return None
        handler = self._handler(message, ignore)
        if handler is None:
            return message
        result = handler(message)
        if inspect.isawaitable(result):
            await result
        return None

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        while self.subscribed:
            message = await self.get_message(timeout=1.0)
            if message is not None:
                yield message

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self.listen()
