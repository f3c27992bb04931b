"""Publish/subscribe on a dedicated connection (sync).

Messages are dicts shaped like redis-py's: ``{"type": "message", "pattern": None,
"channel": b"ch", "data": b"payload"}``; types are subscribe/unsubscribe/message,
psubscribe/punsubscribe/pmessage, ssubscribe/sunsubscribe/smessage, pong. RESP3 pushes
and RESP2 arrays arrive on the same connection type and give the same dicts.

Reconnection: if the connection breaks, the next ``get_message``/``listen`` reconnects
(with the client's backoff) and subscribes again to every channel, pattern and shard
channel, so a subscriber survives a server restart. Messages published while no
connection existed are lost: Redis pub/sub has no history (use streams for that).

Slow handlers: ``run_in_thread`` reads the socket on one thread and runs handlers on
another, with an unbounded queue between them, so a slow handler never stops reading
and the server never drops this client for an overfull output buffer.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ._reader import pack_commands
from ._subscriptions import Handler, Subscriptions, to_message
from .connection import Connection
from .errors import ConnectionError, TimeoutError
from .pool import ConnectionPool
from .types import INCOMPLETE

__all__ = ["PubSub", "PubSubWorkerThread", "to_message"]


class PubSub(Subscriptions):
    """Subscriptions on one connection. Not thread-safe; one reader at a time."""

    def __init__(
        self,
        connection_pool: ConnectionPool,
        ignore_subscribe_messages: bool = False,
        **kwargs: Any,
    ) -> None:
        self.connection_pool = connection_pool
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.connection: Connection | None = None
        self._init_subscriptions(connection_pool.config.encoding)

    def __enter__(self) -> PubSub:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        conn, self.connection = self.connection, None
        if conn is not None:
            conn.disconnect()
            self.connection_pool.release(conn)
        self._clear_subscriptions()

    reset = close

    # -- connection ----------------------------------------------------------------------

    def _connect(self) -> Connection:
        if self.connection is not None and self.connection.is_connected:
            return self.connection
        if self.connection is not None:
            self.connection_pool.release(self.connection)
            self.connection = None
        retry = self.connection_pool.config.retry
        failures = 0
        while True:
            try:
                conn = self.connection_pool.get_connection()
                break
            except ConnectionError:
                failures += 1
                if failures > max(retry.retries, 1):
                    raise
                time.sleep(retry.backoff.compute(failures))
        self.connection = conn
        self._resubscribe(conn)
        return conn

    def _resubscribe(self, conn: Connection) -> None:
        cmds = self._resubscribe_commands()
        if cmds:
            conn.send(pack_commands(cmds))

    def _send(self, *args: Any) -> None:
        conn = self._connect()
        try:
            conn.send(pack_commands([args]))
        except (ConnectionError, TimeoutError):
            # The subscription state is recorded; reconnecting will re-send it.
            self.connection = None
            self.connection_pool.release(conn)
            self._connect()

    # -- subscribe / unsubscribe ---------------------------------------------------------

    def _subscribe(
        self,
        command: bytes,
        table: dict[bytes, Handler | None],
        args: tuple[Any, ...],
        kwargs: dict[str, Handler],
    ) -> None:
        new = self._new_names(args, kwargs, command.decode())
        self._connect()  # a (re)connect renews the existing subscriptions first
        table.update(new)
        self._send(command, *new)

    def subscribe(self, *args: Any, **kwargs: Handler) -> None:
        """Subscribe to channels; ``name=handler`` keywords attach a handler."""
        self._subscribe(b"SUBSCRIBE", self.channels, args, kwargs)

    def psubscribe(self, *args: Any, **kwargs: Handler) -> None:
        self._subscribe(b"PSUBSCRIBE", self.patterns, args, kwargs)

    def ssubscribe(self, *args: Any, **kwargs: Handler) -> None:
        self._subscribe(b"SSUBSCRIBE", self.shard_channels, args, kwargs)

    def _unsubscribe(
        self, command: bytes, table: dict[bytes, Handler | None], args: tuple[Any, ...]
    ) -> None:
        names = self._forget(table, args)
        if self.connection is not None and self.connection.is_connected:
            self._send(command, *names)

    def unsubscribe(self, *args: Any) -> None:
        self._unsubscribe(b"UNSUBSCRIBE", self.channels, args)

    def punsubscribe(self, *args: Any) -> None:
        self._unsubscribe(b"PUNSUBSCRIBE", self.patterns, args)

    def sunsubscribe(self, *args: Any) -> None:
        self._unsubscribe(b"SUNSUBSCRIBE", self.shard_channels, args)

    def ping(self, message: Any = None) -> None:
        self._send(b"PING", *(() if message is None else (message,)))

    # -- receiving -----------------------------------------------------------------------

    def get_message(
        self, ignore_subscribe_messages: bool = False, timeout: float | None = 0.0
    ) -> dict[str, Any] | None:
        """The next message, or None if none arrived within ``timeout`` seconds.

        ``timeout=None`` blocks. A broken connection is re-established (and every
        subscription renewed) transparently; this call then returns None.
        """
        if not self.subscribed and self.connection is None:
            if timeout:
                time.sleep(timeout)
            return None
        conn = self._connect()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                reply = conn.read_push_or_reply(remaining)
            except (ConnectionError, TimeoutError):
                self.connection = None
                self.connection_pool.release(conn)
                self._connect()
                return None
            if reply is INCOMPLETE:
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            message = self._handle(
                reply, ignore_subscribe_messages or self.ignore_subscribe_messages
            )
            if message is not None:
                return message
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def listen(self) -> Iterator[dict[str, Any]]:
        """Yield messages forever (until every subscription is gone)."""
        while self.subscribed:
            message = self.get_message(timeout=None)
            if message is not None:
                yield message

    def _handle(self, reply: Any, ignore_subscribe: bool) -> dict[str, Any] | None:
        message = to_message(reply)
        if message is None:
            return None
        handler = self._handler(message, ignore_subscribe)
        if handler is None:
            return message
        handler(message)
        return None

    def handler_for(self, message: dict[str, Any]) -> Handler | None:
        """The handler bound to the message's channel or pattern, if any."""
        return self._handler_for(message)

    def run_in_thread(
        self,
        sleep_time: float = 0.0,
        daemon: bool = False,
        exception_handler: Callable[[BaseException, PubSub, PubSubWorkerThread], None]
        | None = None,
    ) -> PubSubWorkerThread:
        """Dispatch handler-bound subscriptions on a background thread; ``.stop()`` it."""
        self._require_handlers("run_in_thread needs one for each")
        worker = PubSubWorkerThread(
            self, sleep_time, daemon=daemon, exception_handler=exception_handler
        )
        worker.start()
        return worker


