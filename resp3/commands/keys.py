"""Keyspace commands: existence, deletion, expiry, renaming, SCAN, flushing, WATCH.

Expiry setters accept ``int`` or ``datetime.timedelta`` (EXPIRE, PEXPIRE) and ``int``
or ``datetime.datetime`` (EXPIREAT, PEXPIREAT; a naive datetime is local time, as in
redis-py). The NX/XX/GT/LT options need Redis 7; the server rejects incompatible
combinations itself.
"""

from __future__ import annotations

from typing import Any

from ._args import (
    AbsExpiry,
    Expiry,
    Key,
    Pattern,
    milliseconds,
    seconds,
    unix_milliseconds,
    unix_seconds,
)
from ._base import IDEMPOTENT, READONLY, Command
from ._decoders import ByteStr, ScanResponse, ok
from ._decoders import scan as _scan_reply

__all__ = [
    "dbsize",
    "delete",
    "exists",
    "expire",
    "expireat",
    "flushall",
    "flushdb",
    "keys",
    "persist",
    "pexpire",
    "pexpireat",
    "pttl",
    "randomkey",
    "rename",
    "renamenx",
    "scan",
    "ttl",
    "type",
    "unlink",
    "unwatch",
    "watch",
]


def exists(*names: Key) -> Command[int]:
    """EXISTS. How many of ``names`` exist (a key named twice counts twice)."""
    return Command((b"EXISTS", *names), None, flags=READONLY)


def delete(*names: Key) -> Command[int]:
    """DEL. How many keys were removed."""
    return Command((b"DEL", *names), None)


def unlink(*names: Key) -> Command[int]:
    """UNLINK: DEL with the memory reclaimed in the background."""
    return Command((b"UNLINK", *names), None)


def _expire_options(nx: bool, xx: bool, gt: bool, lt: bool) -> tuple[bytes, ...]:
    options: tuple[bytes, ...] = ()
    if nx:
        options += (b"NX",)
    if xx:
        options += (b"XX",)
    if gt:
        options += (b"GT",)
    if lt:
        options += (b"LT",)
    return options


def expire(
    name: Key, time: Expiry, nx: bool = False, xx: bool = False, gt: bool = False, lt: bool = False
) -> Command[bool]:
    """EXPIRE in seconds. False if the key does not exist or an option vetoed it."""
    args: tuple[Any, ...] = (b"EXPIRE", name, seconds(time))
    if nx or xx or gt or lt:
        args += _expire_options(nx, xx, gt, lt)
    return Command(args, bool)


def pexpire(
    name: Key, time: Expiry, nx: bool = False, xx: bool = False, gt: bool = False, lt: bool = False
) -> Command[bool]:
    """PEXPIRE in milliseconds."""
    args: tuple[Any, ...] = (b"PEXPIRE", name, milliseconds(time))
    if nx or xx or gt or lt:
        args += _expire_options(nx, xx, gt, lt)
    return Command(args, bool)


def expireat(
    name: Key,
    when: AbsExpiry,
    nx: bool = False,
    xx: bool = False,
    gt: bool = False,
    lt: bool = False,
) -> Command[bool]:
    """EXPIREAT, unix seconds. Without options, re-sending it changes nothing."""
    options = _expire_options(nx, xx, gt, lt)
    return Command(
        (b"EXPIREAT", name, unix_seconds(when), *options), bool, flags=0 if options else IDEMPOTENT
    )


def pexpireat(
    name: Key,
    when: AbsExpiry,
    nx: bool = False,
    xx: bool = False,
    gt: bool = False,
    lt: bool = False,
) -> Command[bool]:
    """PEXPIREAT, unix milliseconds."""
    options = _expire_options(nx, xx, gt, lt)
    return Command(
        (b"PEXPIREAT", name, unix_milliseconds(when), *options),
        bool,
        flags=0 if options else IDEMPOTENT,
    )


def ttl(name: Key) -> Command[int]:
    """TTL in seconds; -1 without expiry, -2 when the key does not exist."""
    return Command((b"TTL", name), None, flags=READONLY)


def pttl(name: Key) -> Command[int]:
    """PTTL in milliseconds; -1 without expiry, -2 when the key does not exist."""
    return Command((b"PTTL", name), None, flags=READONLY)


def persist(name: Key) -> Command[bool]:
    """PERSIST. True if an expiry was removed."""
    return Command((b"PERSIST", name), bool)


def type(name: Key) -> Command[ByteStr]:
    """TYPE: ``b"string"``, ``b"list"``... or ``b"none"``."""
    return Command((b"TYPE", name), None, flags=READONLY)


def rename(src: Key, dst: Key) -> Command[bool]:
    """RENAME. Error "no such key" when ``src`` is missing."""
    return Command((b"RENAME", src, dst), ok)


def renamenx(src: Key, dst: Key) -> Command[bool]:
    """RENAMENX. False when ``dst`` already exists."""
    return Command((b"RENAMENX", src, dst), bool)


def keys(pattern: Pattern = "*") -> Command[list[ByteStr]]:
    """KEYS. Blocks the server while it walks the whole keyspace: prefer ``scan_iter``."""
    return Command((b"KEYS", pattern), None, flags=READONLY)


def scan(
    cursor: int = 0,
    match: Pattern | None = None,
    count: int | None = None,
    _type: str | None = None,
) -> Command[ScanResponse]:
    """SCAN. ``(next_cursor, keys)``; iteration is over when the cursor is 0 again."""
    args: tuple[Any, ...] = (b"SCAN", cursor)
    if match is not None:
        args += (b"MATCH", match)
    if count is not None:
        args += (b"COUNT", count)
    if _type is not None:
        args += (b"TYPE", _type)
    return Command(args, _scan_reply, flags=READONLY)


def randomkey() -> Command[ByteStr | None]:
    """RANDOMKEY. None when the database is empty."""
    return Command((b"RANDOMKEY",), None, flags=READONLY)


def dbsize() -> Command[int]:
    """DBSIZE: the number of keys in the selected database."""
    return Command((b"DBSIZE",), None, flags=READONLY)


def flushdb(asynchronous: bool = False) -> Command[bool]:
    """FLUSHDB [ASYNC]. Deletes every key of the selected database."""
    args = (b"FLUSHDB", b"ASYNC") if asynchronous else (b"FLUSHDB",)
    return Command(args, ok, flags=IDEMPOTENT)


def flushall(asynchronous: bool = False) -> Command[bool]:
    """FLUSHALL [ASYNC]. Deletes every key of every database."""
    args = (b"FLUSHALL", b"ASYNC") if asynchronous else (b"FLUSHALL",)
    return Command(args, ok, flags=IDEMPOTENT)


def watch(*names: Key) -> Command[bool]:
    """WATCH. Only meaningful on the connection that later runs MULTI/EXEC, i.e. in
    a pipeline (which overrides this method); never re-sent on another connection."""
    return Command((b"WATCH", *names), ok)


def unwatch() -> Command[bool]:
    """UNWATCH: forget every watched key of this connection."""
    return Command((b"UNWATCH",), ok)
