"""List commands, including the blocking pops (flag BLOCKING).

Blocking timeouts are in seconds (floats allowed since Redis 6); ``None`` means 0,
which blocks forever, as in redis-py. The client's socket timeout still applies while
the server blocks, so a finite ``socket_timeout`` shorter than the command's timeout
ends in ``TimeoutError``.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from ._args import Field, Key, Keys, Timeout, Value, list_or_args
from ._base import BLOCKING, IDEMPOTENT, READONLY, Command
from ._decoders import ByteStr, ok, tuple_or_none

__all__ = [
    "BlockingListPopResponse",
    "blmove",
    "blpop",
    "brpop",
    "lindex",
    "llen",
    "lmove",
    "lpop",
    "lpos",
    "lpush",
    "lpushx",
    "lrange",
    "lrem",
    "lset",
    "ltrim",
    "rpop",
    "rpush",
    "rpushx",
]

# RESP3: ``[key, value]``; RESP2: ``(key, value)`` (redis-py's shapes); None on timeout.
BlockingListPopResponse: TypeAlias = tuple[ByteStr, ByteStr] | list[ByteStr] | None


def lpush(name: Key, *values: Field) -> Command[int]:
    """LPUSH. The new length of the list."""
    return Command((b"LPUSH", name, *values), None)


def rpush(name: Key, *values: Field) -> Command[int]:
    """RPUSH. The new length of the list."""
    return Command((b"RPUSH", name, *values), None)


def lpushx(name: Key, *values: Field) -> Command[int]:
    """LPUSHX: LPUSH only if the list exists; 0 otherwise."""
    return Command((b"LPUSHX", name, *values), None)


def rpushx(name: Key, *values: Field) -> Command[int]:
    """RPUSHX: RPUSH only if the list exists; 0 otherwise."""
    return Command((b"RPUSHX", name, *values), None)


def lpop(name: Key, count: int | None = None) -> Command[ByteStr | list[ByteStr] | None]:
    """LPOP. One value (or None); with ``count``, a list (or None if the key is missing)."""
    if count is None:
        return Command((b"LPOP", name), None)
    return Command((b"LPOP", name, count), None)


def rpop(name: Key, count: int | None = None) -> Command[ByteStr | list[ByteStr] | None]:
    """RPOP. One value (or None); with ``count``, a list (or None if the key is missing)."""
    if count is None:
        return Command((b"RPOP", name), None)
    return Command((b"RPOP", name, count), None)


def lrange(name: Key, start: int, end: int) -> Command[list[ByteStr]]:
    """LRANGE, both ends inclusive, negative indexes from the end."""
    return Command((b"LRANGE", name, start, end), None, flags=READONLY)


def llen(name: Key) -> Command[int]:
    """LLEN. 0 for a missing key."""
    return Command((b"LLEN", name), None, flags=READONLY)


def lindex(name: Key, index: int) -> Command[ByteStr | None]:
    """LINDEX. None when out of range."""
    return Command((b"LINDEX", name, index), None, flags=READONLY)


def lset(name: Key, index: int, value: Value) -> Command[bool]:
    """LSET. Error when the index is out of range or the key is missing."""
    return Command((b"LSET", name, index, value), ok, flags=IDEMPOTENT)


def lrem(name: Key, count: int, value: Value) -> Command[int]:
    """LREM. ``count`` > 0 from the head, < 0 from the tail, 0 all. How many removed."""
    return Command((b"LREM", name, count, value), None)


def ltrim(name: Key, start: int, end: int) -> Command[bool]:
    """LTRIM to the inclusive range. Not retried: LTRIM 1 -1 twice drops two items."""
    return Command((b"LTRIM", name, start, end), ok)


def lmove(
    first_list: Key, second_list: Key, src: str = "LEFT", dest: str = "RIGHT"
) -> Command[ByteStr | None]:
    """LMOVE (Redis 6.2). The moved element, None when the source is empty."""
    return Command((b"LMOVE", first_list, second_list, src, dest), None)


def lpos(
    name: Key,
    value: Value,
    rank: int | None = None,
    count: int | None = None,
    maxlen: int | None = None,
) -> Command[int | list[int] | None]:
    """LPOS (Redis 6.0.6). An index or None; with ``count``, a list of indexes."""
    args: tuple[Any, ...] = (b"LPOS", name, value)
    if rank is not None:
        args += (b"RANK", rank)
    if count is not None:
        args += (b"COUNT", count)
    if maxlen is not None:
        args += (b"MAXLEN", maxlen)
    return Command(args, None, flags=READONLY)


def blpop(keys: Keys, timeout: Timeout | None = 0) -> Command[BlockingListPopResponse]:
    """BLPOP from the first non-empty list of ``keys``; None after ``timeout`` seconds."""
    return Command(
        (b"BLPOP", *list_or_args(keys, None), 0 if timeout is None else timeout),
        None,
        decode2=tuple_or_none,
        flags=BLOCKING,
    )


def brpop(keys: Keys, timeout: Timeout | None = 0) -> Command[BlockingListPopResponse]:
    """BRPOP from the first non-empty list of ``keys``; None after ``timeout`` seconds."""
    return Command(
        (b"BRPOP", *list_or_args(keys, None), 0 if timeout is None else timeout),
        None,
        decode2=tuple_or_none,
        flags=BLOCKING,
    )


def blmove(
    first_list: Key, second_list: Key, timeout: Timeout, src: str = "LEFT", dest: str = "RIGHT"
) -> Command[ByteStr | None]:
    """BLMOVE (Redis 6.2): LMOVE that waits up to ``timeout`` seconds (0: forever)."""
    return Command((b"BLMOVE", first_list, second_list, src, dest, timeout), None, flags=BLOCKING)
