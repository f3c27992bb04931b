"""The synchronous client, ``resp3.Redis``: redis-py's API over the resp3 core.

Commands come from the shared mixins in ``resp3.commands``; this class only implements
``_execute`` (send, read, raise, decode) plus the retry policy, pipelines, transactions,
scripts and pub/sub entry points. See ``resp3.retry`` for when a command is re-sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ._reader import encode_command
from .commands import CoreCommands
from .commands._base import READONLY, RETRY_SAFE, Command, Executor
from .commands.iterators import hscan_iter, scan_iter, sscan_iter, zscan_iter
from .config import ConnectionConfig, FromURL
from .connection import Connection
from .errors import AuthenticationError, ConnectionError, ResponseError, TimeoutError
from .pool import BlockingConnectionPool, ConnectionPool, PoolExhaustedError
from .retry import Retry

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .pubsub import PubSub
    from .script import Script

__all__ = ["Redis"]

T = TypeVar("T")


class Redis(FromURL, CoreCommands, Executor):
    """A Redis client backed by a connection pool. Thread-safe.

    Same constructor and methods as ``redis.Redis`` (``protocol=3`` by default).
    """

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
        connection_pool: ConnectionPool | None = None,
        blocking_pool: bool = False,
        blocking_pool_timeout: float | None = 20.0,
        single_connection_client: bool = False,
    ) -> None:
        if connection_pool is None:
            config = ConnectionConfig.from_options(locals())
            if blocking_pool:
                connection_pool = BlockingConnectionPool(
                    max_connections=max_connections or 50,
                    timeout=blocking_pool_timeout,
                    config=config,
                )
            else:
                connection_pool = ConnectionPool(max_connections=max_connections, config=config)
        self.connection_pool = connection_pool
        self.config = connection_pool.config
        self.retry = self.config.retry
        self._single: Connection | None = None
        if single_connection_client:
            self._single = connection_pool.get_connection()
            # One socket for every thread: commands take turns, or two threads would
            # read each other's replies (and one would wait forever).
            self._single_lock: threading.RLock | None = threading.RLock()
        else:
            self._single_lock = None

    @classmethod
    def from_pool(cls, connection_pool: ConnectionPool) -> Redis:
        return cls(connection_pool=connection_pool)

    def __repr__(self) -> str:
        return f"<resp3.Redis {self.config.address} db={self.config.db}>"

    def __enter__(self) -> Redis:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection of this client's pool."""
        if self._single is not None:
            self._single.disconnect()
            self._single = None
        self.connection_pool.disconnect()

    # -- the one hook every command goes through -------------------------------------

    def _execute(self, cmd: Command[Any]) -> Any:
        lock = self._single_lock
        if lock is None:
            return self._execute_unlocked(cmd)
        with lock:
            return self._execute_unlocked(cmd)

    def _execute_unlocked(self, cmd: Command[Any]) -> Any:
        data = encode_command(*cmd.args)  # DataError here: nothing was sent
        pool = self.connection_pool
        single = self._single
        try:
            conn = single or pool.get_connection()
        except (AuthenticationError, PoolExhaustedError):
            raise
        except (ConnectionError, TimeoutError) as exc:  # never written: always safe to retry
            protocol, reply = self._with_retry(_sender(data), exc)
        else:
            try:
                conn.send(data)
                reply = conn.read_reply()
            except (ConnectionError, TimeoutError) as exc:
                if single is None:
                    pool.release(conn)
                if not self._may_resend(cmd.flags, exc):
                    raise
                protocol, reply = self._with_retry(_sender(data), exc)
            except BaseException:
                # ProtocolError, KeyboardInterrupt...: the connection closed itself;
                # releasing it frees its pool slot (a closed one is never reused).
                if single is None:
                    pool.release(conn)
                raise
            else:
                if single is None:
                    pool.release(conn)
                protocol = conn.protocol
        if isinstance(reply, ResponseError):
            raise reply
        decode = cmd.decode if protocol == 3 else (cmd.decode2 or cmd.decode)
        return decode(reply) if decode is not None else reply

    def _may_resend(self, flags: int, error: Exception) -> bool:
        """A command that may have reached the server is re-sent only if that is harmless."""
        if isinstance(error, AuthenticationError) or not self.retry.retries:
            return False
        if isinstance(error, TimeoutError):
            return self.retry.retry_on_timeout and bool(flags & READONLY)
        return bool(flags & RETRY_SAFE)

    def _with_retry(self, fn: Callable[[Connection], T], error: Exception) -> T:
        """Run ``fn(conn)`` on a fresh connection, up to ``retries`` times, with backoff."""
        retry = self.retry
        failures = 1
        while True:
            if failures > retry.retries:
                raise error
            time.sleep(retry.backoff.compute(failures))
            conn: Connection | None = None
            try:
                conn = self._single or self.connection_pool.get_connection()
                if not conn.is_connected:
                    conn.connect()
                return fn(conn)
            except AuthenticationError:
                raise
            except (ConnectionError, TimeoutError) as exc:
                error = exc
                failures += 1
            finally:
                if conn is not None and self._single is None:
                    self.connection_pool.release(conn)

    # -- redis-py entry points ----------------------------------------------------------

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Send any command as is; the reply is returned undecoded (errors raised).

        Not retried after it was written, since its side effects are unknown.
        """
        return self._execute(Command(args))

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        from .pipeline import Pipeline

        return Pipeline(self, transaction=transaction)

    def transaction(
        self,
        func: Callable[[Pipeline], Any],
        *watches: Any,
        shard_hint: Any = None,
        value_from_callable: bool = False,
        watch_delay: float | None = None,
    ) -> Any:
        """Run ``func(pipe)`` under WATCH/MULTI/EXEC, retrying while a watched key changes."""
        from .pipeline import run_transaction

        return run_transaction(
            lambda: self.pipeline(True), func, watches, value_from_callable, watch_delay
        )

    def register_script(self, script: str | bytes) -> Script:
        from .script import Script

        return Script(self, script)

    def pubsub(self, ignore_subscribe_messages: bool = False, **kwargs: Any) -> PubSub:
        from .pubsub import PubSub

        return PubSub(
            self.connection_pool, ignore_subscribe_messages=ignore_subscribe_messages, **kwargs
        )

    def scan_iter(
        self, match: Any = None, count: int | None = None, _type: str | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        return scan_iter(self, match=match, count=count, _type=_type, **kwargs)

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


StrictRedis = Redis


def _sender(data: bytes) -> Callable[[Connection], tuple[int, Any]]:
    def send_and_read(conn: Connection) -> tuple[int, Any]:
        conn.send(data)
        return conn.protocol, conn.read_reply()

    return send_and_read
