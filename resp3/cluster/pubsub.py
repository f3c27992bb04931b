"""Cluster pub/sub (sync): classic channels on one node, shard channels on their owners.

Classic ``SUBSCRIBE``/``PSUBSCRIBE`` messages are broadcast to every node of a cluster,
so they use one connection to one node (the default node). Shard channels
(``SSUBSCRIBE``, Redis 7) live in the slot of their name: each is subscribed on the
primary serving that slot, one connection per such node, and ``SPUBLISH`` (a client
command) is routed to the same place. ``get_message`` waits on all these connections at
once with ``select`` and returns redis-py's message dicts (``resp3.pubsub.to_message``).

What the cluster can do to a subscriber, and what happens then:

* a node's connection breaks (crash, failover, ``CLIENT KILL``): the node is marked
  failed, the slot map refreshed, and its channels are subscribed again on whichever
  node serves them now, retried every ``REROUTE_INTERVAL`` seconds until that works;
* a shard channel's slot moves (resharding): the server ends the subscription with a
  ``sunsubscribe`` the caller did not ask for (or answers SSUBSCRIBE with MOVED); the
  channel is subscribed again on the new owner and that message is not surfaced.

Messages published while a channel had no subscription are lost, as always with
Redis pub/sub.
"""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._reader import pack_commands
from .._subscriptions import Handler, Subscriptions, channel_key, to_message
from ..connection import Connection
from ..errors import ConnectionError, MovedError, ResponseError, TimeoutError
from ..types import INCOMPLETE
from .attempt import NOW
from .nodes import ClusterNode
from .slots import key_slot

if TYPE_CHECKING:
    from .client import RedisCluster

__all__ = ["REROUTE_INTERVAL", "ClusterPubSub", "ClusterSubscriptions", "channel_key", "per_slot"]

REROUTE_INTERVAL = 0.1
MAIN = ""  # the key of the connection to the default node (classic channels, patterns)


def per_slot(command: bytes, channels: list[bytes]) -> bytes:
    """One SSUBSCRIBE/SUNSUBSCRIBE per slot: the server refuses channels of several
    slots in one command (CROSSSLOT), even when one node serves them all."""
    by_slot: dict[int, list[bytes]] = {}
    for channel in channels:
        by_slot.setdefault(key_slot(channel), []).append(channel)
    return pack_commands([(command, *names) for names in by_slot.values()])


class ClusterSubscriptions(Subscriptions):
    """Which node serves each shard channel, and when to route the others again.

    ``_owner`` maps each shard channel to the name of the node it is subscribed on, ""
    while it is subscribed nowhere (unrouted: its node broke, its slot moved, or no
    node served its slot). ``_main_lost`` says the default node's connection broke
    with classic channels or patterns on it. Both are repaired by the shell's
    ``_reroute``, at most every ``REROUTE_INTERVAL`` seconds.
    """

    _owner: dict[bytes, str]
    _main_lost: bool
    _retry_at: float

    def _init_cluster_subscriptions(self, encoding: str) -> None:
        self._init_subscriptions(encoding)
        self._owner = {}  # shard channel -> node name, "" = unrouted
        self._main_lost = False
        self._retry_at = 0.0

    def _clear_cluster_subscriptions(self) -> None:
        self._clear_subscriptions()
        self._owner.clear()
        self._main_lost = False

    def _table(
        self, args: tuple[Any, ...], kwargs: dict[str, Handler]
    ) -> dict[bytes, Handler | None]:
        return self._new_names(args, kwargs, "subscribing")

    def _unroute(self, key: str) -> None:
        """Every shard channel subscribed on connection ``key`` is now unrouted."""
        for channel, owner in self._owner.items():
            if owner == key:
                self._owner[channel] = ""

    def _lost_key(self, key: str) -> None:
        """The bookkeeping half of a broken connection (the shell drops it)."""
        if key == MAIN:
            self._main_lost = True
        else:
            self._unroute(key)
        self._retry_at = 0.0

    def _reroute_due(self) -> bool:
        """True at most once per ``REROUTE_INTERVAL``: time to route again."""
        now = time.monotonic()
        if now < self._retry_at:
            return False
        self._retry_at = now + REROUTE_INTERVAL
        return True

    def _needs_reroute(self) -> bool:
        return self._main_lost or any(not owner for owner in self._owner.values())

    def _unrouted(self) -> list[bytes]:
        return [c for c, owner in self._owner.items() if not owner]

    def _group_by_primary(
        self, channels: list[bytes], topology: Any
    ) -> dict[str, tuple[ClusterNode, list[bytes]]]:
        """Shard channels per node serving their slot; those of unserved slots unrouted."""
        groups: dict[str, tuple[ClusterNode, list[bytes]]] = {}
        for channel in channels:
            node = topology.primary_for(key_slot(channel))
            if node is None:
                self._owner[channel] = ""
                continue
            groups.setdefault(node.name, (node, []))[1].append(channel)
        return groups

    def _set_owner(self, channels: list[bytes], name: str) -> None:
        for channel in channels:
            self._owner[channel] = name

    def _forget_shards(self, args: tuple[Any, ...]) -> dict[str, list[bytes]]:
        """Drop shard channels (all when ``args`` is empty); those to send, per node."""
        names = [self._key(a) for a in args] or list(self.shard_channels)
        by_node: dict[str, list[bytes]] = {}
        for name in names:
            self.shard_channels.pop(name, None)
            owner = self._owner.pop(name, "")
            if owner:
                by_node.setdefault(owner, []).append(name)
        return by_node

    def _moved(self, key: str, reply: Any, message: dict[str, Any] | None) -> bool:
        """True when shard channels must be routed again (the shell then refreshes the
        slot map): a MOVED answering SSUBSCRIBE on ``key`` (a stale map), or a
        ``sunsubscribe`` the caller did not ask for (the slot moved away)."""
        if isinstance(reply, MovedError):
            if key == MAIN:
                return False
            self._unroute(key)
            return True
        if message is None or message["type"] != "sunsubscribe":
            return False
        channel = self._key(message["channel"])
        if channel not in self.shard_channels:
            return False
        self._owner[channel] = ""
        return True


