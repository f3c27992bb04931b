"""String commands: GET, SET and friends, counters, ranges.

The hottest builders of the driver live here (GET, SET, MGET, INCR): each is one tuple
and one ``Command``; option handling for SET sits behind a single ``is None`` test.

``incr``/``decr`` send INCRBY/DECRBY with ``amount`` (default 1), exactly like
redis-py, whose ``incr`` is an alias of ``incrby``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from ..errors import DataError
from ._args import (
    AbsExpiry,
    Expiry,
    Key,
    Keys,
    Value,
    expiry_args,
    list_or_args,
    milliseconds,
    seconds,
)
from ._base import IDEMPOTENT, READONLY, Command
from ._decoders import ByteStr, ok, ok_or_none

__all__ = [
    "append",
    "decr",
    "decrby",
    "get",
    "getdel",
    "getex",
    "getrange",
    "incr",
    "incrby",
    "incrbyfloat",
    "mget",
    "mset",
    "msetnx",
    "psetex",
    "set",
    "setex",
    "setnx",
    "setrange",
    "strlen",
]

_chain = itertools.chain.from_iterable


def get(name: Key) -> Command[ByteStr | None]:
    """GET. None when the key does not exist; WRONGTYPE error if it is not a string."""
    return Command((b"GET", name), None, flags=READONLY)


def set(
    name: Key,
    value: Value,
    ex: Expiry | None = None,
    px: Expiry | None = None,
    nx: bool = False,
    xx: bool = False,
    keepttl: bool = False,
    get: bool = False,
    exat: AbsExpiry | None = None,
    pxat: AbsExpiry | None = None,
    ifeq: bytes | str | None = None,
    ifne: bytes | str | None = None,
    ifdeq: str | None = None,
    ifdne: str | None = None,
) -> Command[bool | ByteStr | None]:
    """SET. True when set, None when an NX/XX/IF* condition failed; with ``get=True``
    the previous value (or None).

    ``ex``/``px``/``exat``/``pxat``/``keepttl`` are mutually exclusive, and so are
    ``nx``/``xx``/``ifeq``/``ifne``/``ifdeq``/``ifdne`` (DataError before sending).
    The IF* conditions need Redis 8.4; older servers answer with a syntax error.
    """
    if (
        ex is None
        and px is None
        and exat is None
        and pxat is None
        and not (nx or xx or keepttl or get)
        and ifeq is None
        and ifne is None
        and ifdeq is None
        and ifdne is None
    ):
        return Command((b"SET", name, value), ok_or_none, flags=IDEMPOTENT)
    return _set_with_options(
        name, value, ex, px, nx, xx, keepttl, get, exat, pxat, ifeq, ifne, ifdeq, ifdne
    )


def _set_with_options(
    name: Key,
    value: Value,
    ex: Any,
    px: Any,
    nx: bool,
    xx: bool,
    keepttl: bool,
    get: bool,
    exat: Any,
    pxat: Any,
    ifeq: Any,
    ifne: Any,
    ifdeq: Any,
    ifdne: Any,
) -> Command[bool | ByteStr | None]:
    expiries = (ex is not None) + (px is not None) + (exat is not None) + (pxat is not None)
    if expiries + bool(keepttl) > 1:
        raise DataError("SET: ex, px, exat, pxat and keepttl are mutually exclusive")
    args: tuple[Any, ...]
    if ifeq is None and ifne is None and ifdeq is None and ifdne is None:
        if nx and xx:
            raise DataError("SET: nx, xx, ifeq, ifne, ifdeq and ifdne are mutually exclusive")
        conditional = bool(nx or xx)
        if nx:
            args = (b"SET", name, value, b"NX")
        elif xx:
            args = (b"SET", name, value, b"XX")
        else:
            args = (b"SET", name, value)
    else:
        args = _set_condition(name, value, nx, xx, ifeq, ifne, ifdeq, ifdne)
        conditional = True
    if get:
        args += (b"GET",)
    if expiries:
        if type(ex) is int:  # the common case, validated inline
            args += (b"EX", ex)
        else:
            args += expiry_args("SET", ex, px, exat, pxat)
    elif keepttl:
        args += (b"KEEPTTL",)
    # Re-sending is harmless only for an unconditional SET that does not return the
    # old value (the second GET would see the new one).
    flags = 0 if conditional or get else IDEMPOTENT
    return Command(args, None if get else ok_or_none, flags=flags)


def _set_condition(
    name: Key, value: Value, nx: bool, xx: bool, ifeq: Any, ifne: Any, ifdeq: Any, ifdne: Any
) -> tuple[Any, ...]:
    """SET's IFEQ/IFNE/IFDEQ/IFDNE (Redis 8.4), exclusive with each other and NX/XX."""
    if bool(nx) + bool(xx) + _count_set(ifeq, ifne, ifdeq, ifdne) > 1:
        raise DataError("SET: nx, xx, ifeq, ifne, ifdeq and ifdne are mutually exclusive")
    if ifeq is not None:
        return (b"SET", name, value, b"IFEQ", ifeq)
    if ifne is not None:
        return (b"SET", name, value, b"IFNE", ifne)
    if ifdeq is not None:
        return (b"SET", name, value, b"IFDEQ", ifdeq)
    return (b"SET", name, value, b"IFDNE", ifdne)