class PubSubWorkerThread(threading.Thread):
    """Reads on this thread, runs handlers on a second one: slow handlers lose nothing."""

    def __init__(
        self,
        pubsub: PubSub,
        sleep_time: float,
        daemon: bool = False,
        exception_handler: Callable[[BaseException, PubSub, PubSubWorkerThread], None]
        | None = None,
    ) -> None:
        super().__init__(daemon=daemon)
        self.pubsub = pubsub
        self.sleep_time = sleep_time
        self.exception_handler = exception_handler
        self._running = threading.Event()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._dispatcher = threading.Thread(target=self._dispatch, daemon=daemon)

    def run(self) -> None:
        self._running.set()
        self._dispatcher.start()
        pubsub = self.pubsub
        timeout = self.sleep_time or 0.1
        while self._running.is_set():
            try:
                conn = pubsub._connect()
                reply = conn.read_push_or_reply(timeout)
                if reply is not INCOMPLETE:
                    self._queue.put(reply)
            except (ConnectionError, TimeoutError):
                # The broken connection closed itself: give its pool slot back (with
                # max_connections it would be lost for good); _connect() resubscribes.
                broken, pubsub.connection = pubsub.connection, None
                if broken is not None:
                    pubsub.connection_pool.release(broken)
            except BaseException as exc:
                if self.exception_handler is None:
                    raise
                self.exception_handler(exc, pubsub, self)
        self._queue.put(None)
        self._dispatcher.join()
        pubsub.close()

    def _dispatch(self) -> None:
        while True:
            reply = self._queue.get()
            if reply is None:
                return
            try:
                self.pubsub._handle(reply, True)
            except BaseException as exc:
                if self.exception_handler is None:
                    raise
                self.exception_handler(exc, self.pubsub, self)

    def stop(self) -> None:
        """Stop reading, let queued messages be handled, close the connection."""
        self._running.clear()
        if self.is_alive() and threading.current_thread() is not self:
            self.join()
