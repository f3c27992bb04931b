"""The sync client's per-node connection pieces: READONLY connections and pools that
retire with their node."""

from __future__ import annotations

from .._reader import encode_command
from ..connection import Connection
from ..errors import ResponseError
from ..pool import ConnectionPool

__all__ = ["NodePool", "ReadOnlyConnection"]

_READONLY = encode_command(b"READONLY")


class ReadOnlyConnection(Connection):
    """Sends READONLY after the handshake, so a replica serves reads (harmless on a
    primary, which is why every node's connections get it with ``read_from_replicas``)."""

    def connect(self) -> None:
        if self.is_connected:
            return
        super().connect()
        try:
            self.send(_READONLY)
            reply = self.read_reply()
        except BaseException:
            self.disconnect()
            raise
        if isinstance(reply, ResponseError):
            self.disconnect()
            raise reply


class NodePool(ConnectionPool):
    """A node's pool; once the node left the slot map (``retired``), connections still
    out are closed as they come back instead of waiting, unused, for ever."""

    retired = False

    def release(self, conn: Connection) -> None:
        super().release(conn)
        if self.retired:
            self.disconnect(inuse_connections=False)
