"""Pipelines and MULTI/EXEC transactions for the sync client.

Commands are buffered; ``execute()`` encodes them into one buffer, sends it with one
``sendall`` and reads every reply in one pass. Error replies stay in place as values:
with ``raise_on_error=True`` (the default) the first one is raised after all replies
were read, annotated with its position, so the connection stays in sync.

``transaction=True`` wraps the batch in MULTI/EXEC. A command rejected while queueing
makes EXEC fail with EXECABORT; the rejected positions report their own error and the
others report the ExecAbortError. A WATCHed key changed: ``WatchError``.

After ``watch()`` the pipeline runs commands immediately on its own connection (to read
the watched values) until ``multi()``, exactly like redis-py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ._pipeline_state import PipelineState
from ._protocol import decode_pipeline, decode_reply, decode_transaction, transaction_bytes
from ._reader import pack_commands
from .commands import CoreCommands, keys
from .commands._base import RETRY_SAFE, Command
from .errors import ConnectionError, RedisError, TimeoutError, WatchError

if TYPE_CHECKING:
    from .client import Redis
    from .connection import Connection
    from .script import Script

__all__ = ["Pipeline", "run_transaction", "unwatch"]


def unwatch(conn: Connection) -> None:
    """UNWATCH a watching connection before it goes back to its pool, so no WATCH
    leaks into the next user's transaction; one that fails it is closed instead."""
    if not conn.is_connected:
        return
    try:
        conn.send(pack_commands([(b"UNWATCH",)]))
        conn.read_reply()
    except RedisError:
        conn.disconnect()


class _Watching(Protocol):
    """What ``run_transaction`` needs of a pipeline (single node or cluster)."""

    def __enter__(self) -> Any: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def watch(self, *names: Any) -> Any: ...
    def execute(self, raise_on_error: bool = True) -> list[Any]: ...


PipeT = TypeVar("PipeT", bound=_Watching)


def run_transaction(
    open_pipeline: Callable[[], PipeT],
    func: Callable[[PipeT], Any],
    watches: tuple[Any, ...],
    value_from_callable: bool,
    watch_delay: float | None,
) -> Any:
    """redis-py's ``transaction()`` loop: WATCH, ``func(pipe)``, EXEC, until no watched
    key changed meanwhile (WatchError starts over, after ``watch_delay`` seconds).
    Any other error propagates, with the pipeline reset."""
    while True:
        pipe = open_pipeline()
        with pipe:
            try:
                if watches:
                    pipe.watch(*watches)
                value = func(pipe)
                results = pipe.execute()
                return value if value_from_callable else results
            except WatchError:
                if watch_delay is not None and watch_delay > 0:
                    time.sleep(watch_delay)


class Pipeline(CoreCommands, PipelineState):
    """Buffered commands for one round trip. Use as a context manager, or ``reset()``."""

    def __init__(self, client: Redis, transaction: bool = True) -> None:
        self.client = client
        self._init_state(transaction)
        self.scripts: set[Script] = set()
        self._conn: Connection | None = None

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.reset()

    # -- WATCH / MULTI -------------------------------------------------------------------

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.client.connection_pool.get_connection()
        return self._conn

    def _immediate(self, cmd: Command[Any]) -> Any:
        conn = self._connection()
        try:
            conn.send(pack_commands([cmd.args]))
            reply = conn.read_reply()
        except (ConnectionError, TimeoutError):
            self.reset()
            raise WatchError("connection lost while watching; the watch is void") from None
        return decode_reply(cmd, reply, conn.protocol)

    def watch(self, *names: Any) -> Any:
        self._check_watch()
        self.watching = True
        return self._immediate(keys.watch(*names))

    def unwatch(self) -> Any:
        if not self.watching:
            return True
        result = self._immediate(keys.unwatch())
        self.watching = False
        return result

    def reset(self) -> None:  # type: ignore[override]  # redis-py: resets the pipeline, not RESET
        self.command_stack = []
        self.scripts = set()
        conn, self._conn = self._conn, None
        if conn is not None:
            if self.watching:
                unwatch(conn)
            self.client.connection_pool.release(conn)
        self._clear_flags()

    # -- execute -------------------------------------------------------------------------

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        """Send every buffered command at once and return their results in order."""
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        try:
            if self.scripts:
                self._load_scripts()
            if self._in_transaction:
                return self._execute_transaction(stack, raise_on_error)
            return self._execute_pipeline(stack, raise_on_error)
        finally:
            self.reset()

    def _load_scripts(self) -> None:
        shas = [s.sha for s in self.scripts]
        exists = self.client.execute_command(b"SCRIPT", b"EXISTS", *shas)
        for script, present in zip(list(self.scripts), exists, strict=True):
            if not present:
                script.sha = self.client.script_load(script.script)

    def _send(self, data: bytes, count: int, retry_safe: bool) -> tuple[int, list[Any]]:
        """Write ``data`` and read ``count`` replies; retry only under the safe policy."""
        conn = self._connection()
        try:
            conn.send(data)
            return conn.protocol, [conn.read_reply() for _ in range(count)]
        except (ConnectionError, TimeoutError) as exc:
            self.client.connection_pool.release(conn)
            self._conn = None
            if self.watching or not self.client._may_resend(RETRY_SAFE if retry_safe else 0, exc):
                raise

            def again(fresh: Connection) -> tuple[int, list[Any]]:
                fresh.send(data)
                return fresh.protocol, [fresh.read_reply() for _ in range(count)]

            return self.client._with_retry(again, exc)

    def _execute_pipeline(self, stack: list[Command[Any]], raise_on_error: bool) -> list[Any]:
        data = pack_commands([cmd.args for cmd in stack])
        safe = all(cmd.flags & RETRY_SAFE for cmd in stack)
        protocol, replies = self._send(data, len(stack), safe)
        return decode_pipeline(stack, replies, protocol, raise_on_error)

    def _execute_transaction(self, stack: list[Command[Any]], raise_on_error: bool) -> list[Any]:
        data = transaction_bytes(stack)
        protocol, replies = self._send(data, len(stack) + 2, False)
        return decode_transaction(stack, replies, protocol, raise_on_error)
