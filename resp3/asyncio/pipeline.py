"""asyncio pipelines and transactions: buffered commands, one awaited round trip.

Without WATCH, a pipeline (and a MULTI/EXEC transaction) is written as one contiguous
block on the shared connection: Redis runs one connection's commands in order, so no
other task's command can land inside the MULTI...EXEC. Cancelling ``execute()`` drops
the whole block's replies when they arrive; the connection stays in sync.

``watch()`` needs the keys' values read on the connection that will run EXEC, so it
switches the pipeline to a dedicated connection until ``execute()``/``reset()``.
Decoding and per-position error reporting are shared with the sync pipeline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .._pipeline_state import PipelineState
from .._protocol import decode_pipeline, decode_reply, decode_transaction, transaction_bytes
from .._reader import pack_commands
from ..commands import CoreCommands, keys
from ..commands._base import RETRY_SAFE, Command
from ..errors import ConnectionError, RedisError, WatchError

if TYPE_CHECKING:
    from .client import Redis
    from .connection import AsyncConnection
    from .script import Script

__all__ = ["Pipeline", "run_transaction"]


class _Watching(Protocol):
    """What ``run_transaction`` needs of a pipeline (single node or cluster)."""

    async def __aenter__(self) -> Any: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    async def watch(self, *names: Any) -> Any: ...
    async def execute(self, raise_on_error: bool = True) -> list[Any]: ...


PipeT = TypeVar("PipeT", bound=_Watching)


async def run_transaction(
    open_pipeline: Callable[[], PipeT],
    func: Callable[[PipeT], Awaitable[Any]],
    watches: tuple[Any, ...],
    value_from_callable: bool,
    watch_delay: float | None,
) -> Any:
    """redis-py's ``transaction()`` loop, awaited: WATCH, ``await func(pipe)``, EXEC,
    until no watched key changed meanwhile (WatchError starts over, after
    ``watch_delay`` seconds). Any other error propagates, with the pipeline reset."""
    while True:
        pipe = open_pipeline()
        async with pipe:
            try:
                if watches:
                    await pipe.watch(*watches)
                value = await func(pipe)
                results = await pipe.execute()
                return value if value_from_callable else results
            except WatchError:
                if watch_delay:
                    await asyncio.sleep(watch_delay)


class Pipeline(CoreCommands, PipelineState):
    """Queue commands synchronously, then ``await pipe.execute()``."""

    def __init__(self, client: Redis, transaction: bool = True) -> None:
        self.client = client
        self._init_state(transaction)
        self.scripts: set[Script] = set()
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Pipeline:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.reset()

    async def _immediate(self, cmd: Command[Any]) -> Any:
        conn = self._conn
        if conn is None:
            conn = self._conn = await self.client.pool.acquire()
        try:
            reply = await conn.execute(pack_commands([cmd.args]), Command(cmd.args))
        except ConnectionError:
            await self.reset()
            raise WatchError("connection lost while watching; the watch is void") from None
        return decode_reply(cmd, reply, conn.protocol)

    async def watch(self, *names: Any) -> Any:  # type: ignore[override]  # immediate, awaited
        self._check_watch()
        self.watching = True
        return await self._immediate(keys.watch(*names))

    async def unwatch(self) -> Any:  # type: ignore[override]  # immediate, awaited
        if not self.watching:
            return True
        result = await self._immediate(keys.unwatch())
        self.watching = False
        return result

    async def reset(self) -> None:  # type: ignore[override]  # redis-py: resets the pipeline
        self.command_stack = []
        self.scripts = set()
        conn, self._conn = self._conn, None
        if conn is not None:
            if self.watching and conn.is_connected:
                try:
                    await conn.execute(pack_commands([(b"UNWATCH",)]), Command((b"UNWATCH",)))
                except RedisError:
                    conn.close()
            await self.client.pool.release(conn)
        self._clear_flags()

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        try:
            if self.scripts:
                await self._load_scripts()
            transaction = self._in_transaction
            if transaction:
                data, count = transaction_bytes(stack), len(stack) + 2
            else:
                data, count = pack_commands([cmd.args for cmd in stack]), len(stack)
            if self._conn is not None:
                protocol = self._conn.protocol
                replies = await self._conn.execute_batch(data, count)
            else:
                safe = not transaction and all(cmd.flags & RETRY_SAFE for cmd in stack)
                protocol, replies = await self.client._execute_batch(data, count, safe)
            if transaction:
                return decode_transaction(stack, replies, protocol, raise_on_error)
            return decode_pipeline(stack, replies, protocol, raise_on_error)
        finally:
            await self.reset()

    async def _load_scripts(self) -> None:
        scripts = list(self.scripts)
        exists = await self.client.execute_command(b"SCRIPT", b"EXISTS", *(s.sha for s in scripts))
        for script, present in zip(scripts, exists, strict=True):
            if not present:
                script.sha = await self.client.script_load(script.script)
