"""Pub/sub bookkeeping without I/O, shared by the sync, asyncio and cluster subscribers.

Theory of operation. A subscriber keeps three tables, channel → handler (or None):
``channels`` (SUBSCRIBE), ``patterns`` (PSUBSCRIBE) and ``shard_channels``
(SSUBSCRIBE). The tables are the truth: a table is updated when the caller subscribes
or unsubscribes, before (or whether or not) the command reaches a server, so a
reconnect can subscribe again to exactly what the tables hold. Every reply read from
a subscribed connection goes through :func:`to_message`, then :meth:`Subscriptions._handler`
decides whether the caller sees it or a handler consumes it. Sending, reading,
reconnecting and awaiting handlers stay in the shells.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import RedisError

__all__ = ["SUBSCRIPTION_KINDS", "Handler", "Subscriptions", "channel_key", "to_message"]

Handler = Callable[[dict[str, Any]], Any]

# Reply types that confirm a subscription change, and the table each one changes.
SUBSCRIPTION_KINDS = {
    "subscribe": "channels",
    "unsubscribe": "channels",
    "psubscribe": "patterns",
    "punsubscribe": "patterns",
    "ssubscribe": "shard_channels",
    "sunsubscribe": "shard_channels",
}


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _ignore(message: dict[str, Any]) -> None:
    """The handler of subscription confirmations the caller asked not to see."""


def to_message(reply: Any) -> dict[str, Any] | None:
    """A pub/sub reply (RESP3 push or RESP2 array) as redis-py's message dict.

    A bare string is the RESP3 reply to PING (RESP2 sends ``["pong", data]``): it
    becomes the same pong message, ``PONG`` meaning "no payload" as in redis-py.
    None for anything else that is not a pub/sub message.
    """
    if isinstance(reply, (bytes, str)):
        empty = reply[:0]
        data = empty if reply in (b"PONG", "PONG") else reply
        return {"type": "pong", "pattern": None, "channel": None, "data": data}
    if not isinstance(reply, list) or len(reply) < 2:
        return None
    kind = _text(reply[0]).lower()
    if kind == "pmessage" and len(reply) == 4:
        return {"type": kind, "pattern": reply[1], "channel": reply[2], "data": reply[3]}
    if (kind in SUBSCRIPTION_KINDS or kind in ("message", "smessage")) and len(reply) == 3:
        return {"type": kind, "pattern": None, "channel": reply[1], "data": reply[2]}
    if kind == "pong":
        return {"type": "pong", "pattern": None, "channel": None, "data": reply[1]}
    return None


def channel_key(name: Any, encoding: str) -> bytes:
    """A channel name as the table key: bytes, str encoded, bytearray/memoryview copied.
    TypeError for anything else, before any command is sent."""
    if isinstance(name, bytes):
        return name
    if isinstance(name, str):
        return name.encode(encoding)
    if isinstance(name, (bytearray, memoryview)):
        return bytes(name)
    raise TypeError(f"channel names must be bytes or str, got {type(name).__name__}")


class Subscriptions:
    """The three subscription tables and the decisions made from them alone."""

    channels: dict[bytes, Handler | None]
    patterns: dict[bytes, Handler | None]
    shard_channels: dict[bytes, Handler | None]
    _encoding: str

    def _init_subscriptions(self, encoding: str) -> None:
        self.channels = {}
        self.patterns = {}
        self.shard_channels = {}
        self._encoding = encoding

    @property
    def subscribed(self) -> bool:
        return bool(self.channels or self.patterns or self.shard_channels)

    def _key(self, name: Any) -> bytes:
        return channel_key(name, self._encoding)

    def _clear_subscriptions(self) -> None:
        self.channels.clear()
        self.patterns.clear()
        self.shard_channels.clear()

    def _new_names(
        self, args: tuple[Any, ...], kwargs: dict[str, Handler], what: str
    ) -> dict[bytes, Handler | None]:
        """The channels of one subscribe call with their handlers; RedisError (naming
        ``what``) when there are none, as the server would refuse the command."""
        new: dict[bytes, Handler | None] = {self._key(a): None for a in args}
        new.update({self._key(k): v for k, v in kwargs.items()})
        if not new:
            raise RedisError(f"{what} needs at least one channel")
        return new

    def _forget(self, table: dict[bytes, Handler | None], args: tuple[Any, ...]) -> list[bytes]:
        """Drop ``args`` from ``table`` (all of it when empty); the names to send."""
        names = [self._key(a) for a in args]
        for name in names or list(table):
            table.pop(name, None)
        return names

    def _resubscribe_commands(self, shards: bool = True) -> list[tuple[Any, ...]]:
        """The commands renewing every subscription on a fresh connection."""
        tables = [(b"SUBSCRIBE", self.channels), (b"PSUBSCRIBE", self.patterns)]
        if shards:
            tables.append((b"SSUBSCRIBE", self.shard_channels))
        return [(command, *table) for command, table in tables if table]

    def _require_handlers(self, reason: str) -> None:
        """RedisError naming the first channel without a handler (``run_in_thread``)."""
        for table in (self.channels, self.patterns, self.shard_channels):
            for name, handler in table.items():
                if handler is None:
                    raise RedisError(f"channel {name!r} has no handler; {reason}")

    def _handler_for(self, message: dict[str, Any]) -> Handler | None:
        kind = message["type"]
        if kind == "pmessage":
            return self.patterns.get(self._key(message["pattern"]))
        if kind == "message":
            return self.channels.get(self._key(message["channel"]))
        if kind == "smessage":
            return self.shard_channels.get(self._key(message["channel"]))
        return None

    def _handler(self, message: dict[str, Any], ignore_subscribe: bool) -> Handler | None:
        """Who consumes ``message``: None means the caller gets it; otherwise the shell
        calls (and in asyncio awaits) the handler returned and surfaces nothing."""
        if message["type"] in SUBSCRIPTION_KINDS:
            return _ignore if ignore_subscribe else None
        return self._handler_for(message)
