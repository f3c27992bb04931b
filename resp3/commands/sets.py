"""Set commands.

SMEMBERS/SINTER/SUNION/SDIFF return Python sets under both protocols. SPOP with a
count returns a list, as redis-py does (its RESP3 parser turns every set reply into a
list); order is the server's, i.e. arbitrary.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._args import Field, Key, Pattern, Value, list_or_args
from ._base import READONLY, Command
from ._decoders import ByteStr, ScanResponse, set_to_list, to_set
from ._decoders import scan as _scan_reply

__all__ = [
    "sadd",
    "scard",
    "sdiff",
    "sdiffstore",
    "sinter",
    "sinterstore",
    "sismember",
    "smembers",
    "smismember",
    "smove",
    "spop",
    "srandmember",
    "srem",
    "sscan",
    "sunion",
    "sunionstore",
]


def sadd(name: Key, *values: Field) -> Command[int]:
    """SADD. How many members were new."""
    return Command((b"SADD", name, *values), None)


def srem(name: Key, *values: Field) -> Command[int]:
    """SREM. How many members were removed."""
    return Command((b"SREM", name, *values), None)


def smembers(name: Key) -> Command[set[ByteStr]]:
    """SMEMBERS as a set; empty for a missing key."""
    return Command((b"SMEMBERS", name), to_set, flags=READONLY)


def sismember(name: Key, value: Value) -> Command[int]:
    """SISMEMBER: 1 or 0 (an int, as in redis-py)."""
    return Command((b"SISMEMBER", name, value), None, flags=READONLY)


def smismember(name: Key, values: Value | Iterable[Value], *args: Value) -> Command[list[int]]:
    """SMISMEMBER (Redis 6.2): one 1/0 per value, in order."""
    return Command((b"SMISMEMBER", name, *list_or_args(values, args)), None, flags=READONLY)


def scard(name: Key) -> Command[int]:
    """SCARD. 0 for a missing key."""
    return Command((b"SCARD", name), None, flags=READONLY)


def sinter(keys: Key | Iterable[Key], *args: Key) -> Command[set[ByteStr]]:
    """SINTER of ``keys`` (a list, or several arguments)."""
    return Command((b"SINTER", *list_or_args(keys, args)), to_set, flags=READONLY)


def sunion(keys: Key | Iterable[Key], *args: Key) -> Command[set[ByteStr]]:
    """SUNION of ``keys``."""
    return Command((b"SUNION", *list_or_args(keys, args)), to_set, flags=READONLY)


def sdiff(keys: Key | Iterable[Key], *args: Key) -> Command[set[ByteStr]]:
    """SDIFF: members of the first set that are in none of the others."""
    return Command((b"SDIFF", *list_or_args(keys, args)), to_set, flags=READONLY)


def sinterstore(dest: Key, keys: Key | Iterable[Key], *args: Key) -> Command[int]:
    """SINTERSTORE. The size of the stored set."""
    return Command((b"SINTERSTORE", dest, *list_or_args(keys, args)), None)


def sunionstore(dest: Key, keys: Key | Iterable[Key], *args: Key) -> Command[int]:
    """SUNIONSTORE. The size of the stored set."""
    return Command((b"SUNIONSTORE", dest, *list_or_args(keys, args)), None)


def sdiffstore(dest: Key, keys: Key | Iterable[Key], *args: Key) -> Command[int]:
    """SDIFFSTORE. Not retried: with ``dest`` among ``keys`` a second run differs."""
    return Command((b"SDIFFSTORE", dest, *list_or_args(keys, args)), None)


def spop(name: Key, count: int | None = None) -> Command[ByteStr | list[ByteStr] | None]:
    """SPOP. One member (or None); with ``count``, a list."""
    if count is None:
        return Command((b"SPOP", name), None)
    return Command((b"SPOP", name, count), set_to_list)


def srandmember(name: Key, number: int | None = None) -> Command[ByteStr | list[ByteStr] | None]:
    """SRANDMEMBER. One member (or None); with ``number``, a list (negative: repeats)."""
    if number is None:
        return Command((b"SRANDMEMBER", name), None, flags=READONLY)
    return Command((b"SRANDMEMBER", name, number), set_to_list, flags=READONLY)


def smove(src: Key, dst: Key, value: Value) -> Command[bool]:
    """SMOVE. True if the member was moved."""
    return Command((b"SMOVE", src, dst, value), bool)


def sscan(
    name: Key, cursor: int = 0, match: Pattern | None = None, count: int | None = None
) -> Command[ScanResponse]:
    """SSCAN. ``(cursor, members)``."""
    args: tuple[Any, ...] = (b"SSCAN", name, cursor)
    if match is not None:
        args += (b"MATCH", match)
    if count is not None:
        args += (b"COUNT", count)
    return Command(args, _scan_reply, flags=READONLY)
