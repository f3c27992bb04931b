"""``resp3.RedisCluster``: the sync client's commands, routed across a Redis Cluster.

Every command method comes from the shared mixins (``CoreCommands``); this class only
implements ``_execute``: ask the :class:`~.routing.Router` where the command goes, then

* one slot: send it to the node serving the slot, from that node's own
  ``ConnectionPool``, following redirections through an :class:`~.attempt.Attempt`;
* split (MGET, MSET, DEL, EXISTS, UNLINK, TOUCH across slots): one command per slot,
  grouped per node and sent as one pipeline per node (:mod:`.batch`), the replies put
  back in the caller's order;
* keyless: the default target of the command (or the one chosen with ``with_target``
  / ``execute_command(..., target_nodes=...)``), replies folded as redis-py does.

Topology: the slot map is read at construction from the first startup node that
answers (CLUSTER SHARDS, or CLUSTER SLOTS on servers before 7.0), patched on MOVED
(plus one refresh on a background thread, at most one every ``MIN_REFRESH_INTERVAL``
seconds), and re-read at once from any reachable node when a node stops answering.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .._reader import encode_command
from ..client import Redis
from ..commands import CoreCommands
from ..commands._base import READONLY, Command, Executor
from ..commands.iterators import hscan_iter, sscan_iter, zscan_iter
from ..config import FromURL
from ..connection import Connection
from ..errors import (
    AuthenticationError,
    ConnectionError,
    ResponseError,
    TimeoutError,
)
from ..pool import ConnectionPool, PoolExhaustedError
from .attempt import BACKGROUND, NOW, REDIRECTS, Attempt
from .base import MIN_REFRESH_INTERVAL, ClusterBase
from .batch import Batch, Group, Item
from .errors import ClusterError, SlotNotCoveredError
from .keyspecs import command_name
from .nodes import ClusterNode
from .pools import NodePool, ReadOnlyConnection
from .routing import (
    DEFAULT_NODE,
    GETKEYS_NEEDED,
    LOOKUP,
    SPLIT,
    NodeRoute,
    slot_of_keys,
    split,
)
from .slots import ShardInfo, parse_shards, parse_slots

if TYPE_CHECKING:
    from .pipeline import ClusterPipeline
    from .pubsub import ClusterPubSub

__all__ = ["MIN_REFRESH_INTERVAL", "RedisCluster"]

_ASKING = encode_command(b"ASKING")
_SHARDS = encode_command(b"CLUSTER", b"SHARDS")
_SLOTS = encode_command(b"CLUSTER", b"SLOTS")


class _ClientClosed(Exception):
    """Raised to the background refresh when it would open a pool after ``close``."""


class RedisCluster(FromURL, ClusterBase, CoreCommands, Executor):
    """A Redis Cluster client. Thread-safe; one connection pool per node.

    ``RedisCluster(host, port)`` or ``RedisCluster(startup_nodes=[ClusterNode(h, p)])``.
    Any other keyword (``password``, ``protocol``, ``decode_responses``,
    ``socket_timeout``, ``retry``...) is a :class:`~resp3.config.ConnectionConfig` field
    applied to every node. ``read_from_replicas=True`` spreads READONLY commands over
    each shard's primary and replicas, round robin (reads may then be stale).
    ``cluster_retry_timeout`` bounds how long one command keeps retrying through
    TRYAGAIN, CLUSTERDOWN and unreachable nodes (a failover) before its error surfaces.
    """

    def __init__(
        self,
        host: str | None = None,
        port: int = 6379,
        startup_nodes: Sequence[ClusterNode] | None = None,
        *,
        read_from_replicas: bool = False,
        cluster_retry_timeout: float = 10.0,
        max_redirects: int = 16,
        max_connections: int | None = None,
        **connection_options: Any,
    ) -> None:
        self._setup(
            host,
            port,
            startup_nodes,
            read_from_replicas,
            cluster_retry_timeout,
            max_redirects,
            max_connections,
            connection_options,
        )
        self._pools: dict[str, NodePool] = {}
        self._closed = False  # set by close(), cleared by the next pool a command opens
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._background: threading.Thread | None = None
        self._use_slots = False
        self.refresh_topology()

    def __repr__(self) -> str:
        return f"<resp3.RedisCluster {len(self.topology.nodes)} nodes>"

    def __enter__(self) -> RedisCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every node's connections (shared with ``with_target`` views).

        A command sent afterwards opens new pools, as in redis-py. A slot-map refresh
        still running on its background thread (after a MOVED) does not: a pool opened
        there after ``close`` would belong to nobody and its sockets would only be
        closed by the garbage collector. A connection that another thread still holds
        is closed when it is released.
        """
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            self._closed = True
        for pool in pools:
            pool.retired = True
            pool.disconnect()

    # -- nodes -----------------------------------------------------------------------------

    def get_connection_pool(self, node: ClusterNode) -> ConnectionPool:
        """The pool of one node, created on first use."""
        return self._node_pool(node, reopen=True)

    def _node_pool(self, node: ClusterNode, reopen: bool) -> NodePool:
        """The pool of ``node``; ``reopen=False`` (background work) refuses to create
        one once the client is closed (``_ClientClosed``)."""
        pool = self._pools.get(node.name)
        if pool is None:
            with self._lock:
                pool = self._pools.get(node.name)
                if pool is None:
                    if self._closed and not reopen:
                        raise _ClientClosed(f"client closed: no new pool for {node.name}")
                    self._closed = False
                    pool = NodePool(
                        ReadOnlyConnection if self.topology.read_from_replicas else Connection,
                        max_connections=self.max_connections,
                        config=self.config.replace(host=node.host, port=node.port),
                    )
                    self._pools[node.name] = pool
        return pool

    def get_redis_connection(self, node: ClusterNode) -> Redis:
        """A plain ``resp3.Redis`` over one node's pool (no routing, no redirections)."""
        return Redis(connection_pool=self.get_connection_pool(node))

    # -- topology --------------------------------------------------------------------------

    def refresh_topology(self, *, force: bool = True) -> None:
        """Re-read the slot map from the first node that answers (rate limited unless
        ``force``). ClusterError if no known or startup node answers."""
        self._refresh(force, reopen=True)

    def _refresh(self, force: bool, reopen: bool) -> None:
        with self._refresh_lock:
            if not self._refresh_due(force):
                return
            errors: list[str] = []
            for node in self.topology.refresh_candidates():
                try:
                    shards = self._read_topology(node, reopen)
                except (AuthenticationError, PoolExhaustedError):  # not the node's fault
                    raise
                except (ConnectionError, TimeoutError, ResponseError) as exc:
                    self._unusable_map(node, exc, errors)
                    continue
                if not shards:
                    self._unusable_map(node, None, errors)
                    continue
                self._drop_pools(self.topology.apply(shards))
                return
        raise self._no_map(errors)

    def _read_topology(self, node: ClusterNode, reopen: bool) -> list[ShardInfo]:
        pool = self._node_pool(node, reopen)
        conn = pool.get_connection()
        try:
            self.protocol = conn.protocol
            if not self._use_slots:
                conn.send(_SHARDS)
                reply = conn.read_reply()
                if not isinstance(reply, ResponseError):
                    return parse_shards(reply, node.host)
                if "unknown" not in str(reply).lower():
                    raise reply
                self._use_slots = True  # Redis < 7.0
            conn.send(_SLOTS)
            reply = conn.read_reply()
            if isinstance(reply, ResponseError):
                raise reply
            return parse_slots(reply, node.host)
        finally:
            pool.release(conn)

    def _drop_pools(self, nodes: list[ClusterNode]) -> None:
        for node in nodes:
            with self._lock:
                pool = self._pools.pop(node.name, None)
            if pool is not None:
                pool.retired = True  # commands still running there finish normally
                pool.disconnect(inuse_connections=False)

    def _refresh_after(self, mode: int) -> None:
        if mode == NOW:
            try:
                self.refresh_topology(force=False)
            except ClusterError:
                pass  # every node unreachable for now: the caller's retry budget decides
        elif mode == BACKGROUND:
            self._refresh_in_background()

    def _refresh_quietly(self) -> None:
        """The background refresh after MOVED: nobody waits for it, so it raises nothing
        (a failure leaves the patched map; the next error refreshes again). It stops
        when the client is closed meanwhile (``_ClientClosed``)."""
        try:
            self._refresh(False, reopen=False)
        except Exception:  # best effort by design
            pass

    def _refresh_in_background(self) -> None:
        """After MOVED: re-read the whole map on a thread, at most one at a time."""
        thread = self._background
        if thread is not None and thread.is_alive():
            return
        if time.monotonic() - self.topology.refreshed_at < MIN_REFRESH_INTERVAL:
            return
        thread = threading.Thread(target=self._refresh_quietly, daemon=True)
        self._background = thread
        thread.start()

    # -- the one hook every command goes through ---------------------------------------------

    def _execute(self, cmd: Command[Any]) -> Any:
        if self._target is not None:
            return self._run_target(cmd, self._target, None)
        plan = self._router.plan(cmd.args)
        if type(plan) is int:
            return self._run_slot(cmd, plan)
        return self._run_plan(cmd, plan)

    def _run_plan(self, cmd: Command[Any], plan: Any) -> Any:
        if isinstance(plan, NodeRoute):
            return self._run_target(cmd, plan.target, plan.aggregate)
        if plan is SPLIT:
            parts, merge = split(cmd)
            replies = self._run_batch([Item(part, slot) for slot, part in parts])
            return self._decode(cmd, merge(replies))
        if plan is LOOKUP:
            name = command_name(cmd.args)
            info = self._run_target(Command((b"COMMAND", b"INFO", name)), DEFAULT_NODE, None)
            self._router.learn(name, info)
            return self._execute(cmd)
        if plan is GETKEYS_NEEDED:
            keys = self._run_target(
                Command((b"COMMAND", b"GETKEYS", *cmd.args)), DEFAULT_NODE, None
            )
            if not keys:
                return self._run_target(cmd, DEFAULT_NODE, None)
            return self._run_slot(cmd, slot_of_keys(command_name(cmd.args), keys))
        raise ClusterError(f"cannot route {cmd!r}")  # pragma: no cover - exhaustive above

    def _run_slot(self, cmd: Command[Any], slot: int) -> Any:
        """One command for one slot: the hot path, with the redirection loop."""
        data = encode_command(*cmd.args)  # DataError here: nothing was sent
        topology = self.topology
        node = topology.node_for(slot, cmd.flags & READONLY)
        attempt: Attempt | None = None
        asking = False
        while True:
            error: BaseException
            written = False
            if node is None:
                error = SlotNotCoveredError(f"slot {slot} is not served by any known node")
            else:
                pool = self._pools.get(node.name) or self.get_connection_pool(node)
                try:
                    conn = pool.get_connection()
                except (AuthenticationError, PoolExhaustedError):  # not the node's fault
                    raise
                except (ConnectionError, TimeoutError) as exc:
                    error = exc
                else:
                    try:
                        if asking:
                            conn.send(_ASKING + data)
                            conn.read_reply()
                        else:
                            conn.send(data)
                        reply = conn.read_reply()
                    except (ConnectionError, TimeoutError) as exc:
                        pool.release(conn)
                        error, written = exc, True
                    except BaseException:
                        pool.release(conn)
                        raise
                    else:
                        pool.release(conn)
                        if not isinstance(reply, ResponseError):
                            decode = (
                                cmd.decode if conn.protocol == 3 else (cmd.decode2 or cmd.decode)
                            )
                            return decode(reply) if decode is not None else reply
                        if not isinstance(reply, REDIRECTS):
                            raise reply
                        error = reply
            if attempt is None:
                attempt = Attempt(slot, cmd.flags, self.policy)
            delay = attempt.retry(error, written, node, topology)
            self._refresh_after(attempt.refresh)
            if delay:
                time.sleep(delay)
            node = attempt.node or topology.node_for(slot, cmd.flags & READONLY)
            asking = attempt.asking

    def _run_target(self, cmd: Command[Any], target: Any, aggregate: Any) -> Any:
        """A command for explicit nodes; one value, a fold, or ``{name: value}``."""
        items = self._target_items(cmd, target)
        return self._fold(cmd, target, aggregate, items, self._run_batch(items))

    def _run_batch(self, items: list[Item]) -> list[Any]:
        """Send items grouped per node, round after round, until all have replies."""
        batch = Batch(items, self.topology, self.policy)
        while True:
            self._send_groups(batch.groups(), batch)
            delay = batch.next_round()
            if delay is None:
                break
            self._refresh_after(batch.refresh)
            batch.refresh = 0
            if delay:
                time.sleep(delay)
        if batch.fatal is not None:
            raise batch.fatal
        return batch.replies()

    def _send_groups(self, groups: list[Group], batch: Batch) -> None:
        """Write every node's group first, then read them: the nodes work in parallel."""
        sent: list[tuple[Group, ConnectionPool, Connection]] = []
        try:
            for group in groups:
                pool = self.get_connection_pool(group.node)
                try:
                    conn = pool.get_connection()
                except (AuthenticationError, PoolExhaustedError):  # not the node's fault
                    raise
                except (ConnectionError, TimeoutError) as exc:
                    batch.fail(group, exc, False)
                    continue
                try:
                    conn.send(group.data)
                except (ConnectionError, TimeoutError) as exc:
                    pool.release(conn)
                    batch.fail(group, exc, True)
                    continue
                sent.append((group, pool, conn))
            while sent:
                group, pool, conn = sent[0]
                try:
                    replies = [conn.read_reply() for _ in range(group.count)]
                except (ConnectionError, TimeoutError) as exc:
                    batch.fail(group, exc, True)
                else:
                    self.protocol = conn.protocol
                    batch.receive(group, replies)
                finally:
                    sent.pop(0)
                    pool.release(conn)
        finally:
            for _, pool, conn in sent:  # interrupted: their replies were never read
                conn.disconnect()
                pool.release(conn)

    # -- redis-py entry points ------------------------------------------------------------

    def execute_command(self, *args: Any, target_nodes: Any = None, **options: Any) -> Any:
        """Send any command as is; the reply is returned undecoded (errors raised).

        Routed by its keys (COMMAND INFO is asked once for a command the table lacks),
        or sent to ``target_nodes``. Not re-sent after a broken connection.
        """
        cmd: Command[Any] = Command(args)
        if target_nodes is not None:
            return self._run_target(cmd, target_nodes, None)
        return self._execute(cmd)

    def pipeline(self, transaction: bool = False, shard_hint: Any = None) -> ClusterPipeline:
        """Commands grouped per node, sent in parallel; ``transaction=True`` needs one slot."""
        from .pipeline import ClusterPipeline

        return ClusterPipeline(self, transaction=transaction)

    def transaction(
        self,
        func: Callable[[ClusterPipeline], Any],
        *watches: Any,
        shard_hint: Any = None,
        value_from_callable: bool = False,
        watch_delay: float | None = None,
    ) -> Any:
        """Run ``func(pipe)`` under WATCH/MULTI/EXEC (keys of one slot), retrying while
        a watched key changes or the slot moves."""
        from ..pipeline import run_transaction

        return run_transaction(
            lambda: self.pipeline(True), func, watches, value_from_callable, watch_delay
        )

    def pubsub(self, ignore_subscribe_messages: bool = False, **kwargs: Any) -> ClusterPubSub:
        from .pubsub import ClusterPubSub

        return ClusterPubSub(self, ignore_subscribe_messages=ignore_subscribe_messages, **kwargs)

    def scan_iter(
        self, match: Any = None, count: int | None = None, _type: str | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Every key of every primary (SCAN on each in turn). As with SCAN, a key that
        moves to another node meanwhile may be seen twice or not at all."""
        for node in self.get_primaries():
            view = self.with_target(node)
            cursor = 0
            while True:
                cursor, keys = view.scan(cursor, match=match, count=count, _type=_type)
                yield from keys
                if cursor == 0:
                    break

    def hscan_iter(
        self, name: Any, match: Any = None, count: int | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        return hscan_iter(self, name, match=match, count=count, **kwargs)

    def sscan_iter(self, name: Any, match: Any = None, count: int | None = None) -> Iterator[Any]:
        return sscan_iter(self, name, match=match, count=count)

    def zscan_iter(
        self, name: Any, match: Any = None, count: int | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        return zscan_iter(self, name, match=match, count=count, **kwargs)