class ClusterPubSub(ClusterSubscriptions):
    """Subscriptions across a cluster. Not thread-safe; one reader at a time."""

    def __init__(
        self, client: RedisCluster, ignore_subscribe_messages: bool = False, **kwargs: Any
    ) -> None:
        self.client = client
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self._init_cluster_subscriptions(client.config.encoding)
        self._conns: dict[str, tuple[ClusterNode, Connection]] = {}

    def __enter__(self) -> ClusterPubSub:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        conns, self._conns = list(self._conns.items()), {}
        for _, (node, conn) in conns:
            conn.disconnect()
            self.client.get_connection_pool(node).release(conn)
        self._clear_cluster_subscriptions()

    reset = close

    # -- connections ---------------------------------------------------------------------

    def _open(self, key: str, node: ClusterNode) -> Connection:
        entry = self._conns.get(key)
        if entry is not None and entry[0] == node and entry[1].is_connected:
            return entry[1]
        if entry is not None:
            self._drop(key)
        conn = self.client.get_connection_pool(node).get_connection()
        self._conns[key] = (node, conn)
        return conn

    def _drop(self, key: str) -> None:
        entry = self._conns.pop(key, None)
        if entry is not None:
            node, conn = entry
            conn.disconnect()
            self.client.get_connection_pool(node).release(conn)

    def _main(self) -> Connection:
        entry = self._conns.get(MAIN)
        if entry is not None and entry[1].is_connected:
            return entry[1]
        node = self.client.topology.get_default_node()
        conn = self._open(MAIN, node)
        commands = self._resubscribe_commands(shards=False)
        if commands:
            conn.send(pack_commands(commands))
        self._main_lost = False
        return conn

    def _lost(self, key: str, error: BaseException) -> None:
        """A connection broke: forget it and schedule its subscriptions elsewhere."""
        entry = self._conns.get(key)
        if entry is not None:
            self.client.topology.mark_failed(entry[0])
        self._drop(key)
        self._lost_key(key)
        self.client._refresh_after(NOW)

    def _reroute(self) -> None:
        """Subscribe unrouted shard channels (and lost classic ones) where they live now."""
        if not self._reroute_due():
            return
        try:
            if self._main_lost and (self.channels or self.patterns):
                self._main()
            self._route_shards(self._unrouted())
        except (ConnectionError, TimeoutError):  # the default node is down: next pass
            self.client.topology.mark_failed(self.client.topology.get_default_node())
            self.client._refresh_after(NOW)

    def _route_shards(self, channels: list[bytes]) -> None:
        groups = self._group_by_primary(channels, self.client.topology)
        for name, (node, names) in groups.items():
            try:
                conn = self._open(name, node)
                conn.send(per_slot(b"SSUBSCRIBE", names))
            except (ConnectionError, TimeoutError) as exc:
                self._lost(name, exc)
                self._set_owner(names, "")
                continue
            self._set_owner(names, name)

    # -- subscribe / unsubscribe ---------------------------------------------------------

    def subscribe(self, *args: Any, **kwargs: Handler) -> None:
        """Subscribe to channels; ``name=handler`` keywords attach a handler."""
        new = self._table(args, kwargs)
        conn = self._main()
        self.channels.update(new)
        conn.send(pack_commands([(b"SUBSCRIBE", *new)]))

    def psubscribe(self, *args: Any, **kwargs: Handler) -> None:
        new = self._table(args, kwargs)
        conn = self._main()
        self.patterns.update(new)
        conn.send(pack_commands([(b"PSUBSCRIBE", *new)]))

    def ssubscribe(self, *args: Any, **kwargs: Handler) -> None:
        """Subscribe to shard channels, each on the node that serves its slot."""
        new = self._table(args, kwargs)
        self.shard_channels.update(new)
        self._route_shards(list(new))

    def _unsubscribe(self, command: bytes, table: dict[bytes, Handler | None], args: Any) -> None:
        names = self._forget(table, args)
        entry = self._conns.get(MAIN)
        if entry is not None and entry[1].is_connected:
            entry[1].send(pack_commands([(command, *names)]))

    def unsubscribe(self, *args: Any) -> None:
        self._unsubscribe(b"UNSUBSCRIBE", self.channels, args)

    def punsubscribe(self, *args: Any) -> None:
        self._unsubscribe(b"PUNSUBSCRIBE", self.patterns, args)

    def sunsubscribe(self, *args: Any) -> None:
        for owner, channels in self._forget_shards(args).items():
            entry = self._conns.get(owner)
            if entry is not None and entry[1].is_connected:
                entry[1].send(per_slot(b"SUNSUBSCRIBE", channels))

    # -- receiving -------------------------------------------------------------------------

    def get_message(
        self, ignore_subscribe_messages: bool = False, timeout: float | None = 0.0
    ) -> dict[str, Any] | None:
        """The next message from any node, or None after ``timeout`` s (None: forever)."""
        ignore = ignore_subscribe_messages or self.ignore_subscribe_messages
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._reroute()
            for key in list(self._conns):
                message = self._drain(key, ignore)
                if message is not None:
                    return message
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            conns = [conn for _, conn in self._conns.values() if conn.is_connected]
            wait = REROUTE_INTERVAL if self._needs_reroute() or not conns else None
            if remaining is not None:
                wait = remaining if wait is None else min(wait, remaining)
            if conns:
                select.select(conns, [], [], wait)
            elif wait is not None:
                time.sleep(wait)
            else:
                return None  # nothing subscribed and nothing to wait for

    def _drain(self, key: str, ignore: bool) -> dict[str, Any] | None:
        """Messages already readable on one connection, until one is for the caller."""
        while True:
            entry = self._conns.get(key)
            if entry is None:
                return None
            try:
                reply = entry[1].read_push_or_reply(0.0)
            except (ConnectionError, TimeoutError) as exc:
                self._lost(key, exc)
                return None
            if reply is INCOMPLETE:
                return None
            message = self._handle(key, reply, ignore)
            if message is not None:
                return message

    def _handle(self, key: str, reply: Any, ignore: bool) -> dict[str, Any] | None:
        message = None if isinstance(reply, ResponseError) else to_message(reply)
        if self._moved(key, reply, message):
            self.client._refresh_after(NOW)
            return None
        if message is None:
            return None
        handler = self._handler(message, ignore)
        if handler is None:
            return message
        handler(message)
        return None

    def listen(self) -> Iterator[dict[str, Any]]:
        """Yield messages until every subscription is gone."""
        while self.subscribed:
            message = self.get_message(timeout=1.0)
            if message is not None:
                yield message

    def run_in_thread(self, sleep_time: float = 0.0, daemon: bool = False) -> ClusterWorker:
        """Dispatch handler-bound subscriptions on a thread; ``.stop()`` it."""
        self._require_handlers("run_in_thread needs one")
        worker = ClusterWorker(self, sleep_time or 0.1, daemon)
        worker.start()
        return worker


class ClusterWorker(threading.Thread):
    """Calls ``get_message`` in a loop, so handlers run; ``stop()`` ends it."""

    def __init__(self, pubsub: ClusterPubSub, timeout: float, daemon: bool) -> None:
        super().__init__(daemon=daemon)
        self.pubsub = pubsub
        self.timeout = timeout
        self._running = threading.Event()

    def run(self) -> None:
        self._running.set()
        while self._running.is_set():
            self.pubsub.get_message(ignore_subscribe_messages=True, timeout=self.timeout)
        self.pubsub.close()

    def stop(self) -> None:
        self._running.clear()
        if self.is_alive() and threading.current_thread() is not self:
            self.join()
