"""``RedisCluster.pipeline()``: buffered commands, one write per node, caller's order back.

Without a transaction, ``execute()`` routes every buffered command like the client
would (a cross-slot MGET/MSET/DEL/EXISTS/UNLINK/TOUCH becomes one part per slot),
groups them per node, writes each node's group as one buffer, reads all of them, and
returns the results in the order the commands were queued. Redirections are followed
per command (:mod:`.batch`), so a pipeline survives a resharding or a failover.
Keyless commands go to their default node; those that go to several nodes (DBSIZE,
KEYS, FLUSHDB...) are refused here: call them on the client.

``transaction=True`` (or ``multi()`` after ``watch()``) sends MULTI/EXEC to the one
node that serves every key of the transaction; keys in several slots raise
``ClusterCrossSlotError`` before anything is sent. A transaction refused because its
slot moved (EXECABORT caused by MOVED/ASK/TRYAGAIN) did not run, so it is sent again
to the right node. After a connection broke while it was in flight it is never
re-sent: EXEC may have run.

WATCH: ``watch(*keys)`` (all in one slot) binds the pipeline to a connection of that
slot's node until ``execute()``/``reset()``; commands before ``multi()`` run at once on
it, as in the single-node pipeline. If the slot moves while watching, the watch is
void: ``WatchError``, which ``transaction()`` answers by starting over.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .._pipeline_state import PipelineState
from .._protocol import decode_pipeline, decode_reply, decode_transaction, transaction_bytes
from .._reader import encode_command, pack_commands
from ..commands import CoreCommands, keys
from ..commands._base import Command
from ..errors import (
    AuthenticationError,
    ConnectionError,
    ExecAbortError,
    ResponseError,
    TimeoutError,
    WatchError,
)
from ..pipeline import unwatch
from ..pool import PoolExhaustedError
from .attempt import REDIRECTS, Attempt
from .batch import Item
from .errors import ClusterCrossSlotError, ClusterError
from .routing import DEFAULT_NODE, GETKEYS_NEEDED, LOOKUP, RANDOM, SPLIT, NodeRoute, split

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..connection import Connection
    from ..pool import ConnectionPool
    from .base import ClusterBase
    from .client import RedisCluster
    from .nodes import ClusterNode

__all__ = ["ClusterPipeline", "ClusterPipelineState", "plan_items", "transaction_slot"]

_ASKING = encode_command(b"ASKING")


def plan_items(
    client: Any, stack: list[Command[Any]]
) -> list[tuple[list[Item], Callable[[list[Any]], Any] | None]]:
    """Each queued command as its batch items (several for a split) and its merge."""
    router, topology = client._router, client.topology
    entries: list[tuple[list[Item], Callable[[list[Any]], Any] | None]] = []
    for cmd in stack:
        plan = router.plan(cmd.args)
        if plan is LOOKUP or plan is GETKEYS_NEEDED:
            raise ClusterError(
                f"{cmd.name}: the key positions of this command are unknown; "
                "run it once on the client first, or use a hash-tagged builder command"
            )
        if type(plan) is int:
            entries.append(([Item(cmd, plan)], None))
        elif plan is SPLIT:
            parts, merge = split(cmd)
            entries.append(([Item(part, slot) for slot, part in parts], merge))
        elif isinstance(plan, NodeRoute) and plan.target in (DEFAULT_NODE, RANDOM):
            node = topology.targets(plan.target)[0]
            entries.append(([Item(cmd, None, node, plan.target)], None))
        else:
            raise ClusterError(
                f"{cmd.name} goes to several nodes; it cannot be part of a cluster pipeline "
                "(call it on the client, which folds the replies)"
            )
    return entries


def merge_entries(
    entries: list[tuple[list[Item], Callable[[list[Any]], Any] | None]],
) -> list[Any]:
    """The raw reply of each entry: a split's parts merged (or its first error)."""
    replies = []
    for items, merge in entries:
        if merge is None:
            replies.append(items[0].reply)
            continue
        parts = [item.reply for item in items]
        errors = [reply for reply in parts if isinstance(reply, ResponseError)]
        replies.append(errors[0] if errors else merge(parts))
    return replies


