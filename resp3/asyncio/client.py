"""``resp3.asyncio.Redis``: the same commands as the sync client, awaited.

Every command method returns an awaitable. Ordinary commands go through one shared,
multiplexed connection (automatic pipelining: whatever many tasks issue during one
loop iteration leaves in one write). Blocking commands, WATCH transactions and pub/sub
borrow a dedicated connection from a pool, so they never stall the shared one.

Timeouts (``socket_timeout``) are per command, per pipeline and per connect handshake,
and cancel only the caller's wait: the reply, when it comes, is matched to its entry and
dropped, so nothing shifts. A lost
connection fails its in-flight commands with ``ConnectionError``; the next command
reconnects. Re-sending follows the sync client's policy (docs/retry.md).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .._reader import encode_command
from ..commands._base import BLOCKING, READONLY, RETRY_SAFE, Command
from ..config import ConnectionConfig, FromURL
from ..errors import AuthenticationError, ConnectionError, TimeoutError
from ..retry import Retry
from ._iterators import ScanIterators
from .connection import AsyncConnection, NotSentError
from .pool import AsyncConnectionPool

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .pubsub import PubSub
    from .script import Script

__all__ = ["Redis"]

if sys.version_info >= (3, 11):
    _timeout = asyncio.timeout
else:  # pragma: no cover - Python 3.10
    import contextlib

    @contextlib.asynccontextmanager
    async def _timeout(delay: float | None) -> AsyncIterator[None]:
        task = asyncio.current_task()
        assert task is not None
        handle = (
            asyncio.get_running_loop().call_later(delay, task.cancel) if delay is not None else None
        )
        try:
            yield
        except asyncio.CancelledError:
            raise asyncio.TimeoutError from None
        finally:
            if handle is not None:
                handle.cancel()


class Redis(FromURL, ScanIterators):
    """An asyncio Redis client. Share one instance between all tasks of a loop."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        client_name: str | None = None,
        protocol: int = 3,
        decode_responses: bool = False,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        socket_timeout: float | None = None,
        socket_connect_timeout: float | None = None,
        socket_keepalive: bool = True,
        max_connections: int | None = None,
        retry: Retry | None = None,
        ssl: bool = False,
        ssl_ca_certs: str | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        ssl_cert_reqs: str = "required",
        ssl_check_hostname: bool = True,
        unix_socket_path: str | None = None,
        config: ConnectionConfig | None = None,
    ) -> None:
        self.config = config or ConnectionConfig.from_options(locals())
        self.retry = self.config.retry
        self.pool = AsyncConnectionPool(self.config, max_connections=max_connections)
        self._mux: AsyncConnection | None = None
        self._mux_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"<resp3.asyncio.Redis {self.config.address} db={self.config.db}>"

    async def __aenter__(self) -> Redis:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        mux, self._mux = self._mux, None
        if mux is not None:
            mux.close()
        await self.pool.aclose()

    close = aclose

    # -- the shared connection -----------------------------------------------------------

    async def _connect_mux(self) -> AsyncConnection:
        if self._mux_lock is None:
            self._mux_lock = asyncio.Lock()
        async with self._mux_lock:
            mux = self._mux
            if mux is not None and mux.is_connected:
                return mux
            mux = AsyncConnection(self.config)
            try:
                await mux.connect()
            except AuthenticationError:
                raise
            except ConnectionError as exc:  # refused, reset: no command was written
                raise NotSentError(str(exc)) from exc
            self._mux = mux
            return mux

    async def _execute(self, cmd: Command[Any]) -> Any:
        data = encode_command(*cmd.args)  # DataError here: nothing was sent
        if cmd.flags & BLOCKING:
            return await self._execute_dedicated(cmd, data)
        timeout = self.config.socket_timeout
        failures = 0
        while True:
            try:
                mux = self._mux
                if mux is None or not mux.is_connected:
                    mux = await self._connect_mux()
                fut = mux.execute(data, cmd)
                if timeout is None:
                    return await fut
                try:
                    async with _timeout(timeout):
                        return await fut
                except asyncio.TimeoutError:
                    raise TimeoutError(f"{cmd.name} timed out after {timeout}s") from None
            except AuthenticationError:
                raise
            except ConnectionError as exc:
                failures += 1
                if failures > self.retry.retries:
                    raise
                if not isinstance(exc, NotSentError) and not (cmd.flags & RETRY_SAFE):
                    raise
                await asyncio.sleep(self.retry.backoff.compute(failures))
            except TimeoutError:
                failures += 1
                if (
                    not (self.retry.retry_on_timeout and cmd.flags & READONLY)
                    or failures > self.retry.retries
                ):
                    raise

    async def _execute_dedicated(self, cmd: Command[Any], data: bytes) -> Any:
        """Blocking commands: a connection of their own, closed if the wait is cancelled."""
        conn = await self._acquire()
        try:
            return await conn.execute(data, cmd)
        finally:
            await self.pool.release(conn)

    async def _acquire(self) -> AsyncConnection:
        """A dedicated connection; failing to open one is retried, as nothing was sent."""
        failures = 0
        while True:
            try:
                return await self.pool.acquire()
            except AuthenticationError:
                raise
            except ConnectionError:
                failures += 1
                if failures > self.retry.retries:
                    raise
                await asyncio.sleep(self.retry.backoff.compute(failures))

    async def _execute_batch(
        self, data: bytes, count: int, retry_safe: bool
    ) -> tuple[int, list[Any]]:
        """A pipeline's bytes, written as one block on the shared connection.

        ``socket_timeout`` bounds the wait for the whole block (TimeoutError, not
        retried: a transaction may have run); the late replies are dropped in order.
        """
        timeout = self.config.socket_timeout
        failures = 0
        while True:
            try:
                mux = self._mux
                if mux is None or not mux.is_connected:
                    mux = await self._connect_mux()
                fut = mux.execute_batch(data, count)
                if timeout is None:
                    return mux.protocol, await fut
                try:
                    async with _timeout(timeout):
                        return mux.protocol, await fut
                except asyncio.TimeoutError:
                    raise TimeoutError(f"pipeline timed out after {timeout}s") from None
            except AuthenticationError:
                raise
            except ConnectionError as exc:
                failures += 1
                if failures > self.retry.retries or not (
                    isinstance(exc, NotSentError) or retry_safe
                ):
                    raise
                await asyncio.sleep(self.retry.backoff.compute(failures))

    # -- redis-py entry points ----------------------------------------------------------

    def execute_command(self, *args: Any, **options: Any) -> Awaitable[Any]:
        """Send any command as is (not retried once written: its effects are unknown)."""
        return self._execute(Command(args))

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        from .pipeline import Pipeline

        return Pipeline(self, transaction=transaction)

    async def transaction(
        self,
        func: Callable[[Pipeline], Awaitable[Any]],
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

    def register_script(self, script: str | bytes) -> Script:
        from .script import Script

        return Script(self, script)

    def pubsub(self, ignore_subscribe_messages: bool = False, **kwargs: Any) -> PubSub:
        from .pubsub import PubSub

        return PubSub(self, ignore_subscribe_messages=ignore_subscribe_messages)


StrictRedis = Redis
