"""asyncio cluster pipelines: the sync ``ClusterPipeline``'s rules, awaited.

Without a transaction, the commands are grouped per node and each group is written as
one block on that node's shared connection; the groups are awaited together
(``gather``) and the results come back in the caller's order, redirections followed
per command. A transaction goes to the one node serving all its keys as one
MULTI...EXEC block on the shared connection (a block is contiguous there, so no other
task's command lands inside it) and is sent again after an EXECABORT caused by a moved
slot. ``watch()`` switches to a dedicated connection of the watched slot's node. See
``resp3.cluster.pipeline`` for the details, which are shared.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .._protocol import decode_pipeline, decode_reply, decode_transaction, transaction_bytes
from .._reader import encode_command, pack_commands
from ..cluster.attempt import REDIRECTS, Attempt
from ..cluster.errors import ClusterError
from ..cluster.pipeline import ClusterPipelineState, exec_redirect, merge_entries, plan_items
from ..commands import CoreCommands, keys
from ..commands._base import Command
from ..errors import AuthenticationError, ConnectionError, RedisError, TimeoutError, WatchError
from .connection import NotSentError

if TYPE_CHECKING:
    from .cluster import RedisCluster
    from .cluster_node import NodeConnections
    from .connection import AsyncConnection

__all__ = ["ClusterPipeline"]

_ASKING = encode_command(b"ASKING")


class ClusterPipeline(CoreCommands, ClusterPipelineState):
    """Queue commands synchronously, then ``await pipe.execute()``."""

    def __init__(self, client: RedisCluster, transaction: bool = False) -> None:
        self.client: RedisCluster = client
        self._init_cluster_state(transaction)
        self._conn: AsyncConnection | None = None
        self._owner: NodeConnections | None = None

    async def __aenter__(self) -> ClusterPipeline:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.reset()

    # -- WATCH / MULTI ---------------------------------------------------------------------

    async def watch(self, *names: Any) -> Any:  # type: ignore[override]  # immediate, awaited
        self._check_watch()
        client = await self.client.initialize()
        cmd = keys.watch(*names)
        slot = self._watch_target(cmd)
        attempt = Attempt(slot or 0, 0, client.policy)
        while self._conn is None:
            node = attempt.node or client.topology.node_for(slot or 0)
            if node is None:
                raise ClusterError(f"slot {slot} is not served by any known node")
            owner = client.node_connections(node)
            conn = await owner.pool.acquire()
            try:
                reply = (await conn.execute_batch(pack_commands([cmd.args]), 1))[0]
            except BaseException:
                await owner.pool.release(conn)
                raise
            if isinstance(reply, REDIRECTS):
                await owner.pool.release(conn)
                attempt.handle(reply, False, node, client.topology)
                continue
            self._conn, self._owner, self._watch_slot = conn, owner, slot
            self.watching = True
            return decode_reply(cmd, reply, conn.protocol)
        self.watching = True
        return await self._immediate(cmd)

    async def _immediate(self, cmd: Command[Any]) -> Any:
        conn = self._conn
        assert conn is not None
        self._check_watched(cmd)
        try:
            reply = (await conn.execute_batch(pack_commands([cmd.args]), 1))[0]
        except ConnectionError:
            await self.reset()
            raise WatchError("connection lost while watching; the watch is void") from None
        if isinstance(reply, REDIRECTS):
            await self.reset()
            raise WatchError(f"slot {self._watch_slot} moved while watching: {reply}")
        return decode_reply(cmd, reply, conn.protocol)

    async def unwatch(self) -> Any:  # type: ignore[override]  # immediate, awaited
        if not self.watching:
            return True
        result = await self._immediate(keys.unwatch())
        self.watching = False
        return result

    async def reset(self) -> None:  # type: ignore[override]  # redis-py: resets the pipeline
        self.command_stack = []
        conn, self._conn = self._conn, None
        owner, self._owner = self._owner, None
        if conn is not None and owner is not None:
            if self.watching and conn.is_connected:
                try:
                    await conn.execute_batch(pack_commands([(b"UNWATCH",)]), 1)
                except RedisError:
                    conn.close()
            await owner.pool.release(conn)
        self._clear_flags()

    # -- execute ---------------------------------------------------------------------------

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        try:
            client = await self.client.initialize()
            if self._in_transaction:
                return await self._execute_transaction(stack, raise_on_error)
            entries = plan_items(client, stack)
            await client._run_batch([item for items, _ in entries for item in items])
            replies = merge_entries(entries)
            return decode_pipeline(stack, replies, client.protocol, raise_on_error)
        finally:
            await self.reset()

    async def _execute_transaction(
        self, stack: list[Command[Any]], raise_on_error: bool
    ) -> list[Any]:
        client = self.client
        slot = self._transaction_target(stack)
        data = transaction_bytes(stack)
        count = len(stack) + 2
        if self._conn is not None:
            replies = await self._conn.execute_batch(data, count)
            if exec_redirect(replies) is not None:
                raise WatchError(f"slot {slot} moved while watching; transaction not run")
            return decode_transaction(stack, replies, self._conn.protocol, raise_on_error)
        attempt = Attempt(slot or 0, 0, client.policy)
        node = self._node_for(slot)
        while True:
            if node is None:
                raise ClusterError(f"slot {slot} is not served by any known node")
            error: BaseException
            written = False
            try:
                mux = await client.node_connections(node).connect()
                prefix = _ASKING if attempt.asking else b""
                replies = await mux.execute_batch(prefix + data, count + bool(prefix))
            except AuthenticationError:
                raise
            except NotSentError as exc:
                error = exc
            except (ConnectionError, TimeoutError) as exc:
                error, written = exc, True
            else:
                replies = replies[1:] if prefix else replies
                redirect = exec_redirect(replies)
                if redirect is None:
                    return decode_transaction(stack, replies, mux.protocol, raise_on_error)
                error = redirect
            delay = attempt.handle(error, written, node, client.topology)
            await client._refresh_after(attempt.refresh)
            if delay:
                await asyncio.sleep(delay)
            node = attempt.node or self._node_for(slot)