def transaction_slot(router: Any, stack: list[Command[Any]]) -> int | None:
    """The one slot of a transaction's keys (None: no keys); ClusterCrossSlotError else."""
    slot: int | None = None
    first: Command[Any] | None = None
    for cmd in stack:
        plan = router.plan(cmd.args)
        if plan is SPLIT:
            raise ClusterCrossSlotError(
                f"{cmd.name} with keys in several slots cannot be part of a transaction"
            )
        if type(plan) is not int:
            continue
        if slot is None:
            slot, first = plan, cmd
        elif plan != slot:
            raise ClusterCrossSlotError(
                f"transaction: {first!r} is for slot {slot} but {cmd!r} is for slot {plan}; "
                "every key of a transaction must be in one slot (use a {hash tag})"
            )
    return slot


def exec_redirect(replies: list[Any]) -> ResponseError | None:
    """The redirection that made EXEC fail, if that is why: EXEC itself answered one
    (the node checks every key of the transaction again at EXEC), or a queued command
    did and EXEC aborted. Either way the transaction did not run."""
    if isinstance(replies[-1], REDIRECTS):
        return replies[-1]
    if not isinstance(replies[-1], ExecAbortError):
        return None
    for reply in replies[:-1]:
        if isinstance(reply, REDIRECTS):
            return reply
    return None


class ClusterPipelineState(PipelineState):
    """The slot rules of a cluster pipeline, shared by the sync and asyncio shells.

    Every key a pipeline WATCHes, runs while watching, or puts in its transaction
    must be in one slot (``_watch_slot`` once watching): the node serving that slot
    runs all of it. ClusterCrossSlotError otherwise, before anything is sent.
    """

    client: ClusterBase
    _watch_slot: int | None

    def _init_cluster_state(self, transaction: bool) -> None:
        self._init_state(transaction)
        self._watch_slot = None

    def _clear_flags(self) -> None:
        super()._clear_flags()
        self._watch_slot = None

    def _watch_target(self, cmd: Command[Any]) -> int | None:
        """The slot of a WATCH; it must be the one already watched, if any."""
        slot = transaction_slot(self.client._router, [cmd])
        if self._watch_slot is not None and slot != self._watch_slot:
            raise ClusterCrossSlotError(
                f"WATCH: slot {slot} differs from the watched {self._watch_slot}"
            )
        return slot

    def _check_watched(self, cmd: Command[Any]) -> None:
        """A command run at once while watching must stay in the watched slot."""
        slot = transaction_slot(self.client._router, [cmd])
        if slot is not None and slot != self._watch_slot:
            raise ClusterCrossSlotError(
                f"{cmd.name}: slot {slot} differs from the watched slot {self._watch_slot}"
            )

    def _transaction_target(self, stack: list[Command[Any]]) -> int | None:
        """The one slot of a transaction (None: no keys), the watched one if watching."""
        slot = transaction_slot(self.client._router, stack)
        if self._watch_slot is not None and slot not in (None, self._watch_slot):
            raise ClusterCrossSlotError(
                f"transaction: slot {slot} differs from the watched slot {self._watch_slot}"
            )
        return slot

    def _node_for(self, slot: int | None) -> ClusterNode | None:
        """Where a transaction of ``slot`` goes: a keyless one to the default node."""
        client = self.client
        return client.get_default_node() if slot is None else client.topology.node_for(slot)