def _count_set(*options: object) -> int:
    """How many of ``options`` were given (are not None)."""
    return sum(option is not None for option in options)


def getex(
    name: Key,
    ex: Expiry | None = None,
    px: Expiry | None = None,
    exat: AbsExpiry | None = None,
    pxat: AbsExpiry | None = None,
    persist: bool = False,
) -> Command[ByteStr | None]:
    """GETEX (Redis 6.2). The value, and sets or clears the key's expiry.

    ``ex``/``px``/``exat``/``pxat``/``persist`` are mutually exclusive (DataError).
    """
    if _count_set(ex, px, exat, pxat) + bool(persist) > 1:
        raise DataError("GETEX: ex, px, exat, pxat and persist are mutually exclusive")
    args = (b"GETEX", name, *expiry_args("GETEX", ex, px, exat, pxat))
    if persist:
        args += (b"PERSIST",)
    # A relative expiry moves on each call; an absolute one or PERSIST does not.
    flags = 0 if ex is not None or px is not None else IDEMPOTENT
    return Command(args, None, flags=flags)


def getdel(name: Key) -> Command[ByteStr | None]:
    """GETDEL (Redis 6.2). The value, and deletes the key."""
    return Command((b"GETDEL", name), None)


def mget(keys: Keys, *args: Key) -> Command[list[ByteStr | None]]:
    """MGET. ``mget(["a", "b"])`` or ``mget("a", "b")``; None for each missing key.

    Raises DataError when no key is given (redis-py sends the command and turns the
    server's arity error into ``[]``; a builder cannot answer without the server).
    """
    if args or not isinstance(keys, (list, tuple)):
        keys = list_or_args(keys, args)
    if not keys:
        raise DataError("MGET: at least one key is required")
    return Command((b"MGET", *keys), None, flags=READONLY)


def mset(mapping: Mapping[Any, Value]) -> Command[bool]:
    """MSET ``{key: value}``. Always True."""
    return Command((b"MSET", *_chain(mapping.items())), ok, flags=IDEMPOTENT)


def msetnx(mapping: Mapping[Any, Value]) -> Command[bool]:
    """MSETNX. True if every key was set, False if any already existed (none set)."""
    return Command((b"MSETNX", *_chain(mapping.items())), bool)


def incr(name: Key, amount: int = 1) -> Command[int]:
    """INCRBY ``amount`` (redis-py's ``incr``). Error if the value is not an integer."""
    return Command((b"INCRBY", name, amount), None)


def incrby(name: Key, amount: int = 1) -> Command[int]:
    """INCRBY. The new value; error on a non-integer value or on overflow."""
    return Command((b"INCRBY", name, amount), None)


def incrbyfloat(name: Key, amount: float = 1.0) -> Command[float]:
    """INCRBYFLOAT. The new value as float."""
    return Command((b"INCRBYFLOAT", name, amount), float)


def decr(name: Key, amount: int = 1) -> Command[int]:
    """DECRBY ``amount`` (redis-py's ``decr``)."""
    return Command((b"DECRBY", name, amount), None)


def decrby(name: Key, amount: int = 1) -> Command[int]:
    """DECRBY. The new value."""
    return Command((b"DECRBY", name, amount), None)


def append(key: Key, value: Value) -> Command[int]:
    """APPEND. The new length of the string."""
    return Command((b"APPEND", key, value), None)


def strlen(name: Key) -> Command[int]:
    """STRLEN. 0 for a missing key."""
    return Command((b"STRLEN", name), None, flags=READONLY)


def getrange(key: Key, start: int, end: int) -> Command[ByteStr]:
    """GETRANGE, both ends inclusive, negative offsets from the end."""
    return Command((b"GETRANGE", key, start, end), None, flags=READONLY)


def setrange(name: Key, offset: int, value: Value) -> Command[int]:
    """SETRANGE. The new length; pads with zero bytes past the end."""
    return Command((b"SETRANGE", name, offset, value), None, flags=IDEMPOTENT)


def setnx(name: Key, value: Value) -> Command[bool]:
    """SETNX. True if the key was set (it did not exist)."""
    return Command((b"SETNX", name, value), bool)


def setex(name: Key, time: Expiry, value: Value) -> Command[bool]:
    """SETEX. ``time`` in seconds or a timedelta. Always True."""
    return Command((b"SETEX", name, seconds(time), value), bool, flags=IDEMPOTENT)


def psetex(name: Key, time_ms: Expiry, value: Value) -> Command[bool]:
    """PSETEX. ``time_ms`` in milliseconds or a timedelta. Always True."""
    return Command((b"PSETEX", name, milliseconds(time_ms), value), bool, flags=IDEMPOTENT)
