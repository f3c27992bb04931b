"""One synchronous connection: a socket, a reader, and the connect handshake.

The hot path is short on purpose: ``send`` is one ``sendall`` of bytes already encoded
by the caller; ``read_reply`` asks the reader for a complete reply and, only when it
has none, reads up to 64 KiB with ``recv_into`` into a preallocated buffer.

Any failure in the middle of an exchange (timeout, reset, protocol error, even a
KeyboardInterrupt) leaves unread bytes of unknown length on the socket, so the
connection is closed at once: a later caller can never read an earlier caller's reply.
"""

from __future__ import annotations

import builtins
import os
import select
import socket
import ssl
from collections.abc import Callable
from typing import Any

from ._protocol import Handshake
from ._reader import Reader
from .config import ConnectionConfig
from .errors import ConnectionError, TimeoutError
from .types import INCOMPLETE, Push

__all__ = ["Connection"]

_BUFFER_SIZE = 65536
_POLLIN = getattr(select, "POLLIN", 1)


class Connection:
    """A single connection to a server, used by one thread at a time (the pool's job)."""

    def __init__(self, config: ConnectionConfig | None = None, **kwargs: Any) -> None:
        self.config = config if config is not None else ConnectionConfig(**kwargs)
        self.protocol = self.config.protocol
        self.pid = os.getpid()
        self.server_info: dict[Any, Any] = {}
        self.push_handler: Callable[[Push], None] | None = None
        self._sock: socket.socket | None = None
        self._reader: Reader | None = None
        self._buf = bytearray(_BUFFER_SIZE)
        self._view = memoryview(self._buf)
        self._poller: Any = None

    def __repr__(self) -> str:
        state = "connected" if self._sock is not None else "disconnected"
        return f"<resp3.Connection {self.config.address} {state}>"

    @property
    def is_connected(self) -> bool:
        return self._sock is not None

    def fileno(self) -> int:
        """The socket's descriptor, so ``select`` can wait on several connections at
        once (cluster pub/sub). ConnectionError if the connection is closed."""
        if self._sock is None:
            raise ConnectionError(f"connection to {self.config.address} is closed")
        return self._sock.fileno()

    # -- lifecycle -----------------------------------------------------------------

    def connect(self) -> None:
        """Open the socket and run the handshake (HELLO/AUTH/SELECT) in one round trip."""
        if self._sock is not None:
            return
        cfg = self.config
        try:
            sock = self._open_socket()
        except builtins.TimeoutError as exc:
            raise TimeoutError(f"timed out connecting to {cfg.address}") from exc
        except OSError as exc:
            raise ConnectionError(f"error connecting to {cfg.address}: {exc}") from exc
        self._sock = sock
        self._reader = Reader(
            protocol=cfg.protocol, encoding=cfg.reader_encoding, errors=cfg.encoding_errors
        )
        try:
            self._handshake()
        except BaseException:
            self.disconnect()
            raise
        if hasattr(select, "poll") and not cfg.ssl:
            self._poller = select.poll()
            self._poller.register(sock, _POLLIN)

    def _open_socket(self) -> socket.socket:
        cfg = self.config
        timeout = cfg.socket_connect_timeout
        if cfg.unix_socket_path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(cfg.unix_socket_path)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection((cfg.host, cfg.port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if cfg.socket_keepalive:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if cfg.ssl:
                try:
                    sock = cfg.make_ssl_context().wrap_socket(sock, server_hostname=cfg.host)
                except BaseException:
                    sock.close()
                    raise
        sock.settimeout(cfg.socket_timeout)
        return sock

    def _handshake(self) -> None:
        handshake = Handshake(self.config)
        data = handshake.start()
        while data is not None:
            self.send(data)
            replies = [self.read_reply() for _ in range(handshake.expected)]
            data = handshake.receive(replies)
        self.protocol = handshake.protocol
        self.server_info = handshake.server_info
        assert self._reader is not None
        self._reader.protocol = self.protocol

    def disconnect(self) -> None:
        """Close the socket; unread replies are dropped with it."""
        sock, self._sock = self._sock, None
        self._reader = None
        self._poller = None
        if sock is not None:
            try:
                if os.getpid() == self.pid:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    close = disconnect

    def is_alive(self) -> bool:
        """Cheap check before reuse: False if the server closed this idle connection.

        One non-blocking poll; a readable idle socket with nothing to read means EOF
        (server restart, CLIENT KILL, idle timeout). Detecting that *before* writing
        lets the pool reconnect and send the command without any doubt about whether
        the server saw it.
        """
        if self._sock is None:
            return False
        if self._poller is None or not self._poller.poll(0):
            return True
        try:
            peeked = self._sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        return bool(peeked)

    # -- I/O -----------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            self.connect()
            sock = self._sock
            assert sock is not None
        try:
            sock.sendall(data)
        except builtins.TimeoutError as exc:
            self.disconnect()
            raise TimeoutError(f"timed out writing to {self.config.address}") from exc
        except OSError as exc:
            self.disconnect()
            raise ConnectionError(f"error writing to {self.config.address}: {exc}") from exc
        except BaseException:
            self.disconnect()
            raise

    def read_reply(self) -> Any:
        """Next reply (error replies are returned, not raised). Pushes go to push_handler."""
        reader = self._reader
        if reader is None:
            raise ConnectionError(f"connection to {self.config.address} is closed")
        try:
            while True:
                reply = reader.gets()
                if reply is INCOMPLETE:
                    self._fill(reader)
                elif type(reply) is Push:
                    if self.push_handler is not None:
                        self.push_handler(reply)
                else:
                    return reply
        except BaseException:  # incl. ProtocolError: the stream position is lost
            self.disconnect()
            raise

    def read_push_or_reply(self, timeout: float | None = -1.0) -> Any:
        """Next reply *or* push, waiting at most ``timeout`` (None: forever; -1: socket's).

        Returns ``INCOMPLETE`` when the wait expired with nothing complete. Used by
        pub/sub, where waiting without a message is normal and must not break anything.
        """
        reader = self._reader
        sock = self._sock
        if reader is None or sock is None:
            raise ConnectionError(f"connection to {self.config.address} is closed")
        reply = reader.gets()
        if reply is not INCOMPLETE:
            return reply
        if timeout is not None and timeout >= 0 and not self._wait_readable(sock, timeout):
            return INCOMPLETE
        try:
            self._fill(reader)
            return reader.gets()
        except BaseException:
            self.disconnect()
            raise

    @staticmethod
    def _wait_readable(sock: socket.socket, timeout: float) -> bool:
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        readable, _, _ = select.select([sock], [], [], timeout)
        return bool(readable)

    def _fill(self, reader: Reader) -> None:
        sock = self._sock
        if sock is None:
            raise ConnectionError(f"connection to {self.config.address} is closed")
        try:
            n = sock.recv_into(self._buf)
        except builtins.TimeoutError as exc:
            raise TimeoutError(
                f"timed out reading from {self.config.address} after {self.config.socket_timeout}s"
            ) from exc
        except OSError as exc:
            raise ConnectionError(f"error reading from {self.config.address}: {exc}") from exc
        if not n:
            raise ConnectionError(f"{self.config.address} closed the connection")
        reader.feed(self._view[:n])
