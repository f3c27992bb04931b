"""One asyncio connection, multiplexed: many tasks' commands share it in FIFO order.

Theory of operation
-------------------
``execute(data, cmd)`` appends an entry to the ``pending`` FIFO and the encoded bytes to
a write buffer, and schedules one flush with ``loop.call_soon``: everything queued by
every task during one event-loop iteration leaves in a single ``transport.write``.
Redis answers in order, so ``data_received`` feeds the reader and hands each complete
reply to the entry at the head of the FIFO. No task per command, no lock.

Cancellation safety: an entry is only ever removed by its own reply. If the awaiting
task was cancelled or timed out, its future is already done; its reply is then read
and dropped, and the next reply still goes to the next entry. A cancelled caller can
never make another caller receive the wrong reply, and the connection stays usable.

Connection loss fails every pending entry with ``ConnectionError``. Entries whose
bytes were still in the write buffer get ``NotSentError`` (a ConnectionError
subclass): they certainly did not reach the server and are always safe to retry.

``push_queue``: on a pub/sub connection every reply and push goes to this queue instead
of the FIFO (subscription confirmations and messages are all out-of-band there).
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

from .._protocol import Handshake
from .._reader import Reader
from ..commands._base import Command
from ..config import ConnectionConfig
from ..errors import ConnectionError, ProtocolError, ResponseError, TimeoutError
from ..types import INCOMPLETE, Push

__all__ = ["AsyncConnection", "NotSentError"]


class NotSentError(ConnectionError):
    """The connection broke before these bytes were written: retrying is always safe."""


class _Batch:
    """A pipeline: ``count`` consecutive replies, delivered together as a list."""

    __slots__ = ("count", "future", "replies")

    def __init__(self, future: asyncio.Future[Any], count: int) -> None:
        self.future = future
        self.count = count
        self.replies: list[Any] = []


class AsyncConnection(asyncio.Protocol):
    """A multiplexed connection; safe to share between tasks of one event loop."""

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config
        self.protocol = config.protocol
        self.server_info: dict[Any, Any] = {}
        self.push_queue: asyncio.Queue[Any] | None = None
        self._transport: asyncio.Transport | None = None
        self._reader = Reader(
            protocol=config.protocol, encoding=config.reader_encoding, errors=config.encoding_errors
        )
        self._pending: collections.deque[Any] = collections.deque()
        self._wbuf: list[bytes] = []
        self._unflushed = 0
        self._flush_handle: asyncio.Handle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lost: BaseException | None = None

    def __repr__(self) -> str:
        return f"<resp3.asyncio.AsyncConnection {self.config.address} pending={len(self._pending)}>"

    @property
    def is_connected(self) -> bool:
        return self._transport is not None and self._lost is None

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    # -- lifecycle -----------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the transport and run the handshake (one round trip on RESP3 servers)."""
        cfg = self.config
        loop = self._loop = asyncio.get_running_loop()
        try:
            if cfg.unix_socket_path:
                coro = loop.create_unix_connection(lambda: self, cfg.unix_socket_path)
            else:
                ssl_ctx = cfg.make_ssl_context() if cfg.ssl else None
                coro = loop.create_connection(
                    lambda: self,
                    cfg.host,
                    cfg.port,
                    ssl=ssl_ctx,
                    server_hostname=cfg.host if ssl_ctx else None,
                )
            if cfg.socket_connect_timeout is not None:
                await asyncio.wait_for(coro, cfg.socket_connect_timeout)
            else:
                await coro
        except asyncio.TimeoutError as exc:
            raise TimeoutError(f"timed out connecting to {cfg.address}") from exc
        except OSError as exc:
            raise ConnectionError(f"error connecting to {cfg.address}: {exc}") from exc
        try:
            if cfg.socket_timeout is None:
                await self._handshake()
            else:  # a server that accepts but never answers (CLIENT PAUSE) must not hang us
                await asyncio.wait_for(self._handshake(), cfg.socket_timeout)
        except asyncio.TimeoutError:
            self.close()
            raise TimeoutError(
                f"no handshake reply from {cfg.address} within {cfg.socket_timeout}s"
            ) from None
        except BaseException:
            self.close()
            raise

    async def _handshake(self) -> None:
        handshake = Handshake(self.config)
        data = handshake.start()
        while data is not None:
            futures = [self._raw(data if i == 0 else b"") for i in range(handshake.expected)]
            replies = [await fut for fut in futures]
            data = handshake.receive(replies)
        self.protocol = handshake.protocol
        self.server_info = handshake.server_info
        self._reader.protocol = self.protocol

    def _raw(self, data: bytes) -> asyncio.Future[Any]:
        """Queue bytes and one entry whose future receives the raw reply (errors too)."""
        assert self._loop is not None
        fut = self._loop.create_future()
        self._pending.append((fut, None))
        if data:
            self._write(data)
        return fut

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def close(self) -> None:
        transport = self._transport
        if transport is not None:
            transport.close()
        self._fail_all(ConnectionError(f"connection to {self.config.address} closed"))

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f": {exc}" if exc else ""
        self._fail_all(ConnectionError(f"connection to {self.config.address} lost{reason}"))

    def _fail_all(self, error: ConnectionError) -> None:
        if self._lost is None:
            self._lost = error
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        pending, self._pending = self._pending, collections.deque()
        unsent_from = len(pending) - self._unflushed
        self._wbuf.clear()
        self._unflushed = 0
        for index, entry in enumerate(pending):
            fut = entry.future if type(entry) is _Batch else entry[0]
            if not fut.done():
                exc = (
                    NotSentError(str(error))
                    if index >= unsent_from
                    else ConnectionError(str(error))
                )
                fut.set_exception(exc)
        if self.push_queue is not None:
            self.push_queue.put_nowait(error)

    # -- writing -------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        self._wbuf.append(data)
        if self._flush_handle is None:
            assert self._loop is not None
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        buf = self._wbuf
        if not buf or self._transport is None:
            return
        self._wbuf = []
        self._unflushed = 0
        self._transport.write(buf[0] if len(buf) == 1 else b"".join(buf))

    def execute(self, data: bytes, cmd: Command[Any]) -> asyncio.Future[Any]:
        """Queue one encoded command; the future gets the decoded reply or the error."""
        if self._lost is not None:
            raise NotSentError(str(self._lost))
        assert self._loop is not None
        fut = self._loop.create_future()
        self._pending.append((fut, cmd))
        self._unflushed += 1
        self._write(data)
        return fut

    def execute_batch(self, data: bytes, count: int) -> asyncio.Future[list[Any]]:
        """Queue ``count`` commands written as one block; the future gets the raw replies."""
        if self._lost is not None:
            raise NotSentError(str(self._lost))
        assert self._loop is not None
        fut: asyncio.Future[list[Any]] = self._loop.create_future()
        self._pending.append(_Batch(fut, count))
        self._unflushed += 1
        self._write(data)
        return fut

    def send_raw(self, data: bytes) -> None:
        """Write bytes whose replies go to ``push_queue`` (pub/sub)."""
        if self._lost is not None:
            raise NotSentError(str(self._lost))
        self._write(data)

    # -- reading -------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        pending = self._pending
        protocol = self.protocol
        while True:
            try:
                reply = reader.gets()
            except ProtocolError as exc:
                self._fail_all(ConnectionError(f"protocol error from {self.config.address}: {exc}"))
                if self._transport is not None:
                    self._transport.abort()
                return
            if reply is INCOMPLETE:
                return
            if self.push_queue is not None:
                self.push_queue.put_nowait(reply)
                continue
            if type(reply) is Push:
                continue  # out-of-band push (client tracking...) on a command connection
            if not pending:
                self._fail_all(
                    ConnectionError(f"unexpected reply from {self.config.address}: {reply!r:.80}")
                )
                if self._transport is not None:
                    self._transport.abort()
                return
            entry = pending[0]
            if type(entry) is _Batch:
                entry.replies.append(reply)
                if len(entry.replies) < entry.count:
                    continue
                pending.popleft()
                if not entry.future.done():
                    entry.future.set_result(entry.replies)
                continue
            pending.popleft()
            fut, cmd = entry
            if fut.done():
                continue  # its caller was cancelled or timed out: drop the reply
            if cmd is None:
                fut.set_result(reply)
            elif isinstance(reply, ResponseError):
                fut.set_exception(reply)
            else:
                decode = cmd.decode if protocol == 3 else (cmd.decode2 or cmd.decode)
                if decode is None:
                    fut.set_result(reply)
                else:
                    try:
                        fut.set_result(decode(reply))
                    except Exception as exc:  # a decoder bug must not kill the connection
                        fut.set_exception(exc)

    def eof_received(self) -> bool | None:
        return None