class ClusterPipeline(CoreCommands, ClusterPipelineState):
    """Buffered commands for a cluster. Use as a context manager, or ``reset()``."""

    def __init__(self, client: RedisCluster, transaction: bool = False) -> None:
        self.client: RedisCluster = client
        self._init_cluster_state(transaction)
        self._conn: Connection | None = None
        self._pool: ConnectionPool | None = None

    def __enter__(self) -> ClusterPipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.reset()

    # -- WATCH / MULTI ---------------------------------------------------------------------

    def watch(self, *names: Any) -> Any:
        """WATCH keys of one slot, on a connection of the node serving it."""
        self._check_watch()
        cmd = keys.watch(*names)
        slot = self._watch_target(cmd)
        client = self.client
        attempt = Attempt(slot or 0, 0, client.policy)
        while self._conn is None:
            node = attempt.node or client.topology.node_for(slot or 0)
            if node is None:
                raise ClusterError(f"slot {slot} is not served by any known node")
            pool = client.get_connection_pool(node)
            conn = pool.get_connection()
            try:
                conn.send(pack_commands([cmd.args]))
                reply = conn.read_reply()
            except BaseException:
                pool.release(conn)
                raise
            if isinstance(reply, REDIRECTS):
                pool.release(conn)
                attempt.handle(reply, False, node, client.topology)
                continue
            self._conn, self._pool, self._watch_slot = conn, pool, slot
            self.watching = True
            return decode_reply(cmd, reply, conn.protocol)
        self.watching = True
        return self._immediate(cmd)

    def _immediate(self, cmd: Command[Any]) -> Any:
        conn = self._conn
        assert conn is not None
        self._check_watched(cmd)
        try:
            conn.send(pack_commands([cmd.args]))
            reply = conn.read_reply()
        except (ConnectionError, TimeoutError):
            self.reset()
            raise WatchError("connection lost while watching; the watch is void") from None
        if isinstance(reply, REDIRECTS):
            self.reset()
            raise WatchError(f"slot {self._watch_slot} moved while watching: {reply}")
        return decode_reply(cmd, reply, conn.protocol)

    def unwatch(self) -> Any:
        if not self.watching:
            return True
        result = self._immediate(keys.unwatch())
        self.watching = False
        return result

    def reset(self) -> None:  # type: ignore[override]  # redis-py: resets the pipeline
        self.command_stack = []
        conn, self._conn = self._conn, None
        pool, self._pool = self._pool, None
        if conn is not None and pool is not None:
            if self.watching:
                unwatch(conn)
            pool.release(conn)
        self._clear_flags()

    # -- execute ---------------------------------------------------------------------------

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        """Send everything; results in the order the commands were queued."""
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        try:
            if self._in_transaction:
                return self._execute_transaction(stack, raise_on_error)
            entries = plan_items(self.client, stack)
            self.client._run_batch([item for items, _ in entries for item in items])
            replies = merge_entries(entries)
            return decode_pipeline(stack, replies, self.client.protocol, raise_on_error)
        finally:
            self.reset()

    def _execute_transaction(self, stack: list[Command[Any]], raise_on_error: bool) -> list[Any]:
        client = self.client
        slot = self._transaction_target(stack)
        data = transaction_bytes(stack)
        count = len(stack) + 2
        if self._conn is not None:  # under WATCH: on the watching connection, never moved
            protocol, replies = self._conn.protocol, self._exchange(self._conn, data, count)
            if exec_redirect(replies) is not None:
                raise WatchError(f"slot {slot} moved while watching; transaction not run")
            return decode_transaction(stack, replies, protocol, raise_on_error)
        attempt = Attempt(slot or 0, 0, client.policy)
        node = self._node_for(slot)
        while True:
            if node is None:
                raise ClusterError(f"slot {slot} is not served by any known node")
            pool = client.get_connection_pool(node)
            error: BaseException
            written = False
            try:
                conn = pool.get_connection()
            except (AuthenticationError, PoolExhaustedError):  # not the node's fault
                raise
            except (ConnectionError, TimeoutError) as exc:
                error = exc
            else:
                try:
                    prefix = _ASKING if attempt.asking else b""
                    replies = self._exchange(conn, prefix + data, count + bool(prefix))
                except (ConnectionError, TimeoutError) as exc:
                    error, written = exc, True
                finally:
                    pool.release(conn)
                if not written:
                    replies = replies[1:] if prefix else replies
                    redirect = exec_redirect(replies)
                    if redirect is None:
                        return decode_transaction(stack, replies, conn.protocol, raise_on_error)
                    error = redirect
            delay = attempt.handle(error, written, node, client.topology)
            client._refresh_after(attempt.refresh)
            if delay:
                time.sleep(delay)
            node = attempt.node or self._node_for(slot)

    @staticmethod
    def _exchange(conn: Connection, data: bytes, count: int) -> list[Any]:
        conn.send(data)
        return [conn.read_reply() for _ in range(count)]
