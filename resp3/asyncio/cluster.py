"""``resp3.asyncio.RedisCluster``: the asyncio client's commands across a Redis Cluster.

The same routing, slot map, redirection and retry decisions as ``resp3.RedisCluster``
(the sans-I/O modules of ``resp3.cluster``); only the I/O differs. Each node has one
shared multiplexed connection (:mod:`.cluster_node`), so every task's commands for a
node issued during one loop iteration leave in one write: automatic pipelining per
node. Blocking commands borrow a dedicated connection of the node's pool.

Nothing is connected in ``__init__``; the slot map is read on the first command, or by
``await rc.initialize()`` / ``async with RedisCluster(...) as rc``. After MOVED the slot
is patched at once and the whole map re-read by a background task (at most one at a
time, at most one every ``MIN_REFRESH_INTERVAL`` seconds); a node that stops answering
makes the next command re-read it at once from any reachable node.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._reader import encode_command
from ..cluster.attempt import BACKGROUND, NOW, REDIRECTS, Attempt
from ..cluster.base import ClusterBase
from ..cluster.batch import Batch, Group, Item
from ..cluster.errors import ClusterError, SlotNotCoveredError
from ..cluster.keyspecs import command_name
from ..cluster.nodes import ClusterNode
from ..cluster.routing import (
    DEFAULT_NODE,
    GETKEYS_NEEDED,
    LOOKUP,
    SPLIT,
    NodeRoute,
    slot_of_keys,
    split,
)
from ..cluster.slots import ShardInfo, parse_shards, parse_slots
from ..commands._base import BLOCKING, READONLY, Command
from ..config import FromURL
from ..errors import (
    AuthenticationError,
    ConnectionError,
    ResponseError,
    TimeoutError,
)
from ._iterators import ScanIterators
from .client import _timeout
from .cluster_node import NodeConnections
from .connection import NotSentError

if TYPE_CHECKING:
    from .cluster_pipeline import ClusterPipeline
    from .cluster_pubsub import ClusterPubSub

__all__ = ["RedisCluster"]

_ASKING = encode_command(b"ASKING")
_SHARDS = encode_command(b"CLUSTER", b"SHARDS")
_SLOTS = encode_command(b"CLUSTER", b"SLOTS")


class RedisCluster(FromURL, ClusterBase, ScanIterators):
    """An asyncio Redis Cluster client; share one instance between all tasks of a loop.

    Same arguments as ``resp3.RedisCluster`` (see there).
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
        self._nodes: dict[str, NodeConnections] = {}
        self._refresh_lock: asyncio.Lock | None = None
        self._background: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._use_slots = False
        self._initialized = False
        self._init_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"<resp3.asyncio.RedisCluster {len(self.topology.nodes)} nodes>"

    async def initialize(self) -> RedisCluster:
        """Read the slot map now (otherwise the first command does). Tasks arriving
        meanwhile wait for that one read instead of each starting their own."""
        if self._initialized:
            return self
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:
            if not self._initialized:
                await self.refresh_topology()
        return self

    async def __aenter__(self) -> RedisCluster:
        return await self.initialize()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every node's connections. A background refresh is cancelled and awaited
        first (it could otherwise open a connection after this), and so are the
        connections of nodes that left the slot map, which close as they are cancelled."""
        task, self._background = self._background, None
        tasks = [task] if task is not None else []
        tasks += self._retiring
        for pending in tasks:
            pending.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        nodes, self._nodes = list(self._nodes.values()), {}
        for conns in nodes:
            await conns.aclose()

    close = aclose

    # -- nodes -----------------------------------------------------------------------------

    def node_connections(self, node: ClusterNode) -> NodeConnections:
        conns = self._nodes.get(node.name)
        if conns is None:
            config = self.config.replace(host=node.host, port=node.port)
            readonly = self.topology.read_from_replicas
            conns = self._nodes[node.name] = NodeConnections(config, readonly, self.max_connections)
        return conns

    # -- topology --------------------------------------------------------------------------

    async def refresh_topology(self, *, force: bool = True) -> None:
        """Re-read the slot map from the first node that answers; ClusterError if none."""
        if self._refresh_lock is None:
            self._refresh_lock = asyncio.Lock()
        async with self._refresh_lock:
            if not self._refresh_due(force):
                return
            errors: list[str] = []
            for node in self.topology.refresh_candidates():
                try:
                    shards = await self._read_topology(node)
                except AuthenticationError:
                    raise
                except (ConnectionError, TimeoutError, ResponseError) as exc:
                    self._unusable_map(node, exc, errors)
                    continue
                if not shards:
                    self._unusable_map(node, None, errors)
                    continue
                for gone in self.topology.apply(shards):
                    conns = self._nodes.pop(gone.name, None)
                    if conns is not None:
                        task = asyncio.get_running_loop().create_task(conns.retire())
                        self._retiring.add(task)
                        task.add_done_callback(self._retiring.discard)
                self._initialized = True
                return
        raise self._no_map(errors)

    async def _read_topology(self, node: ClusterNode) -> list[ShardInfo]:
        """CLUSTER SHARDS (SLOTS before 7.0) from one node; a node that accepts but never
        answers costs at most ``socket_timeout`` (5 s if unset) per step."""
        timeout = self.config.socket_timeout or 5.0
        try:
            async with _timeout(timeout):
                mux = await self.node_connections(node).connect()
        except asyncio.TimeoutError:
            raise TimeoutError(f"{node.name} did not answer within {timeout}s") from None
        self.protocol = mux.protocol
        if not self._use_slots:
            async with _timeout(timeout):
                reply = (await mux.execute_batch(_SHARDS, 1))[0]
            if not isinstance(reply, ResponseError):
                return parse_shards(reply, node.host)
            if "unknown" not in str(reply).lower():
                raise reply
            self._use_slots = True
        async with _timeout(timeout):
            reply = (await mux.execute_batch(_SLOTS, 1))[0]
        if isinstance(reply, ResponseError):
            raise reply
        return parse_slots(reply, node.host)

    async def _refresh_after(self, mode: int) -> None:
        if mode == NOW:
            try:
                await self.refresh_topology(force=False)
            except (ClusterError, asyncio.TimeoutError):
                pass  # nothing reachable yet: the caller's retry budget decides
        elif mode == BACKGROUND:
            task = self._background
            if task is None or task.done():
                loop = asyncio.get_running_loop()
                self._background = loop.create_task(self._refresh_quietly())

    async def _refresh_quietly(self) -> None:
        """The background refresh after MOVED: nobody awaits it, so it raises nothing
        (a failure leaves the patched map; the next error refreshes again)."""
        try:
            await self.refresh_topology(force=False)
        except Exception:  # best effort by design
            pass

    # -- the one hook every command goes through ---------------------------------------------

    async def _execute(self, cmd: Command[Any]) -> Any:
        if not self._initialized:
            await self.initialize()
        if self._target is not None:
            return await self._run_target(cmd, self._target, None)
        plan = self._router.plan(cmd.args)
        if type(plan) is int:
            return await self._run_slot(cmd, plan)
        if isinstance(plan, NodeRoute):
            return await self._run_target(cmd, plan.target, plan.aggregate)
        if plan is SPLIT:
            parts, merge = split(cmd)
            replies = await self._run_batch([Item(part, slot) for slot, part in parts])
            return self._decode(cmd, merge(replies))
        name = command_name(cmd.args)
        if plan is LOOKUP:
            info = await self._run_target(Command((b"COMMAND", b"INFO", name)), DEFAULT_NODE, None)
            self._router.learn(name, info)
            return await self._execute(cmd)
        assert plan is GETKEYS_NEEDED
        getkeys: Command[Any] = Command((b"COMMAND", b"GETKEYS", *cmd.args))
        keys = await self._run_target(getkeys, DEFAULT_NODE, None)
        if not keys:
            return await self._run_target(cmd, DEFAULT_NODE, None)
        return await self._run_slot(cmd, slot_of_keys(name, keys))

    async def _run_slot(self, cmd: Command[Any], slot: int) -> Any:
        """One command for one slot, on the node's shared connection, with redirections."""
        data = encode_command(*cmd.args)  # DataError here: nothing was sent
        topology = self.topology
        node = topology.node_for(slot, cmd.flags & READONLY)
        attempt: Attempt | None = None
        asking = False
        timeout = self.config.socket_timeout
        while True:
            error: BaseException
            written = False
            if node is None:
                error = SlotNotCoveredError(f"slot {slot} is not served by any known node")
            else:
                try:
                    return await self._send_one(node, cmd, data, asking, timeout)
                except REDIRECTS as exc:
                    error = exc
                except AuthenticationError:
                    raise
                except NotSentError as exc:
                    error = exc
                except (ConnectionError, TimeoutError) as exc:
                    error, written = exc, True
            if attempt is None:
                attempt = Attempt(slot, cmd.flags, self.policy)
            delay = attempt.retry(error, written, node, topology)
            await self._refresh_after(attempt.refresh)
            if delay:
                await asyncio.sleep(delay)
            node = attempt.node or topology.node_for(slot, cmd.flags & READONLY)
            asking = attempt.asking

    async def _send_one(
        self, node: ClusterNode, cmd: Command[Any], data: bytes, asking: bool, timeout: Any
    ) -> Any:
        conns = self._nodes.get(node.name) or self.node_connections(node)
        if cmd.flags & BLOCKING:
            return await self._send_dedicated(conns, cmd, data, asking)
        mux = conns.mux
        if mux is None or not mux.is_connected:
            mux = await conns.connect()
        if asking:
            fut: Awaitable[Any] = mux.execute_batch(_ASKING + data, 2)
        else:
            fut = mux.execute(data, cmd)
        if timeout is None:
            reply = await fut
        else:
            try:
                async with _timeout(timeout):
                    reply = await fut
            except asyncio.TimeoutError:
                raise TimeoutError(f"{cmd.name} timed out after {timeout}s") from None
        return self._decode(cmd, reply[1]) if asking else reply

    async def _send_dedicated(
        self, conns: NodeConnections, cmd: Command[Any], data: bytes, asking: bool
    ) -> Any:
        try:
            conn = await conns.pool.acquire()
        except AuthenticationError:
            raise
        except (ConnectionError, TimeoutError) as exc:
            raise NotSentError(str(exc)) from exc
        try:
            replies = await conn.execute_batch((_ASKING if asking else b"") + data, 1 + asking)
            self.protocol = conn.protocol
            return self._decode(cmd, replies[-1])
        finally:
            await conns.pool.release(conn)

    async def _run_target(self, cmd: Command[Any], target: Any, aggregate: Any) -> Any:
        items = self._target_items(cmd, target)
        return self._fold(cmd, target, aggregate, items, await self._run_batch(items))

    async def _run_batch(self, items: list[Item]) -> list[Any]:
        batch = Batch(items, self.topology, self.policy)
        while True:
            await self._send_groups(batch.groups(), batch)
            delay = batch.next_round()
            if delay is None:
                break
            await self._refresh_after(batch.refresh)
            batch.refresh = 0
            if delay:
                await asyncio.sleep(delay)
        if batch.fatal is not None:
            raise batch.fatal
        return batch.replies()

    async def _send_groups(self, groups: list[Group], batch: Batch) -> None:
        """Queue every node's group on its shared connection, then await the replies.

        No task per group: queueing is synchronous once a node's connection is open, so
        every group leaves in this loop iteration and the nodes work at the same time.
        """
        sent: list[tuple[Group, asyncio.Future[list[Any]], int]] = []
        for group in groups:
            try:
                conns = self._nodes.get(group.node.name) or self.node_connections(group.node)
                mux = conns.mux
                if mux is None or not mux.is_connected:
                    mux = await conns.connect()
                sent.append((group, mux.execute_batch(group.data, group.count), mux.protocol))
            except AuthenticationError:
                _abandon(sent)
                raise
            except (ConnectionError, TimeoutError) as exc:  # NotSentError: nothing written
                batch.fail(group, exc, False)
        try:
            await self._collect(sent, batch)
        except BaseException:  # cancelled: the replies still due are dropped on arrival
            _abandon(sent)
            raise

    async def _collect(
        self, sent: list[tuple[Group, asyncio.Future[list[Any]], int]], batch: Batch
    ) -> None:
        timeout = self.config.socket_timeout
        for group, fut, protocol in sent:
            try:
                if timeout is None:
                    replies = await fut
                else:
                    try:
                        async with _timeout(timeout):
                            replies = await fut
                    except asyncio.TimeoutError:
                        raise TimeoutError(f"pipeline timed out after {timeout}s") from None
            except NotSentError as exc:
                batch.fail(group, exc, False)
            except (ConnectionError, TimeoutError) as exc:
                batch.fail(group, exc, True)
            else:
                self.protocol = protocol
                batch.receive(group, replies)

    # -- redis-py entry points ------------------------------------------------------------

    def execute_command(
        self, *args: Any, target_nodes: Any = None, **options: Any
    ) -> Awaitable[Any]:
        """Send any command as is (see ``resp3.RedisCluster.execute_command``)."""
        cmd: Command[Any] = Command(args)
        if target_nodes is not None:
            return self.with_target(target_nodes)._execute(cmd)
        return self._execute(cmd)

    def pipeline(self, transaction: bool = False, shard_hint: Any = None) -> ClusterPipeline:
        from .cluster_pipeline import ClusterPipeline

        return ClusterPipeline(self, transaction=transaction)

    async def transaction(
        self,
        func: Callable[[ClusterPipeline], Awaitable[Any]],
        *watches: Any,
        shard_hint: Any = None,
        value_from_callable: bool = False,
        watch_delay: float | None = None,
    ) -> Any:
        """Run ``await func(pipe)`` under WATCH/MULTI/EXEC, retrying on WatchError."""
        from .pipeline import run_transaction

        return await run_transaction(
            lambda: self.pipeline(True), func, watches, value_from_callable, watch_delay
        )

    def pubsub(self, ignore_subscribe_messages: bool = False, **kwargs: Any) -> ClusterPubSub:
        from .cluster_pubsub import ClusterPubSub

        return ClusterPubSub(self, ignore_subscribe_messages=ignore_subscribe_messages)

    async def scan_iter(
        self, match: Any = None, count: int | None = None, _type: str | None = None
    ) -> AsyncIterator[Any]:
        """Every key of every primary (see ``resp3.RedisCluster.scan_iter``)."""
        await self.initialize()
        for node in self.get_primaries():
            view = self.with_target(node)
            cursor = 0
            while True:
                cursor, keys = await view.scan(cursor, match=match, count=count, _type=_type)
                for key in keys:
                    yield key
                if cursor == 0:
                    break


def _abandon(sent: list[tuple[Group, asyncio.Future[list[Any]], int]]) -> None:
    for _, fut, _ in sent:
        if not fut.done():
            fut.cancel()
